package audio_test

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/haveyoursay/haveyoursay/audio"
	"github.com/haveyoursay/haveyoursay/phonesim"
	"github.com/haveyoursay/haveyoursay/store/storetest"
)

// tone is a 440 Hz sine of ms milliseconds at rate Hz, amplitude from 0
// (silence) to 1 (full scale), as samples from -1 to 1.
func tone(ms, rate int, amplitude float64) []float64 {
	s := make([]float64, rate*ms/1000)
	for i := range s {
		s[i] = amplitude * math.Sin(2*math.Pi*440*float64(i)/float64(rate))
	}
	return s
}

// wavFile wraps encoded sample bytes in a RIFF/WAVE file.
func wavFile(format, channels, rate, bits int, data []byte) []byte {
	b := make([]byte, 44, 44+len(data))
	copy(b, "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+len(data)))
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)
	binary.LittleEndian.PutUint16(b[20:], uint16(format))
	binary.LittleEndian.PutUint16(b[22:], uint16(channels))
	binary.LittleEndian.PutUint32(b[24:], uint32(rate))
	binary.LittleEndian.PutUint32(b[28:], uint32(rate*channels*bits/8))
	binary.LittleEndian.PutUint16(b[32:], uint16(channels*bits/8))
	binary.LittleEndian.PutUint16(b[34:], uint16(bits))
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(len(data)))
	return append(b, data...)
}

// muLawByte encodes a sample as G.711 mu-law (the encoder in ITU-T G.711's
// reference code), so the decoder is tested against an independent coder.
func muLawByte(s float64) byte {
	v := int(s * 32767)
	sign := 0
	if v < 0 {
		v, sign = -v, 0x80
	}
	v = min(v, 32635) + 0x84
	exp := 7
	for mask := 0x4000; v&mask == 0 && exp > 0; mask >>= 1 {
		exp--
	}
	mant := (v >> (exp + 3)) & 0x0F
	return ^byte(sign | exp<<4 | mant)
}

func muLawWAV(samples []float64) []byte {
	data := make([]byte, len(samples))
	for i, s := range samples {
		data[i] = muLawByte(s)
	}
	return wavFile(7, 1, 8000, 8, data)
}

func pcm8WAV(rate int, samples []float64) []byte {
	data := make([]byte, len(samples))
	for i, s := range samples {
		data[i] = byte(128 + int(math.Round(s*127)))
	}
	return wavFile(1, 1, rate, 8, data)
}

func pcm16WAV(rate, channels int, samples []float64) []byte {
	data := make([]byte, 2*len(samples))
	for i, s := range samples {
		binary.LittleEndian.PutUint16(data[2*i:], uint16(int16(math.Round(s*32767))))
	}
	return wavFile(1, channels, rate, 16, data)
}

func fixture(t testing.TB, name string) []byte {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCheck(t *testing.T) {
	t.Parallel()
	hello := fixture(t, "hello.mp3")
	half := tone(2000, 8000, 0.5)
	clipped := tone(2000, 8000, 3) // three times too loud: flat tops
	for i := range clipped {
		clipped[i] = max(-1, min(1, clipped[i]))
	}
	long := pcm8WAV(8000, tone(45000, 8000, 0.5))
	for _, tc := range []struct {
		name     string
		data     []byte
		format   string
		encoding string
		dur      time.Duration
		peak     float64 // dB, within 0.5
		warning  string
		err      string
	}{
		{"16-bit phone WAV", pcm16WAV(8000, 1, half), "wav", "16-bit PCM", 2 * time.Second, -6, "", ""},
		{"8-bit WAV", pcm8WAV(16000, tone(500, 16000, 0.5)), "wav", "8-bit PCM", 500 * time.Millisecond, -6, "", ""},
		{"mu-law WAV", muLawWAV(half), "wav", "mu-law", 2 * time.Second, -6, "", ""},
		{"stereo WAV", pcm16WAV(44100, 2, tone(1000, 88200, 0.25)), "wav", "16-bit PCM", time.Second, -12, "", ""},
		{"emulator's recording", phonesim.WAV(3), "wav", "16-bit PCM", 3 * time.Second, -26.8, "", ""},
		{"MP3 of speech", hello, "mp3", "MP3", 2800 * time.Millisecond, -2.8, "", ""},
		{"long WAV: a warning", long, "wav", "8-bit PCM", 45 * time.Second, -6, "45 seconds long", ""},
		{"clipped WAV: a warning", pcm16WAV(8000, 1, clipped), "wav", "16-bit PCM", 2 * time.Second, 0, "clipped", ""},
		{"too short", pcm16WAV(8000, 1, tone(200, 8000, 0.5)), "", "", 0, 0, "", "too short"},
		{"too long", pcm8WAV(8000, tone(121000, 8000, 0.5)), "", "", 0, 0, "", "too long (121 seconds"},
		{"silent WAV", pcm16WAV(8000, 1, tone(1000, 8000, 0)), "", "", 0, 0, "", "silent"},
		{"near-silent mu-law", muLawWAV(tone(1000, 8000, 0.005)), "", "", 0, 0, "", "almost silent"},
		{"silent MP3", fixture(t, "silence.mp3"), "", "", 0, 0, "", "silent"},
		{"renamed text file", []byte("Hello, this is a note about the survey.\nIt is not audio at all.\n"), "", "", 0, 0, "", "it is a text file (perhaps renamed)"},
		{"empty file", nil, "", "", 0, 0, "", "empty"},
		{"random bytes", []byte{0x00, 0x01, 0x02, 0x9f, 0xfe, 0x10, 0x00, 0x00, 0x7f}, "", "", 0, 0, "", "not a WAV or MP3 sound file"},
		{"Ogg file", append([]byte("OggS"), make([]byte, 100)...), "", "", 0, 0, "", "an Ogg file"},
		{"24-bit WAV", wavFile(1, 1, 8000, 24, make([]byte, 3*8000)), "", "", 0, 0, "", "24-bit samples"},
		{"float WAV", wavFile(3, 1, 8000, 32, make([]byte, 4*8000)), "", "", 0, 0, "", "not PCM, mu-law or A-law"},
		{"WAV header cut off", pcm16WAV(8000, 1, half)[:30], "", "", 0, 0, "", "header is damaged or cut off"},
		{"WAV with no sound data", pcm16WAV(8000, 1, half)[:36], "", "", 0, 0, "", "no sound data"},
		{"WAV cut off in its sound", pcm16WAV(8000, 1, half)[:44+8000], "", "", 0, 0, "", "cut off: it ends after 0.5 seconds of the 2.0"},
		{"MP3 cut off", hello[:len(hello)*2/3], "", "", 0, 0, "", "cut off"},
		{"RIFF but not WAVE", append([]byte("RIFF\x00\x00\x00\x00AVI "), make([]byte, 64)...), "", "", 0, 0, "", "not a WAV"},
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
			if info.Format != tc.format || info.Encoding != tc.encoding || (info.Duration-tc.dur).Abs() > 60*time.Millisecond ||
				math.Abs(info.PeakDB-tc.peak) > 0.5 || info.RMSDB >= info.PeakDB {
				t.Errorf("info = %+v", info)
			}
			warned := strings.Join(info.Warnings, " ")
			if (tc.warning == "") != (warned == "") || !strings.Contains(warned, tc.warning) {
				t.Errorf("warnings = %q, want %q", warned, tc.warning)
			}
			if tc.warning == "clipped" && info.Clipped < 0.1 {
				t.Errorf("clipped share = %f", info.Clipped)
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
	first := pcm16WAV(8000, 1, tone(1500, 8000, 0.4))
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

	// Twilio (and browsers) may ask for a part of the file.
	req, _ = http.NewRequest("GET", u, nil)
	req.Header.Set("Range", "bytes=0-99")
	if r3, err := http.DefaultClient.Do(req); err != nil || r3.StatusCode != http.StatusPartialContent || r3.ContentLength != 100 {
		t.Errorf("range request: %v %v", r3.StatusCode, err)
	}

	// A new recording replaces the prompt; the old file still plays (a
	// call may be playing it), and another server's library sees it.
	if _, err := lib.Add(ctx, "day-service", "en-GB", "intro", fixture(t, "hello.mp3")); err != nil {
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
