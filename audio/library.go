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

	mu     sync.RWMutex
	index  map[string]entry  // survey \x00 language \x00 key -> the active version
	byText map[string]string // survey \x00 language \x00 words -> file name
	files  fileCache
}

// entry is an active prompt in the index.
type entry struct{ name, words string }

// NewLibrary makes a library whose files are served under
// publicURL + "/audio/". Call Load before use.
func NewLibrary(db *store.DB, publicURL string, log *slog.Logger) *Library {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Library{db: db, baseURL: strings.TrimRight(publicURL, "/"), log: log, index: map[string]entry{}, byText: map[string]string{}}
}

func indexKey(surveyID, lang, key string) string { return surveyID + "\x00" + lang + "\x00" + key }

// sameWords makes sentences comparable: case and spacing aside.
func sameWords(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }

// Load reads the index of active prompts from Postgres.
func (l *Library) Load(ctx context.Context) error {
	prompts, err := l.db.AudioPrompts(ctx)
	if err != nil {
		return err
	}
	index := make(map[string]entry, len(prompts))
	byText := make(map[string]string, len(prompts))
	for _, p := range prompts {
		index[indexKey(p.SurveyID, p.Language, p.Key)] = entry{p.Name, p.Words}
		if p.Words != "" {
			byText[indexKey(p.SurveyID, p.Language, sameWords(p.Words))] = p.Name
		}
	}
	l.mu.Lock()
	l.index, l.byText = index, byText
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
			// Recordings heard back on the phone and never kept.
			if err := l.db.DeleteAudioDrafts(ctx, ""); err != nil && ctx.Err() == nil {
				l.log.Warn("deleting old unkept recordings failed; trying again later", "err", err)
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
	e, ok := l.index[indexKey(surveyID, lang, key)]
	l.mu.RUnlock()
	if !ok {
		return "", false
	}
	return l.URL(e.name), true
}

// Find returns the URL of a recording of text, said under prompt key in a
// survey and language. A recording made for key plays only while its
// words are still the words to say (a survey edited since, or a key said
// with different words, such as "You said: Yes", falls back to speech);
// one recorded with no words known plays for its key whatever the text.
// A recording of the same words under another key (a built-in phrase id
// the engine says under a key of its own) plays too.
func (l *Library) Find(surveyID, lang, key, text string) (string, bool) {
	if l == nil {
		return "", false
	}
	words := sameWords(text)
	l.mu.RLock()
	defer l.mu.RUnlock()
	if e, ok := l.index[indexKey(surveyID, lang, key)]; ok && (e.words == "" || sameWords(e.words) == words) {
		return l.URL(e.name), true
	}
	if name, ok := l.byText[indexKey(surveyID, lang, words)]; ok && words != "" {
		return l.URL(name), true
	}
	return "", false
}

// URL is where Twilio fetches a prompt file.
func (l *Library) URL(name string) string { return l.baseURL + "/audio/" + name }

// Add checks a recorded prompt and makes it the one played for (survey,
// language, key). The error wraps ErrInvalid, with a plain reason, when
// the file cannot be used.
func (l *Library) Add(ctx context.Context, surveyID, lang, key string, data []byte) (store.AudioPrompt, error) {
	p, _, err := l.Save(ctx, store.AudioPrompt{SurveyID: surveyID, Language: lang, Key: key, Status: store.PromptActive}, data)
	return p, err
}

// Save checks a recording and stores it as a new version of its phrase,
// with p's status (default active: played from now on), words and who
// recorded it; what the check measured is kept with it and returned. The
// error wraps ErrInvalid, with a plain reason, when the file cannot be
// used.
func (l *Library) Save(ctx context.Context, p store.AudioPrompt, data []byte) (store.AudioPrompt, Info, error) {
	if strings.TrimSpace(p.Language) == "" || strings.TrimSpace(p.Key) == "" {
		return store.AudioPrompt{}, Info{}, invalid("it needs a language and a phrase")
	}
	info, err := Check(data)
	if err != nil {
		return store.AudioPrompt{}, info, err
	}
	b := make([]byte, 16)
	rand.Read(b)
	p.Name = hex.EncodeToString(b) + "." + info.Format
	p.ContentType, p.DurationMS = info.ContentType, int(info.Duration/time.Millisecond)
	p.PeakDB, p.RMSDB, p.Clipped = info.PeakDB, info.RMSDB, info.Clipped
	if p.Status == "" {
		p.Status = store.PromptActive
	}
	if err := l.db.SaveAudioPrompt(ctx, &p, data); err != nil {
		return store.AudioPrompt{}, info, err
	}
	if p.Status == store.PromptActive {
		l.activate(p)
	}
	return p, info, nil
}

func (l *Library) activate(p store.AudioPrompt) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := indexKey(p.SurveyID, p.Language, p.Key)
	if old, ok := l.index[k]; ok && old.words != "" {
		delete(l.byText, indexKey(p.SurveyID, p.Language, sameWords(old.words)))
	}
	l.index[k] = entry{p.Name, p.Words}
	if p.Words != "" {
		l.byText[indexKey(p.SurveyID, p.Language, sameWords(p.Words))] = p.Name
	}
}

// Approve makes a kept recording (or an earlier version) the one callers
// hear: staff's "use this".
func (l *Library) Approve(ctx context.Context, name, by string) (store.AudioPrompt, error) {
	p, err := l.db.ActivateAudioPrompt(ctx, name, by)
	if err != nil {
		return p, err
	}
	l.activate(p)
	return p, nil
}

// Remove stops playing the prompt for (survey, language, key).
func (l *Library) Remove(ctx context.Context, surveyID, lang, key string) error {
	if err := l.db.RemoveAudioPrompt(ctx, surveyID, lang, key); err != nil {
		return err
	}
	l.mu.Lock()
	k := indexKey(surveyID, lang, key)
	if old, ok := l.index[k]; ok && old.words != "" {
		delete(l.byText, indexKey(surveyID, lang, sameWords(old.words)))
	}
	delete(l.index, k)
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
	f, ok := l.files.get(name)
	if !ok {
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
		f = file{contentType: p.ContentType, created: p.CreatedAt, data: data}
		if p.Status != store.PromptDraft { // a draft may be deleted soon
			l.files.put(name, f)
		}
	}
	w.Header().Set("Content-Type", f.contentType)
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Header().Set("ETag", etag)
	http.ServeContent(w, r, "", f.created, bytes.NewReader(f.data))
}

// fileCacheBytes bounds the prompt files kept in memory: a file never
// changes under its name, so a copy is always right.
const fileCacheBytes = 64 << 20

type file struct {
	contentType string
	created     time.Time
	data        []byte
}

// fileCache keeps recently served prompt files, up to fileCacheBytes.
type fileCache struct {
	mu    sync.Mutex
	files map[string]file
	bytes int
}

func (c *fileCache) get(name string) (file, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f, ok := c.files[name]
	return f, ok
}

func (c *fileCache) put(name string, f file) {
	if len(f.data) > fileCacheBytes/4 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.files == nil {
		c.files = map[string]file{}
	}
	for old, of := range c.files { // room, dropping whatever comes first
		if c.bytes+len(f.data) <= fileCacheBytes {
			break
		}
		delete(c.files, old)
		c.bytes -= len(of.data)
	}
	if _, had := c.files[name]; !had {
		c.files[name] = f
		c.bytes += len(f.data)
	}
}
