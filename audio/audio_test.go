package audio_test

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/haveyoursay/haveyoursay/audio"
	"github.com/haveyoursay/haveyoursay/phonesim"
	"github.com/haveyoursay/haveyoursay/store/storetest"
)

// wav makes a mono PCM WAV of ms milliseconds at rate Hz and bits depth;
// amplitude 0 is silence.
func wav(ms, rate, bits int, amplitude float64) []byte {
	n := rate * ms / 1000
	bps := bits / 8
	b := make([]byte, 44+n*bps)
	copy(b, "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+n*bps))
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)
	binary.LittleEndian.PutUint16(b[20:], 1)
	binary.LittleEndian.PutUint16(b[22:], 1)
	binary.LittleEndian.PutUint32(b[24:], uint32(rate))
	binary.LittleEndian.PutUint32(b[28:], uint32(rate*bps))
	binary.LittleEndian.PutUint16(b[32:], uint16(bps))
	binary.LittleEndian.PutUint16(b[34:], uint16(bits))
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(n*bps))
	for i := range n {
		v := amplitude * math.Sin(2*math.Pi*440*float64(i)/float64(rate))
		if bits == 8 {
			b[44+i] = byte(128 + int(v*127))
		} else {
			binary.LittleEndian.PutUint16(b[44+2*i:], uint16(int16(v*32000)))
		}
	}
	return b
}

// mp3 makes frames of MPEG-1 layer III, 128 kbit/s, 44.1 kHz (26 ms each),
// after an ID3v2 tag.
func mp3(frames int) []byte {
	b := []byte("ID3\x04\x00\x00\x00\x00\x00\x05hello")
	const size = 144 * 128000 / 44100
	for range frames {
		f := make([]byte, size)
		copy(f, []byte{0xFF, 0xFB, 0x90, 0x00})
		b = append(b, f...)
	}
	return append(b, []byte("TAG")...)
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name   string
		data   []byte
		format string
		dur    time.Duration
		err    string
	}{
		{"phone WAV", wav(2000, 8000, 16, 0.5), "wav", 2 * time.Second, ""},
		{"8-bit WAV", wav(500, 16000, 8, 0.5), "wav", 500 * time.Millisecond, ""},
		{"emulator's recording", phonesim.WAV(3), "wav", 3 * time.Second, ""},
		{"MP3", mp3(100), "mp3", 2612 * time.Millisecond, ""},
		{"too short", wav(200, 8000, 16, 0.5), "", 0, "too short"},
		{"too long", wav(121000, 8000, 8, 0.5), "", 0, "too long"},
		{"silent", wav(1000, 8000, 16, 0), "", 0, "silent"},
		{"text", []byte("hello, this is not audio at all"), "", 0, "not a WAV or MP3"},
		{"cut-off WAV header", wav(1000, 8000, 16, 0.5)[:30], "", 0, "damaged"},
		{"WAV with no sound data", wav(1000, 8000, 16, 0.5)[:36], "", 0, "not a complete WAV"},
		{"one MP3 frame", mp3(1), "", 0, "not an MP3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			info, err := audio.Check(tc.data)
			if tc.err != "" {
				if err == nil || !errors.Is(err, audio.ErrInvalid) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if info.Format != tc.format || (info.Duration-tc.dur).Abs() > 30*time.Millisecond {
				t.Errorf("info = %+v", info)
			}
		})
	}
}

func TestLibraryServesPrompts(t *testing.T) {
	ctx := context.Background()
	db := storetest.DB(t)
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	lib := audio.NewLibrary(db, srv.URL, nil)
	mux.Handle("GET /audio/{name}", lib)
	if err := lib.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := lib.Lookup("day-service", "en-GB", "intro"); ok {
		t.Fatal("an empty library found a prompt")
	}
	if _, err := lib.Add(ctx, "day-service", "en-GB", "intro", []byte("nope")); !errors.Is(err, audio.ErrInvalid) {
		t.Fatalf("bad file: %v", err)
	}
	first := wav(1500, 8000, 16, 0.4)
	p, err := lib.Add(ctx, "day-service", "en-GB", "intro", first)
	if err != nil {
		t.Fatal(err)
	}
	u, ok := lib.Lookup("day-service", "en-GB", "intro")
	if !ok || !strings.HasPrefix(u, srv.URL+"/audio/") || !strings.HasSuffix(u, ".wav") || len(u) < len(srv.URL)+40 || p.DurationMS != 1500 {
		t.Fatalf("lookup = %q %v (%+v)", u, ok, p)
	}
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "audio/wav" || string(body) != string(first) ||
		!strings.Contains(resp.Header.Get("Cache-Control"), "max-age=31536000") || resp.Header.Get("ETag") == "" {
		t.Fatalf("GET %s: %d %v", u, resp.StatusCode, resp.Header)
	}
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
	if r2, err := http.DefaultClient.Do(req); err != nil || r2.StatusCode != http.StatusNotModified {
		t.Errorf("conditional GET: %v %v", r2.StatusCode, err)
	}

	// A new recording replaces the prompt; the old file still plays (a
	// call may be playing it), and another server's library sees it.
	if _, err := lib.Add(ctx, "day-service", "en-GB", "intro", mp3(60)); err != nil {
		t.Fatal(err)
	}
	other := audio.NewLibrary(db, srv.URL, nil)
	if err := other.Load(ctx); err != nil {
		t.Fatal(err)
	}
	u2, _ := other.Lookup("day-service", "en-GB", "intro")
	if u2 == u || !strings.HasSuffix(u2, ".mp3") {
		t.Errorf("replaced prompt = %s", u2)
	}
	if r, _ := http.Get(u); r.StatusCode != 200 {
		t.Errorf("the replaced file is gone: %d", r.StatusCode)
	}
	if r, _ := http.Get(u2); r.Header.Get("Content-Type") != "audio/mpeg" {
		t.Errorf("mp3 served as %s", r.Header.Get("Content-Type"))
	}
	for _, bad := range []string{"/audio/nothing.wav", "/audio/" + strings.Repeat("0", 32) + ".wav", "/audio/../etc/passwd"} {
		if r, _ := http.Get(srv.URL + bad); r.StatusCode != 404 {
			t.Errorf("%s: %d", bad, r.StatusCode)
		}
	}
	if err := lib.Remove(ctx, "day-service", "en-GB", "intro"); err != nil {
		t.Fatal(err)
	}
	if _, ok := lib.Lookup("day-service", "en-GB", "intro"); ok {
		t.Error("a removed prompt is still played")
	}
}
