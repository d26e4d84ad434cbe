package phonesim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Waiting states of a call.
const (
	WaitGather = "gather"
	WaitRecord = "record"
	WaitEnded  = "ended"
)

// Event is one entry of a call's history.
type Event struct {
	At     time.Time
	Kind   string // request, say, play, digits, pause, gather, record, redirect, dial, hangup, reject, input, status
	Text   string // what was said, the input given, the dialled number...
	URL    string // for request, play, redirect, status
	Method string // for request
	Params url.Values
	Status int // HTTP status of a request
}

// GatherVerb is an active <Gather>, Twilio's defaults filled in.
type GatherVerb struct {
	Action                string // absolute; default the document URL
	Method                string // default POST
	Timeout               int    // default 5
	SpeechTimeout         string // default: the timeout
	NumDigits             int    // 0: unlimited
	FinishOnKey           string // default "#"
	Input                 []string
	Hints                 string
	Language              string // default en-US
	ActionOnEmptyResult   bool
	PartialResultCallback string
	ProfanityFilter       bool // default true
	SpeechModel           string
	Enhanced              bool
}

// Accepts reports whether the gather accepts input kind "dtmf" or "speech".
func (g *GatherVerb) Accepts(kind string) bool {
	for _, k := range g.Input {
		if k == kind {
			return true
		}
	}
	return false
}

// RecordVerb is an active <Record>, Twilio's defaults filled in.
type RecordVerb struct {
	Action                        string // absolute; default the document URL
	Method                        string // default POST
	Timeout                       int    // default 5
	FinishOnKey                   string // default "1234567890*#"
	MaxLength                     int    // default 3600
	PlayBeep                      bool   // default true
	Trim                          string // default trim-silence
	RecordingStatusCallback       string // absolute, "" if none
	RecordingStatusCallbackMethod string // default POST
	RecordingStatusCallbackEvent  []string
	Transcribe                    bool
	TranscribeCallback            string // absolute, "" if none
	RecordingChannels             string
}

// Call is an inbound call in progress. Its methods are safe for concurrent
// use but are meant to be called in turn, like a person on the phone.
type Call struct {
	e *Emulator

	Sid, From, To string

	mu       sync.Mutex
	started  time.Time
	answered bool
	docURL   string
	verbs    []*node // the rest of the current document
	heard    []string
	waiting  string
	gather   *GatherVerb
	record   *RecordVerb
	dialed   []string
	status   string
	events   []Event
	audio    []byte // the WAV the next recording serves (RecordWAV)
}

// maxDocuments bounds the documents fetched in one step (Redirect loops).
const maxDocuments = 50

// Call places an inbound call from the member's number `from` to our number
// `to`: it posts the incoming-call webhook and follows the TwiML until the
// call waits for input or ends. The Call is returned even with an error
// (when some step failed), unless the first request could not be made.
func (e *Emulator) Call(ctx context.Context, from, to string) (*Call, error) {
	return e.CallWithSid(ctx, NewSID("CA"), from, to)
}

// CallWithSid is Call with a given CallSid.
func (e *Emulator) CallWithSid(ctx context.Context, callSid, from, to string) (*Call, error) {
	c := &Call{e: e, Sid: callSid, From: from, To: to, started: e.now(), status: "ringing"}
	c.mu.Lock()
	defer c.mu.Unlock()
	err := c.fetchAndRun(ctx, "POST", e.URL(e.cfg.VoicePath), nil)
	return c, err
}

func (c *Call) event(ev Event) {
	ev.At = c.e.now()
	c.events = append(c.events, ev)
}

// params returns the parameters Twilio sends with every voice request.
func (c *Call) params() url.Values {
	f := url.Values{
		"AccountSid":    {c.e.cfg.AccountSID},
		"ApiVersion":    {"2010-04-01"},
		"CallSid":       {c.Sid},
		"CallStatus":    {c.status},
		"Direction":     {"inbound"},
		"From":          {c.From},
		"Caller":        {c.From},
		"To":            {c.To},
		"Called":        {c.To},
		"FromCountry":   {countryOf(c.From)},
		"CallerCountry": {countryOf(c.From)},
		"ToCountry":     {countryOf(c.To)},
		"CalledCountry": {countryOf(c.To)},
	}
	for _, p := range []string{"From", "Caller", "To", "Called"} {
		f[p+"City"] = []string{""}
		f[p+"State"] = []string{""}
		f[p+"Zip"] = []string{""}
	}
	return f
}

// fetchAndRun requests a TwiML document and runs it.
func (c *Call) fetchAndRun(ctx context.Context, method, target string, extra url.Values) error {
	for range maxDocuments {
		root, err := c.fetch(ctx, method, target, extra)
		if err != nil {
			return err
		}
		if c.status == "ringing" && (len(root.Children) == 0 || root.Children[0].Name != "Reject") {
			// Any answer but a leading <Reject> picks up the call.
			c.status = "in-progress"
			c.answered = true
		}
		c.docURL = target
		c.verbs = root.Children
		next, err := c.run(ctx)
		if err != nil || next == nil {
			return err
		}
		method, target, extra = next.method, next.url, nil
	}
	return fmt.Errorf("phonesim: more than %d TwiML documents in one step (a <Redirect> loop?)", maxDocuments)
}

type redirect struct{ method, url string }

func (c *Call) fetch(ctx context.Context, method, target string, extra url.Values) (*node, error) {
	p := c.params()
	for k, v := range extra {
		p[k] = v
	}
	if method == "" {
		method = "POST"
	}
	resp, err := c.e.send(ctx, method, target, p, c.e.cfg.AuthToken)
	ev := Event{Kind: "request", Method: method, URL: target, Params: p}
	if err != nil {
		c.event(ev)
		return nil, fmt.Errorf("phonesim: call %s: %w", c.Sid, err)
	}
	ev.Status = resp.StatusCode
	c.event(ev)
	if err := checkTwiMLResponse(target, resp); err != nil {
		return nil, err
	}
	if strings.TrimSpace(string(resp.Body)) == "" {
		return nil, fmt.Errorf("phonesim: %s answered an empty body; Twilio needs TwiML (error 12100)", target)
	}
	root, err := parseVoice(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("phonesim: TwiML from %s: %w", target, err)
	}
	return root, nil
}

func (c *Call) resolve(ref string) (string, error) {
	ref = strings.TrimSpace(ref)
	base, err := url.Parse(c.docURL)
	if err != nil {
		return "", err
	}
	u, err := url.Parse(ref)
	if err != nil {
		return "", fmt.Errorf("phonesim: bad URL %q: %w", ref, err)
	}
	return base.ResolveReference(u).String(), nil
}

// run executes verbs until the call waits for input, ends, or redirects.
func (c *Call) run(ctx context.Context) (*redirect, error) {
	for len(c.verbs) > 0 {
		v := c.verbs[0]
		c.verbs = c.verbs[1:]
		switch v.Name {
		case "Say", "Play", "Pause":
			if err := c.hear(ctx, v); err != nil {
				return nil, err
			}
		case "Gather":
			g, err := c.gatherVerb(v)
			if err != nil {
				return nil, err
			}
			for _, child := range v.Children {
				if err := c.hear(ctx, child); err != nil {
					return nil, err
				}
			}
			c.gather, c.record, c.waiting = g, nil, WaitGather
			c.event(Event{Kind: "gather", URL: g.Action, Text: strings.Join(g.Input, " ")})
			return nil, nil
		case "Record":
			r, err := c.recordVerb(v)
			if err != nil {
				return nil, err
			}
			c.gather, c.record, c.waiting = nil, r, WaitRecord
			c.event(Event{Kind: "record", URL: r.Action})
			return nil, nil
		case "Redirect":
			u, err := c.resolve(v.Text)
			if err != nil {
				return nil, err
			}
			m := v.Attrs["method"]
			if m == "" {
				m = "POST"
			}
			c.event(Event{Kind: "redirect", URL: u, Method: m})
			return &redirect{method: m, url: u}, nil
		case "Hangup":
			c.event(Event{Kind: "hangup"})
			return nil, c.end(ctx, "completed")
		case "Reject":
			c.event(Event{Kind: "reject", Text: v.Attrs["reason"]})
			status := "no-answer"
			if v.Attrs["reason"] == "busy" {
				status = "busy"
			}
			return nil, c.end(ctx, status)
		case "Dial":
			numbers := []string{strings.TrimSpace(v.Text)}
			if len(v.Children) > 0 {
				numbers = numbers[:0]
				for _, n := range v.Children {
					numbers = append(numbers, strings.TrimSpace(n.Text))
				}
			}
			for _, n := range numbers {
				c.dialed = append(c.dialed, n)
				c.heard = append(c.heard, "[dial "+n+"]")
				c.event(Event{Kind: "dial", Text: n})
			}
			return nil, c.end(ctx, "completed")
		default:
			return nil, fmt.Errorf("phonesim: unsupported verb <%s>", v.Name)
		}
	}
	// The end of the document hangs up.
	c.event(Event{Kind: "hangup", Text: "end of document"})
	return nil, c.end(ctx, "completed")
}

// hear performs Say, Play and Pause.
func (c *Call) hear(ctx context.Context, v *node) error {
	loop := 1
	if l, ok := v.Attrs["loop"]; ok {
		n, _ := strconv.Atoi(l)
		if n > 1 {
			loop = min(n, 10)
		}
	}
	switch v.Name {
	case "Say":
		text := v.allText()
		for range loop {
			c.heard = append(c.heard, text)
			c.event(Event{Kind: "say", Text: text, Params: url.Values{"language": {v.Attrs["language"]}}})
		}
	case "Play":
		if d, ok := v.Attrs["digits"]; ok {
			c.heard = append(c.heard, "[digits "+d+"]")
			c.event(Event{Kind: "digits", Text: d})
		}
		if strings.TrimSpace(v.Text) == "" {
			return nil
		}
		u, err := c.resolve(v.Text)
		if err != nil {
			return err
		}
		if err := c.e.checkAudio(ctx, u); err != nil {
			c.event(Event{Kind: "play", URL: u, Text: err.Error()})
			return err
		}
		for range loop {
			c.heard = append(c.heard, "[play "+u+"]")
			c.event(Event{Kind: "play", URL: u})
		}
	case "Pause":
		c.event(Event{Kind: "pause", Text: v.Attrs["length"]})
	}
	return nil
}

// checkAudio fetches a <Play> URL as Twilio would and checks it is audio.
func (e *Emulator) checkAudio(ctx context.Context, u string) error {
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "TwilioProxy/1.1")
	resp, err := e.client.Do(req)
	if err != nil {
		return fmt.Errorf("phonesim: <Play> %s: %w", u, err)
	}
	defer resp.Body.Close()
	n, _ := io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<20))
	if resp.StatusCode != 200 {
		return fmt.Errorf("phonesim: <Play> %s answered %d (Twilio error 11100/11200)", u, resp.StatusCode)
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if !strings.HasPrefix(mt, "audio/") {
		return fmt.Errorf("phonesim: <Play> %s has Content-Type %q, not audio/* (Twilio error 12300)", u, resp.Header.Get("Content-Type"))
	}
	if n == 0 {
		return fmt.Errorf("phonesim: <Play> %s is empty", u)
	}
	return nil
}

func (c *Call) gatherVerb(v *node) (*GatherVerb, error) {
	a := v.Attrs
	g := &GatherVerb{Method: "POST", Timeout: 5, FinishOnKey: "#", Input: []string{"dtmf"}, Language: "en-US", ProfanityFilter: true}
	g.Action = c.docURL
	if s := a["action"]; s != "" {
		u, err := c.resolve(s)
		if err != nil {
			return nil, err
		}
		g.Action = u
	}
	if s := a["method"]; s != "" {
		g.Method = s
	}
	if s, ok := a["timeout"]; ok {
		g.Timeout, _ = strconv.Atoi(s)
	}
	g.SpeechTimeout = a["speechTimeout"]
	if g.SpeechTimeout == "" {
		g.SpeechTimeout = strconv.Itoa(g.Timeout)
	}
	if s, ok := a["numDigits"]; ok {
		g.NumDigits, _ = strconv.Atoi(s)
	}
	if s, ok := a["finishOnKey"]; ok {
		g.FinishOnKey = s
	}
	if s := a["input"]; s != "" {
		g.Input = strings.Fields(s)
	}
	g.Hints = a["hints"]
	if s := a["language"]; s != "" {
		g.Language = s
	}
	g.ActionOnEmptyResult = a["actionOnEmptyResult"] == "true"
	if s := a["partialResultCallback"]; s != "" {
		u, err := c.resolve(s)
		if err != nil {
			return nil, err
		}
		g.PartialResultCallback = u
	}
	if a["profanityFilter"] == "false" {
		g.ProfanityFilter = false
	}
	g.SpeechModel = a["speechModel"]
	g.Enhanced = a["enhanced"] == "true"
	return g, nil
}

func (c *Call) recordVerb(v *node) (*RecordVerb, error) {
	a := v.Attrs
	r := &RecordVerb{Method: "POST", Timeout: 5, FinishOnKey: "1234567890*#", MaxLength: 3600, PlayBeep: true,
		Trim: "trim-silence", RecordingStatusCallbackMethod: "POST", RecordingStatusCallbackEvent: []string{"completed"},
		RecordingChannels: "mono"}
	r.Action = c.docURL
	var err error
	resolve := func(s string) string {
		if s == "" || err != nil {
			return ""
		}
		var u string
		u, err = c.resolve(s)
		return u
	}
	if s := resolve(a["action"]); s != "" {
		r.Action = s
	}
	if s := a["method"]; s != "" {
		r.Method = s
	}
	if s, ok := a["timeout"]; ok {
		r.Timeout, _ = strconv.Atoi(s)
	}
	if s, ok := a["finishOnKey"]; ok {
		r.FinishOnKey = s
	}
	if s, ok := a["maxLength"]; ok {
		r.MaxLength, _ = strconv.Atoi(s)
	}
	r.PlayBeep = a["playBeep"] != "false"
	if s := a["trim"]; s != "" {
		r.Trim = s
	}
	r.RecordingStatusCallback = resolve(a["recordingStatusCallback"])
	if s := a["recordingStatusCallbackMethod"]; s != "" {
		r.RecordingStatusCallbackMethod = s
	}
	if s := a["recordingStatusCallbackEvent"]; s != "" {
		r.RecordingStatusCallbackEvent = strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' })
	}
	r.TranscribeCallback = resolve(a["transcribeCallback"])
	r.Transcribe = a["transcribe"] == "true" || (r.TranscribeCallback != "" && a["transcribe"] != "false")
	if s := a["recordingChannels"]; s != "" {
		r.RecordingChannels = s
	}
	return r, err
}

// end finishes the call and posts the call status callback.
func (c *Call) end(ctx context.Context, status string) error {
	c.waiting, c.gather, c.record, c.verbs = WaitEnded, nil, nil, nil
	c.status = status
	dur := 0
	if c.answered {
		dur = int(c.e.now().Sub(c.started).Round(time.Second) / time.Second)
	}
	p := c.params()
	p.Set("CallDuration", strconv.Itoa(dur))
	p.Set("Duration", strconv.Itoa((dur+59)/60))
	p.Set("Timestamp", c.e.now().UTC().Format(time.RFC1123Z))
	p.Set("CallbackSource", "call-progress-events")
	p.Set("SequenceNumber", "0")
	target := c.e.URL(c.e.cfg.VoiceStatusPath)
	resp, err := c.e.send(ctx, "POST", target, p, c.e.cfg.AuthToken)
	ev := Event{Kind: "status", Text: status, URL: target, Method: "POST", Params: p}
	if err != nil {
		c.event(ev)
		return fmt.Errorf("phonesim: call status callback: %w", err)
	}
	ev.Status = resp.StatusCode
	c.event(ev)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &StatusError{URL: target, StatusCode: resp.StatusCode, Body: string(resp.Body)}
	}
	return nil
}

// ---- the caller's side ----

// Heard returns what the caller heard since their last input, in order:
// spoken text (SSML text included), "[play URL]" for audio, "[digits D]"
// for played tones, "[dial N]" for dialled numbers.
func (c *Call) Heard() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.heard...)
}

// Waiting returns what the call waits for: WaitGather, WaitRecord or WaitEnded.
func (c *Call) Waiting() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.waiting
}

// Status returns Twilio's status of the call: ringing, in-progress,
// completed, busy, no-answer.
func (c *Call) Status() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status
}

// Gather returns a copy of the active <Gather>, or nil.
func (c *Call) Gather() *GatherVerb {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gather == nil {
		return nil
	}
	g := *c.gather
	g.Input = append([]string(nil), g.Input...)
	return &g
}

// RecordVerb returns a copy of the active <Record>, or nil.
func (c *Call) RecordVerb() *RecordVerb {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.record == nil {
		return nil
	}
	r := *c.record
	return &r
}

// Dialed returns the numbers the call was <Dial>ed to.
func (c *Call) Dialed() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.dialed...)
}

// DocumentURL returns the URL of the TwiML document being executed.
func (c *Call) DocumentURL() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.docURL
}

// Transcript returns the call's whole history.
func (c *Call) Transcript() []Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Event(nil), c.events...)
}

// ErrNotWaiting is returned for input the call is not waiting for.
var ErrNotWaiting = errors.New("phonesim: the call is not waiting for this input")

func (c *Call) input(want string) error {
	if c.waiting != want {
		return fmt.Errorf("%w: waiting for %q, not %q", ErrNotWaiting, c.waiting, want)
	}
	c.heard = nil
	return nil
}

// Press enters digits on the keypad during a <Gather>. As Twilio does, the
// gather's finishOnKey ends the input and is not sent (Press("12#") sends
// Digits=12), numDigits stops it early, and an empty result (Press("#"))
// counts as no input (see Silence).
func (c *Call) Press(digits string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	ctx := context.Background()
	if err := c.input(WaitGather); err != nil {
		return err
	}
	g := c.gather
	if !g.Accepts("dtmf") {
		return fmt.Errorf("phonesim: this <Gather> has input=%q: keypad presses are ignored", strings.Join(g.Input, " "))
	}
	for _, r := range digits {
		if !strings.ContainsRune("0123456789*#", r) {
			return fmt.Errorf("phonesim: %q is not a keypad key", r)
		}
	}
	c.event(Event{Kind: "input", Text: "press " + digits})
	d := digits
	if g.FinishOnKey != "" {
		if i := strings.Index(d, g.FinishOnKey); i >= 0 {
			d = d[:i]
		}
	}
	if g.NumDigits > 0 && len(d) > g.NumDigits {
		d = d[:g.NumDigits]
	}
	if d == "" {
		return c.noInput(ctx)
	}
	return c.submitGather(ctx, url.Values{"Digits": {d}})
}

// Speak answers a <Gather> that accepts speech, with Twilio's recognition
// result text and confidence (0..1).
func (c *Call) Speak(text string, confidence float64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	ctx := context.Background()
	if err := c.input(WaitGather); err != nil {
		return err
	}
	if !c.gather.Accepts("speech") {
		return fmt.Errorf("phonesim: this <Gather> has input=%q: speech is ignored", strings.Join(c.gather.Input, " "))
	}
	c.event(Event{Kind: "input", Text: "speak " + text})
	if strings.TrimSpace(text) == "" {
		return c.noInput(ctx)
	}
	return c.submitGather(ctx, url.Values{
		"SpeechResult": {text},
		"Confidence":   {strconv.FormatFloat(confidence, 'f', -1, 64)},
		"Language":     {c.gather.Language},
	})
}

// Silence lets the <Gather> or <Record> time out with no input. A gather
// with actionOnEmptyResult="true" posts to its action without Digits;
// otherwise, as Twilio does, the call continues with the verb after the
// gather. A record with no sound is an empty recording (see Record).
func (c *Call) Silence() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	ctx := context.Background()
	switch c.waiting {
	case WaitGather:
		c.heard = nil
		c.event(Event{Kind: "input", Text: "silence"})
		return c.noInput(ctx)
	case WaitRecord:
		c.heard = nil
		c.event(Event{Kind: "input", Text: "silence"})
		return c.recordDone(ctx, 0, "", "")
	}
	return fmt.Errorf("%w: waiting for %q", ErrNotWaiting, c.waiting)
}

func (c *Call) noInput(ctx context.Context) error {
	g := c.gather
	c.gather = nil
	if g.ActionOnEmptyResult {
		return c.fetchAndRun(ctx, g.Method, g.Action, nil)
	}
	return c.continueDocument(ctx)
}

// continueDocument runs the rest of the current document.
func (c *Call) continueDocument(ctx context.Context) error {
	c.waiting = ""
	next, err := c.run(ctx)
	if err != nil || next == nil {
		return err
	}
	return c.fetchAndRun(ctx, next.method, next.url, nil)
}

func (c *Call) submitGather(ctx context.Context, extra url.Values) error {
	g := c.gather
	c.gather, c.waiting = nil, ""
	return c.fetchAndRun(ctx, g.Method, g.Action, extra)
}

// Record speaks for seconds into an active <Record> and then presses the
// finish key ("#" if it is one, else the first of finishOnKey; no key if
// finishOnKey is empty and the recording ends by timeout). Twilio posts the
// recording to the action; the recording-status and transcription callbacks
// are queued (see FlushCallbacks). transcript is the text the transcription
// returns. A recording of 0 seconds is empty: the action is skipped and the
// call continues with the next verb.
func (c *Call) Record(seconds int, transcript string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.input(WaitRecord); err != nil {
		return err
	}
	key := ""
	if fk := c.record.FinishOnKey; strings.Contains(fk, "#") {
		key = "#"
	} else if fk != "" {
		key = fk[:1]
	}
	c.event(Event{Kind: "input", Text: fmt.Sprintf("record %ds: %s", seconds, transcript)})
	return c.recordDone(context.Background(), seconds, transcript, key)
}

// RecordAndHangUp speaks for seconds into an active <Record> and hangs up:
// Twilio posts the recording to the action with Digits=hangup (ignoring the
// TwiML answered) and ends the call.
func (c *Call) RecordAndHangUp(seconds int, transcript string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.input(WaitRecord); err != nil {
		return err
	}
	c.event(Event{Kind: "input", Text: fmt.Sprintf("record %ds and hang up: %s", seconds, transcript)})
	return c.recordDone(context.Background(), seconds, transcript, "hangup")
}

func (c *Call) recordDone(ctx context.Context, seconds int, transcript, digits string) error {
	r := c.record
	c.record, c.waiting = nil, ""
	audio := c.audio
	c.audio = nil
	if seconds > r.MaxLength {
		seconds = r.MaxLength
	}
	if seconds <= 0 {
		if r.RecordingStatusCallback != "" && hasEvent(r.RecordingStatusCallbackEvent, "absent") {
			p := url.Values{
				"AccountSid": {c.e.cfg.AccountSID}, "CallSid": {c.Sid}, "RecordingSid": {NewSID("RE")},
				"RecordingStatus": {"absent"}, "RecordingDuration": {"0"}, "RecordingChannels": {"1"},
				"RecordingSource": {"RecordVerb"}, "ErrorCode": {"16102"}, "RecordingUrl": {""},
			}
			c.e.enqueue(&callback{kind: "recording", method: r.RecordingStatusCallbackMethod, url: r.RecordingStatusCallback, form: p})
		}
		if digits == "hangup" {
			return c.end(ctx, "completed")
		}
		return c.continueDocument(ctx)
	}
	if _, err := c.e.StartAPIServer(); err != nil {
		return fmt.Errorf("phonesim: starting the REST API for recordings: %w", err)
	}
	rec := &recording{sid: NewSID("RE"), callSid: c.Sid, seconds: seconds, created: c.e.now(), audio: audio}
	c.e.mu.Lock()
	c.e.recordings[rec.sid] = rec
	c.e.mu.Unlock()
	recURL := c.e.recordingURL(rec.sid)

	extra := url.Values{
		"RecordingUrl":      {recURL},
		"RecordingDuration": {strconv.Itoa(seconds)},
		"RecordingSid":      {rec.sid},
	}
	if digits != "" {
		extra.Set("Digits", digits)
	}

	var cbs []*callback
	if r.RecordingStatusCallback != "" && hasEvent(r.RecordingStatusCallbackEvent, "completed") {
		cbs = append(cbs, &callback{kind: "recording", method: r.RecordingStatusCallbackMethod, url: r.RecordingStatusCallback, form: url.Values{
			"AccountSid": {c.e.cfg.AccountSID}, "CallSid": {c.Sid}, "RecordingSid": {rec.sid},
			"RecordingUrl": {recURL}, "RecordingStatus": {"completed"}, "RecordingDuration": {strconv.Itoa(seconds)},
			"RecordingChannels": {"1"}, "RecordingSource": {"RecordVerb"}, "ErrorCode": {"0"},
			"RecordingStartTime": {rec.created.UTC().Format(time.RFC1123Z)},
		}})
	}
	if r.Transcribe && r.TranscribeCallback != "" {
		tsid := NewSID("TR")
		status := "completed"
		if seconds > 120 {
			status, transcript = "failed", ""
		}
		p := c.params()
		p.Set("CallStatus", "completed")
		for k, v := range (url.Values{
			"TranscriptionSid": {tsid}, "TranscriptionText": {transcript}, "TranscriptionStatus": {status},
			"TranscriptionUrl": {fmt.Sprintf("%s/2010-04-01/Accounts/%s/Transcriptions/%s", c.e.APIURL(), c.e.cfg.AccountSID, tsid)},
			"RecordingSid":     {rec.sid}, "RecordingUrl": {recURL},
		}) {
			p[k] = v
		}
		cbs = append(cbs, &callback{kind: "transcription", method: "POST", url: r.TranscribeCallback, form: p})
	}
	c.e.enqueue(cbs...)

	if digits == "hangup" {
		c.status = "completed"
		// Twilio ignores the TwiML answered: the caller has gone.
		if _, err := c.fetch(ctx, r.Method, r.Action, extra); err != nil {
			return err
		}
		return c.end(ctx, "completed")
	}
	return c.fetchAndRun(ctx, r.Method, r.Action, extra)
}

func hasEvent(events []string, e string) bool {
	for _, x := range events {
		if x == e {
			return true
		}
	}
	return false
}

// Hangup hangs up (the caller's side): the call ends and Twilio posts the
// call status callback (CallStatus=completed, CallDuration). Hanging up a
// call that has ended does nothing.
func (c *Call) Hangup() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.waiting == WaitEnded {
		return nil
	}
	c.heard = nil
	c.event(Event{Kind: "input", Text: "hang up"})
	return c.end(context.Background(), "completed")
}
