package phonesim

import (
	"crypto/subtle"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Message is a message created through the REST API.
type Message struct {
	Sid                 string
	AccountSid          string
	MessagingServiceSid string
	From                string // "" until sent, for Messaging Service messages
	To                  string
	Body                string
	MediaURLs           []string
	StatusCallback      string
	Status              string
	NumSegments         int
	DateCreated         time.Time
	DateUpdated         time.Time
	DateSent            time.Time
}

// Refusal is a message the REST API refused to create.
type Refusal struct {
	To, From, MessagingServiceSid, Body string
	Status, Code                        int
}

type injectedFailure struct{ status, code int }

type recording struct {
	sid, callSid string
	seconds      int
	created      time.Time
	deleted      bool
	audio        []byte // the caller's own WAV (RecordWAV); nil: a generated tone
}

// Sent returns copies of the messages created through the REST API, oldest
// first.
func (e *Emulator) Sent() []Message {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Message, len(e.messages))
	for i, m := range e.messages {
		out[i] = *m
		out[i].MediaURLs = append([]string(nil), m.MediaURLs...)
	}
	return out
}

// SentTo returns the messages created for the number to, oldest first.
func (e *Emulator) SentTo(to string) []Message {
	var out []Message
	for _, m := range e.Sent() {
		if m.To == to {
			out = append(out, m)
		}
	}
	return out
}

// Texted returns the distinct numbers messages were created for, in order
// of first message.
func (e *Emulator) Texted() []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range e.Sent() {
		if !seen[m.To] {
			seen[m.To] = true
			out = append(out, m.To)
		}
	}
	return out
}

// Refused returns the message creations that failed (injected failures,
// opt-outs, bad requests), oldest first.
func (e *Emulator) Refused() []Refusal {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Refusal(nil), e.refused...)
}

// FailNextMessages makes the next n message creations fail with HTTP status
// and Twilio error code, e.g. (1, 429, 20429), (1, 500, 20500),
// (1, 400, 21610).
func (e *Emulator) FailNextMessages(n, status, code int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for range n {
		e.failNext = append(e.failNext, injectedFailure{status, code})
	}
}

var errorMessages = map[int]string{
	20003: "Authenticate",
	20404: "The requested resource was not found",
	20429: "Too Many Requests",
	20500: "Internal Server Error",
	21211: "Invalid 'To' Phone Number",
	21602: "Message body is required.",
	21603: "A 'From' phone number is required.",
	21604: "A 'To' phone number is required.",
	21606: "The 'From' phone number provided is not a valid message-capable Twilio phone number for this destination/account.",
	21610: "Attempt to send to unsubscribed recipient",
	21611: "This 'From' number has exceeded the maximum number of queued messages",
	21614: "'To' number is not a valid mobile number",
	30003: "Unreachable destination handset",
}

func writeTwilioError(w http.ResponseWriter, status, code int, msg string) {
	if msg == "" {
		msg = errorMessages[code]
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{
		"code":      code,
		"message":   msg,
		"more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code),
		"status":    status,
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// APIHandler returns the fake Twilio REST API, with HTTP basic auth
// (AccountSID:AuthToken):
//
//	POST   /2010-04-01/Accounts/{AC}/Messages.json
//	GET    /2010-04-01/Accounts/{AC}/Messages/{SM}.json
//	GET    /2010-04-01/Accounts/{AC}/Recordings/{RE}        (also .wav; .json for metadata)
//	DELETE /2010-04-01/Accounts/{AC}/Recordings/{RE}.json
func (e *Emulator) APIHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /2010-04-01/Accounts/{ac}/Messages.json", e.createMessage)
	mux.HandleFunc("GET /2010-04-01/Accounts/{ac}/Messages/{file}", e.fetchMessage)
	mux.HandleFunc("GET /2010-04-01/Accounts/{ac}/Recordings/{file}", e.fetchRecording)
	mux.HandleFunc("DELETE /2010-04-01/Accounts/{ac}/Recordings/{file}", e.deleteRecording)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeTwilioError(w, 404, 20404, "The requested resource "+r.URL.Path+" was not found")
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok || subtle.ConstantTimeCompare([]byte(user), []byte(e.cfg.AccountSID)) != 1 ||
			subtle.ConstantTimeCompare([]byte(pass), []byte(e.cfg.AuthToken)) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="Twilio API"`)
			writeTwilioError(w, 401, 20003, "Authenticate")
			return
		}
		if ac := strings.Split(strings.TrimPrefix(r.URL.Path, "/2010-04-01/Accounts/"), "/")[0]; strings.HasPrefix(r.URL.Path, "/2010-04-01/Accounts/") && ac != e.cfg.AccountSID {
			writeTwilioError(w, 404, 20404, "The requested resource "+r.URL.Path+" was not found")
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func (e *Emulator) messageJSON(m *Message) map[string]any {
	uri := fmt.Sprintf("/2010-04-01/Accounts/%s/Messages/%s.json", m.AccountSid, m.Sid)
	var from, msid, dateSent any
	if m.From != "" {
		from = m.From
	}
	if m.MessagingServiceSid != "" {
		msid = m.MessagingServiceSid
	}
	if !m.DateSent.IsZero() {
		dateSent = m.DateSent.UTC().Format(time.RFC1123Z)
	}
	segs := strconv.Itoa(m.NumSegments)
	if m.From == "" {
		segs = "0"
	}
	return map[string]any{
		"account_sid":           m.AccountSid,
		"api_version":           "2010-04-01",
		"body":                  m.Body,
		"date_created":          m.DateCreated.UTC().Format(time.RFC1123Z),
		"date_sent":             dateSent,
		"date_updated":          m.DateUpdated.UTC().Format(time.RFC1123Z),
		"direction":             "outbound-api",
		"error_code":            nil,
		"error_message":         nil,
		"from":                  from,
		"messaging_service_sid": msid,
		"num_media":             strconv.Itoa(len(m.MediaURLs)),
		"num_segments":          segs,
		"price":                 nil,
		"price_unit":            "USD",
		"sid":                   m.Sid,
		"status":                m.Status,
		"subresource_uris": map[string]string{
			"media":    strings.TrimSuffix(uri, ".json") + "/Media.json",
			"feedback": strings.TrimSuffix(uri, ".json") + "/Feedback.json",
		},
		"to":  m.To,
		"uri": uri,
	}
}

func (e *Emulator) createMessage(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		writeTwilioError(w, 400, 20001, "Invalid form: "+err.Error())
		return
	}
	f := r.PostForm
	to, from, msid, body := f.Get("To"), f.Get("From"), f.Get("MessagingServiceSid"), f.Get("Body")
	media := f["MediaUrl"]
	refuse := func(status, code int, msg string) {
		e.mu.Lock()
		e.refused = append(e.refused, Refusal{To: to, From: from, MessagingServiceSid: msid, Body: body, Status: status, Code: code})
		e.mu.Unlock()
		writeTwilioError(w, status, code, msg)
	}
	switch {
	case to == "":
		refuse(400, 21604, "")
		return
	case from == "" && msid == "":
		refuse(400, 21603, "")
		return
	case body == "" && len(media) == 0 && f.Get("ContentSid") == "":
		refuse(400, 21602, "")
		return
	case len([]rune(body)) > 1600:
		refuse(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
		return
	}
	e.mu.Lock()
	if len(e.failNext) > 0 {
		fail := e.failNext[0]
		e.failNext = e.failNext[1:]
		e.mu.Unlock()
		refuse(fail.status, fail.code, numberMessages(fail.code, to))
		return
	}
	sender := from
	if sender == "" {
		sender = msid
	}
	if !e.cfg.DisableOptOut && (e.optedOut[sender+"|"+to] || (msid != "" && e.optedOut[msid+"|"+to])) {
		e.mu.Unlock()
		refuse(400, 21610, "")
		return
	}
	now := e.now()
	segs, _ := SegmentCount(body)
	m := &Message{
		Sid: NewSID("SM"), AccountSid: e.cfg.AccountSID, MessagingServiceSid: msid, From: from, To: to,
		Body: body, MediaURLs: media, StatusCallback: f.Get("StatusCallback"), Status: "queued",
		NumSegments: segs, DateCreated: now, DateUpdated: now,
	}
	if from == "" {
		m.Status = "accepted"
	}
	e.messages = append(e.messages, m)
	e.byMsgSid[m.Sid] = m
	doc := e.messageJSON(m)
	e.mu.Unlock()

	writeJSON(w, 201, doc)

	cbURL := m.StatusCallback
	if cbURL == "" && msid != "" {
		cbURL = e.URL(e.cfg.SMSStatusPath)
	}
	var cbs []*callback
	for _, status := range []string{"sent", "delivered"} {
		status := status
		cb := &callback{kind: "message-status", method: "POST", url: cbURL, before: func() {
			e.mu.Lock()
			defer e.mu.Unlock()
			m.Status = status
			m.DateUpdated = e.now()
			if m.From == "" {
				m.From = e.cfg.ServiceNumber
			}
			if status == "sent" {
				m.DateSent = m.DateUpdated
			}
		}}
		cbs = append(cbs, cb) // with no URL the status still moves on, nothing is posted
	}
	e.enqueueMessageStatus(m, cbs)
}

// enqueueMessageStatus queues the status changes of m; the form is built at
// delivery time, when From is known.
func (e *Emulator) enqueueMessageStatus(m *Message, cbs []*callback) {
	for _, cb := range cbs {
		cb := cb
		before := cb.before
		cb.before = func() {
			before()
			e.mu.Lock()
			defer e.mu.Unlock()
			cb.form = map[string][]string{
				"AccountSid":    {m.AccountSid},
				"ApiVersion":    {"2010-04-01"},
				"From":          {m.From},
				"To":            {m.To},
				"MessageSid":    {m.Sid},
				"SmsSid":        {m.Sid},
				"MessageStatus": {m.Status},
				"SmsStatus":     {m.Status},
			}
			if m.MessagingServiceSid != "" {
				cb.form["MessagingServiceSid"] = []string{m.MessagingServiceSid}
			}
		}
	}
	e.enqueue(cbs...)
}

func (e *Emulator) fetchMessage(w http.ResponseWriter, r *http.Request) {
	sid, ok := strings.CutSuffix(r.PathValue("file"), ".json")
	e.mu.Lock()
	m := e.byMsgSid[sid]
	var doc map[string]any
	if m != nil {
		doc = e.messageJSON(m)
	}
	e.mu.Unlock()
	if !ok || m == nil {
		writeTwilioError(w, 404, 20404, "The requested resource "+r.URL.Path+" was not found")
		return
	}
	writeJSON(w, 200, doc)
}

func (e *Emulator) lookupRecording(file string) (*recording, string) {
	sid, ext := file, ""
	if i := strings.LastIndexByte(file, '.'); i >= 0 {
		sid, ext = file[:i], file[i+1:]
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	rec := e.recordings[sid]
	if rec == nil || rec.deleted {
		return nil, ext
	}
	c := *rec
	return &c, ext
}

func (e *Emulator) fetchRecording(w http.ResponseWriter, r *http.Request) {
	rec, ext := e.lookupRecording(r.PathValue("file"))
	if rec == nil {
		writeTwilioError(w, 404, 20404, "The requested resource "+r.URL.Path+" was not found")
		return
	}
	switch ext {
	case "", "wav":
		wav := rec.audio
		if wav == nil {
			wav = WAV(rec.seconds)
		}
		w.Header().Set("Content-Type", "audio/x-wav")
		w.Header().Set("Content-Length", strconv.Itoa(len(wav)))
		w.Write(wav)
	case "json":
		writeJSON(w, 200, map[string]any{
			"account_sid": e.cfg.AccountSID, "api_version": "2010-04-01", "call_sid": rec.callSid,
			"sid": rec.sid, "duration": strconv.Itoa(rec.seconds), "channels": 1, "source": "RecordVerb",
			"status": "completed", "date_created": rec.created.UTC().Format(time.RFC1123Z),
			"start_time": rec.created.UTC().Format(time.RFC1123Z), "price": nil, "price_unit": "USD",
			"media_url": e.recordingURL(rec.sid), "error_code": nil,
			"uri": fmt.Sprintf("/2010-04-01/Accounts/%s/Recordings/%s.json", e.cfg.AccountSID, rec.sid),
		})
	default:
		writeTwilioError(w, 404, 20404, "The emulator serves recordings as .wav only")
	}
}

func (e *Emulator) deleteRecording(w http.ResponseWriter, r *http.Request) {
	file := r.PathValue("file")
	sid, ok := strings.CutSuffix(file, ".json")
	e.mu.Lock()
	rec := e.recordings[sid]
	found := ok && rec != nil && !rec.deleted
	if found {
		rec.deleted = true
	}
	e.mu.Unlock()
	if !found {
		writeTwilioError(w, 404, 20404, "The requested resource "+r.URL.Path+" was not found")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// RecordingDeleted reports whether the recording sid was deleted through
// the REST API.
func (e *Emulator) RecordingDeleted(sid string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	rec := e.recordings[sid]
	return rec != nil && rec.deleted
}

func (e *Emulator) recordingURL(sid string) string {
	return fmt.Sprintf("%s/2010-04-01/Accounts/%s/Recordings/%s", e.APIURL(), e.cfg.AccountSID, sid)
}

// WAV returns a valid WAV file (RIFF, PCM, 8 kHz, mono, 16-bit) of the given
// length: a quiet 440 Hz tone, as a stand-in for a caller's voice.
func WAV(seconds int) []byte {
	const rate = 8000
	pcm := make([]int16, max(seconds, 0)*rate)
	for i := range pcm {
		pcm[i] = int16(1500 * math.Sin(2*math.Pi*440*float64(i)/rate))
	}
	return PCMWAV(pcm, rate)
}

// PCMWAV wraps 16-bit mono PCM samples at rate in a RIFF/WAVE file, as
// Twilio serves recordings.
func PCMWAV(pcm []int16, rate int) []byte {
	data := 2 * len(pcm)
	b := make([]byte, 44+data)
	copy(b[0:], "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+data))
	copy(b[8:], "WAVE")
	copy(b[12:], "fmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)
	binary.LittleEndian.PutUint16(b[20:], 1) // PCM
	binary.LittleEndian.PutUint16(b[22:], 1) // mono
	binary.LittleEndian.PutUint32(b[24:], uint32(rate))
	binary.LittleEndian.PutUint32(b[28:], uint32(rate*2)) // byte rate
	binary.LittleEndian.PutUint16(b[32:], 2)              // block align
	binary.LittleEndian.PutUint16(b[34:], 16)             // bits per sample
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(data))
	for i, v := range pcm {
		binary.LittleEndian.PutUint16(b[44+2*i:], uint16(v))
	}
	return b
}

// numberMessages are Twilio's refusals that name the number, word for word
// as Twilio writes them ("" for a code whose message does not).
func numberMessages(code int, to string) string {
	switch code {
	case 21211:
		return "The 'To' number " + to + " is not a valid phone number."
	case 21614:
		return "'To' number " + to + " is not a valid mobile number"
	}
	return ""
}
