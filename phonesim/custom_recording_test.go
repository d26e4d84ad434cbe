package phonesim

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"
)

func TestRecordWAVServesTheCallersAudio(t *testing.T) {
	a := newApp(t)
	e, _ := newEmu(t, a)
	ctx := context.Background()
	a.static("/twilio/voice", resp(`<Say>Tell us</Say><Record action="/twilio/rec" transcribeCallback="/cb/tr"/>`))
	a.static("/twilio/rec", resp(`<Say>Thanks</Say><Hangup/>`))

	c, err := e.Call(ctx, "+447700900123", "+447700900999")
	if err != nil {
		t.Fatal(err)
	}
	own := WAV(3)
	own[100] ^= 0x55 // not the generated tone, so we can tell them apart
	if err := c.RecordWAV(own, "more trips out"); err != nil {
		t.Fatal(err)
	}
	eq(t, "heard", c.Heard(), []string{"Thanks"})
	f := a.last("/twilio/rec").Form
	eq(t, "RecordingDuration", f.Get("RecordingDuration"), "3")
	eq(t, "Digits", f.Get("Digits"), "#")

	req, _ := http.NewRequest("GET", f.Get("RecordingUrl")+".wav", nil)
	req.SetBasicAuth(DefaultAccountSID, testToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(res.Body)
	res.Body.Close()
	eq(t, "content type", res.Header.Get("Content-Type"), "audio/x-wav")
	if !bytes.Equal(got, own) {
		t.Errorf("the recording URL served %d bytes that are not the caller's audio (%d bytes)", len(got), len(own))
	}
	if err := e.FlushCallbacks(ctx); err != nil {
		t.Fatal(err)
	}
	eq(t, "transcript", a.last("/cb/tr").Form.Get("TranscriptionText"), "more trips out")
}

func TestRecordWAVRefusesWhatIsNotWAV(t *testing.T) {
	a := newApp(t)
	e, _ := newEmu(t, a)
	a.static("/twilio/voice", resp(`<Record action="/twilio/rec"/><Say>Nothing heard</Say>`))
	c, err := e.Call(context.Background(), "+447700900123", "+447700900999")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.RecordWAV([]byte("OggS not a wav"), "x"); !errors.Is(err, ErrNotWAV) {
		t.Fatalf("RecordWAV(ogg) = %v, want ErrNotWAV", err)
	}
	eq(t, "still waiting", c.Waiting(), WaitRecord)
	// An empty WAV is silence: no action, the next verb runs.
	if err := c.RecordWAV(WAV(0), ""); err != nil {
		t.Fatal(err)
	}
	eq(t, "heard", c.Heard(), []string{"Nothing heard"})
	eq(t, "action requests", len(a.requests("/twilio/rec")), 0)
}

func TestWAVDuration(t *testing.T) {
	for _, s := range []int{0, 1, 7} {
		d, err := WAVDuration(WAV(s))
		if err != nil || d != time.Duration(s)*time.Second {
			t.Errorf("WAVDuration(WAV(%d)) = %v, %v", s, d, err)
		}
	}
	// A streaming writer's unset data size runs to the end of the file.
	w := WAV(2)
	copy(w[40:], []byte{0xff, 0xff, 0xff, 0xff})
	if d, err := WAVDuration(w); err != nil || d != 2*time.Second {
		t.Errorf("streamed WAV: %v, %v", d, err)
	}
	for _, bad := range [][]byte{nil, []byte("RIFF"), []byte("RIFF\x00\x00\x00\x00WAVEdata\x00\x00\x00\x00")} {
		if _, err := WAVDuration(bad); !errors.Is(err, ErrNotWAV) {
			t.Errorf("WAVDuration(%q) = %v, want ErrNotWAV", bad, err)
		}
	}
}
