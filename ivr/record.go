package ivr

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/twilio/twilio-go"
	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"
	"github.com/twilio/twilio-go/twiml"

	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/survey"
	"github.com/haveyoursay/haveyoursay/webhook"
)

// ServeRecorded answers POST /twilio/voice/record: a <Record> finished (or
// the member hung up while recording: Digits=hangup, and Twilio ignores
// what we answer). The recording is the answer; its audio is fetched when
// the recording status callback says it is ready.
func (h *Handler) ServeRecorded(w http.ResponseWriter, r *http.Request) {
	h.serveTwiML(w, r, h.recorded)
}

func (h *Handler) recorded(ctx context.Context, c *call, r *http.Request) ([]twiml.Element, error) {
	st, err := h.open(r.URL.Query().Get("st"))
	if err != nil {
		return h.restartCall(ctx, c, r, err) // start afresh rather than hang up
	}
	if st.Conv == "" {
		st.Conv = c.sid
	}
	f := r.PostForm
	in := survey.Input{NoInput: true}
	if u, sid := f.Get("RecordingUrl"), f.Get("RecordingSid"); u != "" && validSID(sid) {
		in = survey.Input{Recording: &survey.Recording{URL: webhook.Storable(u, 2048), SID: sid, Seconds: recordingSeconds(f.Get("RecordingDuration"))}}
	}
	return h.stepSurvey(ctx, c, st, in)
}

// recordingSeconds reads RecordingDuration. Twilio sends whole seconds; a
// value we cannot read comes with a recording that exists, so it counts
// as long enough to keep (1 s) rather than be thrown away as too short.
func recordingSeconds(v string) int {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || f != f || f > 1e6 {
		return 1
	}
	if f < 0 {
		return 0
	}
	return int(f + 0.5)
}

// callbackError answers a callback Twilio should send again.
func (h *Handler) callbackError(w http.ResponseWriter, cause string, err error, status int, msg string) {
	h.failed(cause, err)
	http.Error(w, msg, status)
}

// serveCallback checks the signature and turns a panic into a 500 (so
// Twilio sends the callback again).
func (h *Handler) serveCallback(w http.ResponseWriter, r *http.Request, f func(w http.ResponseWriter, r *http.Request)) {
	h.conf()
	if !h.verify(w, r) {
		return
	}
	defer func() {
		if p := recover(); p != nil {
			h.callbackError(w, "panic", fmt.Errorf("%v\n%s", p, debug.Stack()), http.StatusInternalServerError, "Something went wrong on our side.")
		}
	}()
	f(w, r)
}

// ServeRecordingStatus answers POST /twilio/voice/recording: Twilio's
// recording status callback. A completed recording is downloaded into our
// own storage and, when configured, deleted from Twilio; then it is
// transcribed (when a transcription service is set). Anything that fails
// is answered with a non-2xx status so that Twilio sends it again; a
// repeat does only what is still to do.
func (h *Handler) ServeRecordingStatus(w http.ResponseWriter, r *http.Request) {
	h.serveCallback(w, r, h.recordingStatus)
}

func (h *Handler) recordingStatus(w http.ResponseWriter, r *http.Request) {
	f, q := r.PostForm, r.URL.Query()
	sid, status, recURL := f.Get("RecordingSid"), f.Get("RecordingStatus"), f.Get("RecordingUrl")
	if !validSID(sid) || status == "" {
		http.Error(w, "RecordingSid and RecordingStatus are required: this does not look like a recording callback from Twilio.", http.StatusBadRequest)
		return
	}
	if status != "completed" || recURL == "" {
		w.WriteHeader(http.StatusNoContent) // absent (silent or too short): nothing to keep
		return
	}
	ctx := r.Context()
	stored, deleted, err := h.DB.HasRecording(ctx, sid)
	if err != nil {
		h.callbackError(w, "postgres", err, http.StatusServiceUnavailable, "The recording cannot be stored just now; please send it again.")
		return
	}
	if !stored {
		audio, contentType, err := h.download(ctx, recURL)
		if err != nil {
			h.callbackError(w, "download", err, http.StatusBadGateway, "The recording could not be downloaded; please send it again.")
			return
		}
		rec := store.Recording{SID: sid, CallSID: webhook.Storable(f.Get("CallSid"), maxSID), ConversationID: q.Get("c"), QuestionID: q.Get("q"),
			AnswerKey: q.Get("k"), Language: q.Get("l"), Seconds: recordingSeconds(f.Get("RecordingDuration")), ContentType: contentType, Audio: audio}
		inserted, err := h.DB.SaveRecording(ctx, rec)
		if err != nil {
			h.callbackError(w, "postgres", err, http.StatusServiceUnavailable, "The recording cannot be stored just now; please send it again.")
			return
		}
		if inserted && h.Transcriber != nil {
			h.transcribeLater(rec)
		}
	}
	if h.conf().DeleteFromTwilio && !deleted {
		if err := h.deleteFromTwilio(sid); err != nil {
			h.callbackError(w, "twilio-delete", err, http.StatusBadGateway, "The recording is stored, but Twilio's copy could not be deleted yet; please send this again.")
			return
		}
		if err := h.DB.MarkRecordingDeletedFromTwilio(ctx, sid); err != nil {
			h.failed("postgres", err)
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// download fetches a recording as WAV with the account's credentials.
func (h *Handler) download(ctx context.Context, recURL string) ([]byte, string, error) {
	u := recURL
	if !strings.HasSuffix(u, ".wav") && !strings.HasSuffix(u, ".mp3") {
		u += ".wav"
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, "", err
	}
	req.SetBasicAuth(h.conf().AccountSID, h.conf().AuthToken)
	resp, err := h.HTTPClient.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("GET %s answered %d", u, resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return nil, "", err
	}
	if len(b) == 0 {
		return nil, "", fmt.Errorf("GET %s answered an empty file", u)
	}
	// An error page answered with 200 (a proxy, a login page) must not be
	// kept as the member's recording: refuse it, so it is fetched again.
	switch {
	case len(b) >= 12 && string(b[0:4]) == "RIFF" && string(b[8:12]) == "WAVE":
		return b, "audio/wav", nil
	case len(b) >= 3 && (string(b[0:3]) == "ID3" || (b[0] == 0xFF && b[1]&0xE0 == 0xE0)):
		return b, "audio/mpeg", nil
	}
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return nil, "", fmt.Errorf("GET %s answered %d bytes of %q that are neither WAV nor MP3", u, len(b), ct)
}

// deleteFromTwilio deletes Twilio's copy of a recording. A recording that
// is already gone counts as deleted.
func (h *Handler) deleteFromTwilio(sid string) error {
	c := h.conf()
	hc := &http.Client{Timeout: 20 * time.Second}
	if c.APIURL != "" {
		hc.Transport = webhook.RewriteTransport(c.APIURL)
	}
	cl := &client.Client{Credentials: client.NewCredentials(c.AccountSID, c.AuthToken), HTTPClient: hc}
	cl.SetAccountSid(c.AccountSID)
	rc := twilio.NewRestClientWithParams(twilio.ClientParams{Client: cl})
	err := rc.Api.DeleteRecording(sid, &openapi.DeleteRecordingParams{})
	var te *client.TwilioRestError
	if errors.As(err, &te) && te.Status == http.StatusNotFound {
		return nil
	}
	return err
}

// ServeTranscription answers POST /twilio/voice/transcription: Twilio's
// transcription of a recording, which arrives after the call. It is kept
// with the answer; a failure to store it asks Twilio to send it again.
func (h *Handler) ServeTranscription(w http.ResponseWriter, r *http.Request) {
	h.serveCallback(w, r, h.transcription)
}

func (h *Handler) transcription(w http.ResponseWriter, r *http.Request) {
	f, q := r.PostForm, r.URL.Query()
	sid := f.Get("RecordingSid")
	if !validSID(sid) {
		http.Error(w, "RecordingSid is required: this does not look like a transcription callback from Twilio.", http.StatusBadRequest)
		return
	}
	status := "failed"
	if f.Get("TranscriptionStatus") == "completed" {
		status = "completed"
	}
	t := store.Transcript{RecordingSID: sid, AnswerKey: webhook.Storable(q.Get("k"), 200), Source: "twilio", Status: status,
		Text: strings.TrimSpace(webhook.Storable(f.Get("TranscriptionText"), maxText)), ExternalSID: webhook.Storable(f.Get("TranscriptionSid"), maxSID)}
	if err := h.transcriptWorry(r.Context(), sid, q.Get("c"), t.Source, t.Text); err != nil {
		h.callbackError(w, "postgres", err, http.StatusServiceUnavailable, "The transcript cannot be stored just now; please send it again.")
		return
	}
	if err := h.DB.SaveTranscript(r.Context(), t); err != nil {
		h.callbackError(w, "postgres", err, http.StatusServiceUnavailable, "The transcript cannot be stored just now; please send it again.")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// transcribeLater transcribes a stored recording in the background: a
// transcription service may take longer than Twilio waits for a callback.
// One that fails is tried again by TranscribeMissing.
func (h *Handler) transcribeLater(rec store.Recording) {
	h.bg.Add(1)
	go func() {
		defer h.bg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		if err := h.transcribe(ctx, rec); err != nil {
			h.failed("transcribe", err)
		}
	}()
}

func (h *Handler) transcribe(ctx context.Context, rec store.Recording) error {
	text, err := h.Transcriber.Transcribe(ctx, rec.Audio, rec.ContentType, rec.Language)
	if err != nil {
		return fmt.Errorf("transcribing recording %s: %w", rec.SID, err)
	}
	if err := h.transcriptWorry(ctx, rec.SID, rec.ConversationID, "service", text); err != nil {
		return err // asked again by TranscribeMissing: the transcript is not kept yet
	}
	return h.DB.SaveTranscript(ctx, store.Transcript{RecordingSID: rec.SID, AnswerKey: rec.AnswerKey, Source: "service", Status: "completed", Text: text})
}

// TranscribeMissing transcribes, with the transcription service, up to
// limit stored recordings that have no transcript from it yet (after a
// failure or a restart). Run it now and then; it returns how many it did.
func (h *Handler) TranscribeMissing(ctx context.Context, limit int) (int, error) {
	h.conf()
	if h.Transcriber == nil {
		return 0, nil
	}
	recs, err := h.DB.RecordingsWithoutTranscript(ctx, "service", time.Minute, limit)
	if err != nil {
		return 0, err
	}
	done := 0
	for _, rec := range recs {
		if err := h.transcribe(ctx, rec); err != nil {
			return done, err
		}
		done++
	}
	return done, nil
}
