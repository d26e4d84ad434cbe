package ivr_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/haveyoursay/haveyoursay/config"
	"github.com/haveyoursay/haveyoursay/phonesim"
	"github.com/haveyoursay/haveyoursay/store"
)

const recordingLine = "+447700900555"

// voiceWAV is a recording a member might make: 2 seconds of a rising and
// falling tone at a speaking level, as 8 kHz 16-bit PCM like Twilio's.
func voiceWAV(pitch float64) []byte {
	const rate = 8000
	pcm := make([]int16, 2*rate)
	for i := range pcm {
		env := math.Sin(math.Pi * float64(i) / float64(len(pcm)))
		pcm[i] = int16(9000 * env * math.Sin(2*math.Pi*pitch*float64(i)/rate))
	}
	return phonesim.PCMWAV(pcm, rate)
}

// A member records the recording notice by phone on a survey number
// ("*" "*", the PIN, record, hear it back, try again, keep), staff use it,
// and the next caller hears it played; a later call carries on with the
// next sentence.
func TestRecordPromptByPhone(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	sess, pin, err := e.db.CreateRecordingSession(e.ctx, store.RecordingSession{SurveyID: "day-service", Language: "en-GB",
		Voice: "Sam", CreatedBy: "test"}, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}

	c := e.call(member)
	notice := c.Heard()[0]
	if !strings.Contains(notice, "We record this call") {
		t.Fatalf("first heard %q", notice)
	}
	must(t, c.Press("*"))
	expectHeard(t, c, "Is that OK?") // one star: the question again, as always
	must(t, c.Press("*"))
	expectHeard(t, c, "Please type your recording PIN.")
	must(t, c.Press(pin))
	expectHeard(t, c, "We will read you each sentence.", "Sentence 1 of ", notice, "Please say it after the beep.")
	must(t, c.Silence()) // the sentence is read; no key: the beep
	if c.Waiting() != phonesim.WaitRecord {
		t.Fatalf("waiting for %q, want a recording", c.Waiting())
	}
	must(t, c.RecordWAV(voiceWAV(300), ""))
	h := c.Heard()
	if len(h) < 2 || h[0] != "This is what we heard." || !strings.HasPrefix(h[1], "[play "+e.srv.URL+"/audio/") {
		t.Fatalf("heard back %q", h)
	}
	firstTry := strings.TrimSuffix(strings.TrimPrefix(h[1], "[play "), "]")
	must(t, c.Press("2"))
	expectHeard(t, c, "OK. We will try again.", "Sentence 1 of ")
	must(t, c.Silence())
	must(t, c.RecordWAV(voiceWAV(220), ""))
	h = c.Heard()
	kept := strings.TrimSuffix(strings.TrimPrefix(h[1], "[play "), "]")
	if kept == firstTry {
		t.Fatal("a second try has the first one's address")
	}
	must(t, c.Press("*")) // hear it again
	if h := c.Heard(); len(h) < 2 || h[1] != "[play "+kept+"]" {
		t.Fatalf("heard again %q", h)
	}
	must(t, c.Press("1"))
	expectHeard(t, c, "Thank you. We have kept it.", "Sentence 2 of ")
	must(t, c.Hangup())

	versions, err := e.db.PromptVersions(e.ctx, "day-service", "en-GB")
	if err != nil || len(versions) != 1 {
		t.Fatalf("versions = %+v %v (the first try should be gone)", versions, err)
	}
	v := versions[0]
	if v.Key != "voice-notice" || v.Status != store.PromptRecorded || v.RecordedBy != "Sam" || v.Source != "phone" ||
		!strings.Contains(notice, v.Words) || v.Words == "" || e.audio.URL(v.Name) != kept || v.PeakDB > -5 || v.PeakDB < -15 {
		t.Fatalf("kept = %+v", v)
	}

	// Not played until staff say "use this".
	c = e.call("+447700900301")
	if h := c.Heard(); h[0] != notice {
		t.Fatalf("a recording nobody approved was played: %q", h[0])
	}
	must(t, c.Hangup())
	if _, err := e.audio.Approve(e.ctx, v.Name, "staff@example.org"); err != nil {
		t.Fatal(err)
	}
	c = e.call("+447700900302")
	if h := c.Heard(); h[0] != "[play "+kept+"]" {
		t.Fatalf("after 'use this' the caller heard %q", h)
	}
	expectHeard(t, c, "Is that OK?")

	// Carry on later: the next sentence; "*" while it is read skips it.
	c = e.call(member)
	must(t, c.Press("*"))
	must(t, c.Press("*"))
	must(t, c.Press(pin))
	expectHeard(t, c, "Sentence 2 of ")
	must(t, c.Press("*"))
	expectHeard(t, c, "Sentence 3 of ")
	must(t, c.Hangup())
	got, err := e.db.RecordingSession(e.ctx, sess.ID)
	if err != nil || len(got.Done) != 2 || got.Done[0] != "voice-notice" {
		t.Fatalf("progress = %v %v", got.Done, err)
	}
}

// The recording line asks for a PIN; wrong ones are refused kindly; a
// survey caller who pressed "*" "*" by mistake goes back to the survey.
func TestRecordingLinePIN(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{config: func(c *config.Config) { c.RecordingNumber = recordingLine }})
	c, err := e.sim.Call(e.ctx, member, recordingLine)
	if err != nil {
		t.Fatal(err)
	}
	expectHeard(t, c, "This is the line for recording our messages.", "Please type your recording PIN.")
	for range 2 {
		must(t, c.Press("123456"))
		expectHeard(t, c, "Sorry, that PIN did not work. Please try again.")
	}
	must(t, c.Press("123456"))
	expectHeard(t, c, "Please check it with staff, and call again. Goodbye.")
	if c.Waiting() != phonesim.WaitEnded {
		t.Fatalf("waiting for %q", c.Waiting())
	}

	c = e.call("+447700900303")
	must(t, c.Press("*"))
	must(t, c.Press("*"))
	expectHeard(t, c, "Please type your recording PIN.")
	must(t, c.Silence())
	expectHeard(t, c, "Is that OK?")
	must(t, c.Press("1")) // consent: the survey goes on
	expectHeard(t, c, "Question 1 of")
}
