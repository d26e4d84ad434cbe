// Package audio is the prompt library: recorded prompts per survey,
// language and prompt key, checked (format, length, not silent), kept in
// Postgres and served to Twilio's <Play> at GET /audio/{name} with an
// unguessable name and long cache headers. When no recording exists the
// voice side speaks the text instead.
package audio

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/haveyoursay/haveyoursay/store"
)

// Library finds and serves recorded prompts. Lookups are answered from
// memory (a voice webhook must not wait for Postgres); Load and Run keep
// that index fresh.
type Library struct {
	db      *store.DB
	baseURL string
	log     *slog.Logger

	mu    sync.RWMutex
	index map[string]string // survey \x00 language \x00 key -> file name
}

// NewLibrary makes a library whose files are served under
// publicURL + "/audio/". Call Load before use.
func NewLibrary(db *store.DB, publicURL string, log *slog.Logger) *Library {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Library{db: db, baseURL: strings.TrimRight(publicURL, "/"), log: log, index: map[string]string{}}
}

func indexKey(surveyID, lang, key string) string { return surveyID + "\x00" + lang + "\x00" + key }

// Load reads the index of current prompts from Postgres.
func (l *Library) Load(ctx context.Context) error {
	prompts, err := l.db.AudioPrompts(ctx)
	if err != nil {
		return err
	}
	index := make(map[string]string, len(prompts))
	for _, p := range prompts {
		index[indexKey(p.SurveyID, p.Language, p.Key)] = p.Name
	}
	l.mu.Lock()
	l.index = index
	l.mu.Unlock()
	return nil
}

// Run reloads the index every interval until ctx ends, so prompts added
// on another server are played here too.
func (l *Library) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := l.Load(ctx); err != nil && ctx.Err() == nil {
				l.log.Warn("reloading the audio prompt index failed; keeping the old one", "err", err)
			}
		}
	}
}

// Lookup returns the URL of the recorded prompt for a survey ("" for the
// whole service), language and prompt key, if there is one.
func (l *Library) Lookup(surveyID, lang, key string) (string, bool) {
	if l == nil {
		return "", false
	}
	l.mu.RLock()
	name, ok := l.index[indexKey(surveyID, lang, key)]
	l.mu.RUnlock()
	if !ok {
		return "", false
	}
	return l.baseURL + "/audio/" + name, true
}

// Add checks a recorded prompt and makes it the one played for (survey,
// language, key). The error wraps ErrInvalid, with a plain reason, when
// the file cannot be used.
func (l *Library) Add(ctx context.Context, surveyID, lang, key string, data []byte) (store.AudioPrompt, error) {
	if strings.TrimSpace(lang) == "" || strings.TrimSpace(key) == "" {
		return store.AudioPrompt{}, invalid("it needs a language and a prompt key")
	}
	info, err := Check(data)
	if err != nil {
		return store.AudioPrompt{}, err
	}
	b := make([]byte, 16)
	rand.Read(b)
	p := store.AudioPrompt{Name: hex.EncodeToString(b) + "." + info.Format, SurveyID: surveyID, Language: lang, Key: key,
		ContentType: info.ContentType, DurationMS: int(info.Duration / time.Millisecond)}
	if err := l.db.SaveAudioPrompt(ctx, p, data); err != nil {
		return store.AudioPrompt{}, err
	}
	l.mu.Lock()
	l.index[indexKey(surveyID, lang, key)] = p.Name
	l.mu.Unlock()
	return p, nil
}

// Remove stops playing the prompt for (survey, language, key).
func (l *Library) Remove(ctx context.Context, surveyID, lang, key string) error {
	if err := l.db.RemoveAudioPrompt(ctx, surveyID, lang, key); err != nil {
		return err
	}
	l.mu.Lock()
	delete(l.index, indexKey(surveyID, lang, key))
	l.mu.Unlock()
	return nil
}

var fileName = regexp.MustCompile(`^[0-9a-f]{32}\.(wav|mp3)$`)

// ServeHTTP answers GET /audio/{name}: the file, cached for a year (a
// changed prompt gets a new name), or 404.
func (l *Library) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "Only GET and HEAD are answered here.", http.StatusMethodNotAllowed)
		return
	}
	name := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
	if !fileName.MatchString(name) {
		http.Error(w, "There is no audio file with this name.", http.StatusNotFound)
		return
	}
	etag := `"` + name + `"`
	if r.Header.Get("If-None-Match") == etag {
		w.Header().Set("ETag", etag)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	p, data, err := l.db.AudioFile(r.Context(), name)
	if errors.Is(err, store.ErrNotFound) {
		http.Error(w, "There is no audio file with this name.", http.StatusNotFound)
		return
	}
	if err != nil {
		l.log.Error("reading an audio prompt failed", "name", name, "err", err)
		http.Error(w, "The audio file cannot be read just now. Please try again.", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", p.ContentType)
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Header().Set("ETag", etag)
	http.ServeContent(w, r, "", p.CreatedAt, bytes.NewReader(data))
}
