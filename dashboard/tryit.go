package dashboard

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/big"
	"mime"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/mux"

	"github.com/haveyoursay/haveyoursay/phonesim"
	"github.com/haveyoursay/haveyoursay/store"
)

// TryItConfig is what the Try-it phone needs: our own Twilio settings, so
// that its webhooks are signed as Twilio's are, and the surveys.
type TryItConfig struct {
	AccountSID string // TWILIO_ACCOUNT_SID
	AuthToken  string // TWILIO_AUTH_TOKEN: signs the webhooks
	// WebhookBase is our own PUBLIC_URL: the URL the signatures cover.
	WebhookBase string
	// ServerURL is where this server can be reached from itself, e.g.
	// http://127.0.0.1:8080. Empty: the address each request to the page
	// arrived on, which is always right for a dev server.
	ServerURL string
	// Number is our number, which the phone texts and calls when a survey
	// has no number of its own. Default phonesim.DefaultOurNumber.
	Number  string
	Catalog *store.Catalog
	// Surveys, if set, lists every survey (store.DB.ListSurveys), so that
	// surveys with no keyword can be called too. Without it the page lists
	// the surveys that have a keyword.
	Surveys func(context.Context) ([]store.SurveySummary, error)
	Log     *slog.Logger
	// CallIdle ends calls left alone this long. Default 15 minutes.
	CallIdle time.Duration
	// MaxCalls bounds the calls kept at once; the oldest is ended to make
	// room. Default 20.
	MaxCalls int
}

// TryIt is the "Try it" page of `haveyoursay dev`: a phone in the browser.
// Texts show as a chat; calls have a keypad, captions, speech and a
// recorder. Everything goes through phonesim, as Twilio would send it, to
// this server's own webhooks over real HTTP: what staff try is what
// members get. Its routes:
//
//	GET  /try                      ServePage
//	POST /try/api/sms              ServeSMS
//	POST /try/api/call             ServeCallStart
//	GET  /try/api/call/{id}        ServeCall
//	POST /try/api/call/{id}/press  ServeCallPress
//	POST /try/api/call/{id}/speak  ServeCallSpeak
//	POST /try/api/call/{id}/silence ServeCallSilence
//	POST /try/api/call/{id}/record ServeCallRecord
//	POST /try/api/call/{id}/hangup ServeCallHangup
//
// The POST routes refuse requests from other websites
// (http.CrossOriginProtection).
type TryIt struct {
	cfg TryItConfig
	cop *http.CrossOriginProtection

	mu    sync.Mutex
	emu   *phonesim.Emulator
	calls map[string]*liveCall
}

type liveCall struct {
	c      *phonesim.Call
	lang   string
	opened time.Time
	used   time.Time
}

// NewTryIt makes the Try-it page.
func NewTryIt(cfg TryItConfig) *TryIt {
	if cfg.Number == "" {
		cfg.Number = phonesim.DefaultOurNumber
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.CallIdle <= 0 {
		cfg.CallIdle = 15 * time.Minute
	}
	if cfg.MaxCalls <= 0 {
		cfg.MaxCalls = 20
	}
	cfg.WebhookBase = strings.TrimRight(cfg.WebhookBase, "/")
	return &TryIt{cfg: cfg, cop: http.NewCrossOriginProtection(), calls: map[string]*liveCall{}}
}

// Close ends the calls still open and stops the emulator's recordings
// server.
func (t *TryIt) Close() error {
	t.mu.Lock()
	calls := t.calls
	t.calls = map[string]*liveCall{}
	emu := t.emu
	t.mu.Unlock()
	for _, lc := range calls {
		lc.c.Hangup()
	}
	if emu == nil {
		return nil
	}
	return emu.Close()
}

// emulator returns the emulator, made on first use: until a request
// arrives, the server's own address may be unknown.
func (t *TryIt) emulator(r *http.Request) (*phonesim.Emulator, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.emu != nil {
		return t.emu, nil
	}
	server := t.cfg.ServerURL
	if server == "" {
		addr, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
		if !ok {
			return nil, errors.New("the server's own address is unknown: set ServerURL")
		}
		server = "http://" + addr.String()
	}
	t.emu = phonesim.New(phonesim.Config{
		AccountSID: t.cfg.AccountSID, AuthToken: t.cfg.AuthToken, WebhookBase: t.cfg.WebhookBase,
		HTTPClient: phonesim.LoopbackClient(t.cfg.WebhookBase, server, 15*time.Second),
		// Recording and transcription callbacks come a moment later, as Twilio's do.
		CallbackDelay: 300 * time.Millisecond,
	})
	return t.emu, nil
}

// ---- the page ----

// surveyChoice is one survey in the page's list.
type surveyChoice struct {
	ID, Title, Keyword, Number, Lang string
}

func (t *TryIt) surveys(ctx context.Context) []surveyChoice {
	seen := map[string]bool{}
	var out []surveyChoice
	add := func(id, title string) {
		if !seen[id] {
			seen[id] = true
			out = append(out, t.describe(id, title))
		}
	}
	for _, k := range t.cfg.Catalog.Keywords() {
		add(k.SurveyID, k.Title)
	}
	if t.cfg.Surveys != nil {
		list, err := t.cfg.Surveys(ctx)
		if err != nil {
			t.cfg.Log.Error("try it: listing surveys", "err", err)
		}
		for _, s := range list {
			add(s.ID, s.Title)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Title < out[j].Title })
	return out
}

// describe fills in a survey's keyword, number and language from the
// catalog; a survey the catalog does not have yet is reached at our number.
func (t *TryIt) describe(id, title string) surveyChoice {
	c := surveyChoice{ID: id, Title: title, Number: t.cfg.Number, Lang: "en-GB"}
	if s, _, ok := t.cfg.Catalog.Current(id); ok {
		if len(s.Keywords) > 0 {
			c.Keyword = s.Keywords[0]
		}
		if len(s.Numbers) > 0 {
			c.Number = s.Numbers[0]
		}
		if s.Language != "" {
			c.Lang = s.Language
		}
		if c.Title == "" {
			c.Title = s.Title
		}
	}
	return c
}

// ServePage answers GET /try: the phone.
func (t *TryIt) ServePage(w http.ResponseWriter, r *http.Request) {
	data := struct {
		Title   string
		Surveys []surveyChoice
		From    string
	}{Title: "Try a survey", Surveys: t.surveys(r.Context()), From: pretendNumber()}
	var buf bytes.Buffer
	if err := pages["try"].ExecuteTemplate(&buf, "layout", data); err != nil {
		t.cfg.Log.Error("try it: rendering the page", "err", err)
		http.Error(w, "Sorry, this page could not be shown.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}

// pretendNumber is a member's number from Ofcom's numbers for drama, so
// nothing the dev server sends can reach a real person.
func pretendNumber() string {
	n, err := rand.Int(rand.Reader, big.NewInt(900))
	if err != nil {
		return "+447700900123"
	}
	return fmt.Sprintf("+447700900%03d", 100+n.Int64())
}

// ---- JSON API ----

type apiError struct {
	Error string    `json:"error"`
	Call  *callView `json:"call,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, apiError{Error: msg})
}

// post checks a POST: same website (CSRF), and reads its JSON body into v
// (nil: no body wanted).
func (t *TryIt) post(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := t.cop.Check(r); err != nil {
		fail(w, http.StatusForbidden, "This request came from another website, so it was refused.")
		return false
	}
	if v == nil {
		return true
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/json" {
		fail(w, http.StatusUnsupportedMediaType, "Send JSON (Content-Type: application/json).")
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		fail(w, http.StatusBadRequest, "The request could not be read: "+err.Error())
		return false
	}
	return true
}

// choice describes the survey the page chose (by id).
func (t *TryIt) choice(id string) surveyChoice { return t.describe(id, "") }

// validFrom accepts a pretend number in E.164 form.
func validFrom(from string) bool {
	if len(from) < 8 || len(from) > 16 || from[0] != '+' {
		return false
	}
	for _, r := range from[1:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

type smsRequest struct {
	Survey string `json:"survey"`
	From   string `json:"from"`
	Body   string `json:"body"`
}

type smsResponse struct {
	MessageSid string   `json:"messageSid"`
	Replies    []string `json:"replies"`
}

// ServeSMS answers POST /try/api/sms {survey, from, body}: the text goes
// to our SMS webhook; the answer holds our replies.
func (t *TryIt) ServeSMS(w http.ResponseWriter, r *http.Request) {
	var req smsRequest
	if !t.post(w, r, &req) {
		return
	}
	if !validFrom(req.From) {
		fail(w, http.StatusBadRequest, "Your pretend phone number should look like +447700900123.")
		return
	}
	if strings.TrimSpace(req.Body) == "" {
		fail(w, http.StatusBadRequest, "Type a text first.")
		return
	}
	if len(req.Body) > 1600 {
		fail(w, http.StatusBadRequest, "That text is too long: Twilio takes at most 1600 characters.")
		return
	}
	to := t.choice(req.Survey).Number
	emu, err := t.emulator(r)
	if err != nil {
		fail(w, http.StatusInternalServerError, err.Error())
		return
	}
	res, err := emu.Text(r.Context(), req.From, to, req.Body)
	if err != nil {
		t.cfg.Log.Warn("try it: text", "err", err)
		fail(w, http.StatusBadGateway, "Our SMS webhook did not answer as Twilio needs: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, smsResponse{MessageSid: res.MessageSid, Replies: append([]string{}, res.Messages...)})
}

// heardItem is one thing the caller heard.
type heardItem struct {
	Say   string `json:"say,omitempty"`
	Play  string `json:"play,omitempty"`  // a URL the browser can load
	Tones string `json:"tones,omitempty"` // keypad tones played
	Dial  string `json:"dial,omitempty"`  // the call was put through to this number
}

type gatherView struct {
	Keys        bool   `json:"keys"`
	Speech      bool   `json:"speech"`
	NumDigits   int    `json:"numDigits"`
	FinishOnKey string `json:"finishOnKey"`
	Timeout     int    `json:"timeout"`
}

type recordView struct {
	MaxSeconds  int    `json:"maxSeconds"`
	FinishOnKey string `json:"finishOnKey"`
}

type callView struct {
	ID      string      `json:"id"`
	Status  string      `json:"status"`
	Waiting string      `json:"waiting"` // gather, record or ended
	Lang    string      `json:"lang"`
	Heard   []heardItem `json:"heard"`
	Gather  *gatherView `json:"gather,omitempty"`
	Record  *recordView `json:"record,omitempty"`
}

func (t *TryIt) view(id string, lc *liveCall) *callView {
	c := lc.c
	v := &callView{ID: id, Status: c.Status(), Waiting: c.Waiting(), Lang: lc.lang, Heard: []heardItem{}}
	if v.Waiting == "" {
		v.Waiting = phonesim.WaitEnded
	}
	for _, h := range c.Heard() {
		v.Heard = append(v.Heard, t.heard(h))
	}
	if g := c.Gather(); g != nil {
		v.Gather = &gatherView{Keys: g.Accepts("dtmf"), Speech: g.Accepts("speech"), NumDigits: g.NumDigits,
			FinishOnKey: g.FinishOnKey, Timeout: g.Timeout}
	}
	if rv := c.RecordVerb(); rv != nil {
		v.Record = &recordView{MaxSeconds: rv.MaxLength, FinishOnKey: rv.FinishOnKey}
	}
	return v
}

// heard turns phonesim's "[play URL]" notation into JSON, with our own
// audio URLs made relative so the browser loads them from this page's
// server (PUBLIC_URL may not be reachable from the browser).
func (t *TryIt) heard(h string) heardItem {
	inner, ok := strings.CutPrefix(h, "[")
	if ok {
		inner, ok = strings.CutSuffix(inner, "]")
	}
	if !ok {
		return heardItem{Say: h}
	}
	kind, arg, _ := strings.Cut(inner, " ")
	switch kind {
	case "play":
		if rel, ok := strings.CutPrefix(arg, t.cfg.WebhookBase); ok && strings.HasPrefix(rel, "/") {
			arg = rel
		}
		return heardItem{Play: arg}
	case "digits":
		return heardItem{Tones: arg}
	case "dial":
		return heardItem{Dial: arg}
	}
	return heardItem{Say: h}
}

type callRequest struct {
	Survey string `json:"survey"`
	From   string `json:"from"`
}

// ServeCallStart answers POST /try/api/call {survey, from}: the phone
// rings our voice webhook; the answer is the call as it waits for the
// caller.
func (t *TryIt) ServeCallStart(w http.ResponseWriter, r *http.Request) {
	var req callRequest
	if !t.post(w, r, &req) {
		return
	}
	if !validFrom(req.From) {
		fail(w, http.StatusBadRequest, "Your pretend phone number should look like +447700900123.")
		return
	}
	s := t.choice(req.Survey)
	to, lang := s.Number, s.Lang
	emu, err := t.emulator(r)
	if err != nil {
		fail(w, http.StatusInternalServerError, err.Error())
		return
	}
	c, err := emu.Call(context.WithoutCancel(r.Context()), req.From, to)
	if c == nil {
		fail(w, http.StatusBadGateway, "Our voice webhook could not be reached: "+err.Error())
		return
	}
	now := time.Now()
	lc := &liveCall{c: c, lang: lang, opened: now, used: now}
	t.mu.Lock()
	t.sweep(now)
	t.calls[c.Sid] = lc
	t.mu.Unlock()
	t.answer(w, c.Sid, lc, err)
}

// sweep ends calls left alone too long, and the oldest ones beyond
// MaxCalls. t.mu is held.
func (t *TryIt) sweep(now time.Time) {
	var ids []string
	for id, lc := range t.calls {
		if now.Sub(lc.used) > t.cfg.CallIdle || lc.c.Waiting() == phonesim.WaitEnded {
			delete(t.calls, id)
			go lc.c.Hangup()
			continue
		}
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return t.calls[ids[i]].opened.Before(t.calls[ids[j]].opened) })
	for len(ids) >= t.cfg.MaxCalls {
		lc := t.calls[ids[0]]
		delete(t.calls, ids[0])
		go lc.c.Hangup()
		ids = ids[1:]
	}
}

// answer writes the call's state, or what went wrong with it.
func (t *TryIt) answer(w http.ResponseWriter, id string, lc *liveCall, err error) {
	v := t.view(id, lc)
	if v.Waiting == phonesim.WaitEnded {
		t.flushLater()
	}
	if err != nil {
		t.cfg.Log.Warn("try it: call", "call", id, "err", err)
		writeJSON(w, http.StatusBadGateway, apiError{Error: "The call went wrong: " + err.Error(), Call: v})
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// flushLater delivers the recording and transcription callbacks of ended
// calls, and logs those that failed (they would be lost otherwise).
func (t *TryIt) flushLater() {
	t.mu.Lock()
	emu := t.emu
	t.mu.Unlock()
	go func() {
		time.Sleep(time.Second)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := emu.FlushCallbacks(ctx); err != nil {
			t.cfg.Log.Warn("try it: a callback after the call failed", "err", err)
		}
	}()
}

// call finds the live call of the request's {id}.
func (t *TryIt) call(w http.ResponseWriter, r *http.Request) (string, *liveCall, bool) {
	id := mux.Vars(r)["id"]
	if id == "" {
		id = r.PathValue("id")
	}
	t.mu.Lock()
	lc := t.calls[id]
	if lc != nil {
		lc.used = time.Now()
	}
	t.mu.Unlock()
	if lc == nil {
		fail(w, http.StatusNotFound, "That call has ended. Start a new call.")
		return "", nil, false
	}
	return id, lc, true
}

// act runs one thing the caller does and answers the call's new state. A
// step the call is not waiting for is the caller's mistake (409).
func (t *TryIt) act(w http.ResponseWriter, id string, lc *liveCall, do func(c *phonesim.Call) error) {
	err := do(lc.c)
	if errors.Is(err, phonesim.ErrNotWaiting) {
		writeJSON(w, http.StatusConflict, apiError{Error: "The phone is not waiting for that now.", Call: t.view(id, lc)})
		return
	}
	t.answer(w, id, lc, err)
}

// ServeCall answers GET /try/api/call/{id}: the call's state.
func (t *TryIt) ServeCall(w http.ResponseWriter, r *http.Request) {
	if id, lc, ok := t.call(w, r); ok {
		writeJSON(w, http.StatusOK, t.view(id, lc))
	}
}

// ServeCallPress answers POST /try/api/call/{id}/press {digits}: keypad
// presses, e.g. "1" or "12#".
func (t *TryIt) ServeCallPress(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Digits string `json:"digits"`
	}
	if !t.post(w, r, &req) {
		return
	}
	id, lc, ok := t.call(w, r)
	if !ok {
		return
	}
	if req.Digits == "" || len(req.Digits) > 32 || strings.Trim(req.Digits, "0123456789*#") != "" {
		fail(w, http.StatusBadRequest, "Press the keys 0 to 9, * or #.")
		return
	}
	if g := lc.c.Gather(); g != nil && !g.Accepts("dtmf") {
		fail(w, http.StatusConflict, "This question listens for words only. Type what you would say.")
		return
	}
	t.act(w, id, lc, func(c *phonesim.Call) error { return c.Press(req.Digits) })
}

// ServeCallSpeak answers POST /try/api/call/{id}/speak {text}: words said
// to a question that listens for speech, as Twilio's recognition result.
func (t *TryIt) ServeCallSpeak(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Text string `json:"text"`
	}
	if !t.post(w, r, &req) {
		return
	}
	id, lc, ok := t.call(w, r)
	if !ok {
		return
	}
	if strings.TrimSpace(req.Text) == "" {
		fail(w, http.StatusBadRequest, "Type what you would say first.")
		return
	}
	if g := lc.c.Gather(); g != nil && !g.Accepts("speech") {
		fail(w, http.StatusConflict, "This question listens for key presses only. Use the keypad.")
		return
	}
	t.act(w, id, lc, func(c *phonesim.Call) error { return c.Speak(req.Text, 0.9) })
}

// ServeCallSilence answers POST /try/api/call/{id}/silence: the caller
// says nothing until the phone stops waiting.
func (t *TryIt) ServeCallSilence(w http.ResponseWriter, r *http.Request) {
	if !t.post(w, r, nil) {
		return
	}
	if id, lc, ok := t.call(w, r); ok {
		t.act(w, id, lc, (*phonesim.Call).Silence)
	}
}

// ServeCallHangup answers POST /try/api/call/{id}/hangup.
func (t *TryIt) ServeCallHangup(w http.ResponseWriter, r *http.Request) {
	if !t.post(w, r, nil) {
		return
	}
	id, lc, ok := t.call(w, r)
	if !ok {
		return
	}
	err := lc.c.Hangup()
	t.mu.Lock()
	delete(t.calls, id)
	t.mu.Unlock()
	t.answer(w, id, lc, err)
}

// ServeCallRecord answers POST /try/api/call/{id}/record: what the caller
// says while the phone records. Either JSON {text} (typed words stand in
// for a voice) or multipart/form-data with "audio" (a WAV file, from the
// microphone) and "text" (what was said, for the transcription).
func (t *TryIt) ServeCallRecord(w http.ResponseWriter, r *http.Request) {
	if err := t.cop.Check(r); err != nil {
		fail(w, http.StatusForbidden, "This request came from another website, so it was refused.")
		return
	}
	var text string
	var wav []byte
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "multipart/form-data":
		r.Body = http.MaxBytesReader(w, r.Body, phonesim.MaxWAVBytes+1<<20)
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			fail(w, http.StatusBadRequest, "The recording could not be read. It may be too long: at most 10 minutes.")
			return
		}
		defer r.MultipartForm.RemoveAll()
		text = r.FormValue("text")
		if f, _, err := r.FormFile("audio"); err == nil {
			wav, err = io.ReadAll(f)
			f.Close()
			if err != nil {
				fail(w, http.StatusBadRequest, "The recording could not be read.")
				return
			}
		}
	default:
		var req struct {
			Text string `json:"text"`
		}
		if !t.post(w, r, &req) {
			return
		}
		text = req.Text
	}
	id, lc, ok := t.call(w, r)
	if !ok {
		return
	}
	text = strings.TrimSpace(text)
	if wav != nil {
		if _, err := phonesim.WAVDuration(wav); err != nil {
			fail(w, http.StatusBadRequest, "The recording is not a WAV file, so it could not be used.")
			return
		}
	}
	t.act(w, id, lc, func(c *phonesim.Call) error {
		switch {
		case wav != nil:
			return c.RecordWAV(wav, text)
		case text != "":
			return c.Record(speakingSeconds(text), text)
		default:
			return c.Silence()
		}
	})
}

// speakingSeconds is how long saying text takes, at an easy pace.
func speakingSeconds(text string) int {
	return max(1, int(math.Ceil(float64(len(strings.Fields(text)))/2.5)))
}
