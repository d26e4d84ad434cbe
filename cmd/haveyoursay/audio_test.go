package main

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/store/storetest"
	"github.com/haveyoursay/haveyoursay/survey"
)

// toneWAV is seconds of a 440 Hz tone as 8 kHz 16-bit PCM WAV.
func toneWAV(seconds float64, amplitude float64) []byte {
	n := int(seconds * 8000)
	b := make([]byte, 44+2*n)
	copy(b, "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+2*n))
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)
	binary.LittleEndian.PutUint16(b[20:], 1)
	binary.LittleEndian.PutUint16(b[22:], 1)
	binary.LittleEndian.PutUint32(b[24:], 8000)
	binary.LittleEndian.PutUint32(b[28:], 16000)
	binary.LittleEndian.PutUint16(b[32:], 2)
	binary.LittleEndian.PutUint16(b[34:], 16)
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(2*n))
	for i := range n {
		binary.LittleEndian.PutUint16(b[44+2*i:], uint16(int16(amplitude*32767*math.Sin(2*math.Pi*440*float64(i)/8000))))
	}
	return b
}

func TestAudioCommand(t *testing.T) {
	t.Parallel()
	url := storetest.DatabaseURL(t)
	env := map[string]string{"DATABASE_URL": url, "HYS_RECORDING_NUMBER": "+447700900555"}
	ctx := context.Background()
	db, err := store.OpenDB(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sv := survey.Demo()
	if _, _, err := db.SaveSurvey(ctx, sv.ID, sv.Title, string(survey.DemoYAML), "day-service.yaml"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("intro.wav", toneWAV(2, 0.3))
	long := write("long.wav", toneWAV(40, 0.3))
	text := write("notes.wav", []byte("These are my notes for the intro.\nRead them slowly.\n"))
	cut := write("cut.wav", toneWAV(2, 0.3)[:5000])

	for _, args := range [][]string{{"audio", "help"}, {"audio", "--help"}, {"audio", "add", "-h"}, {"audio", "list", "help"}, {"audio", "session", "--help"}} {
		out, _, err := runWithStdin(t, env, "", args...)
		if err != nil || !strings.Contains(out, "haveyoursay audio add --survey ID") {
			t.Errorf("%v: %v %q", args, err, out)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"audio", "add", "--survey", "day-service", "--phrase", "intro", "--colour", "red", good}, "flag provided but not defined: -colour"},
		{[]string{"audio", "add", "--survey", "day-service", "--phrase", "intro"}, "give one audio file"},
		{[]string{"audio", "list"}, "say which survey with --survey ID"},
		{[]string{"audio", "play", "--survey", "day-service"}, `there is no command "play"`},
	} {
		_, _, err := runWithStdin(t, env, "", tc.args...)
		var ue usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.want) || exitCode(err) != 2 {
			t.Errorf("%v: %v, want a usage error saying %q", tc.args, err, tc.want)
		}
	}

	out, _, err := runWithStdin(t, env, "", "audio", "list", "--survey", "day-service")
	if err != nil || !regexp.MustCompile(`(?m)^intro\s+none: spoken\s+Hello\. This is Have Your Say`).MatchString(out) ||
		!strings.Contains(out, "voice-notice") || !strings.Contains(out, "menu:feel") || !strings.Contains(out, "0 of ") {
		t.Fatalf("list before: %v\n%s", err, out)
	}
	for _, tc := range []struct{ file, want string }{
		{text, "it is a text file (perhaps renamed)"},
		{cut, "it is cut off"},
	} {
		_, _, err := runWithStdin(t, env, "", "audio", "add", "--survey", "day-service", "--phrase", "intro", tc.file)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.file) {
			t.Errorf("%s: %v, want %q", tc.file, err, tc.want)
		}
	}
	_, _, err = runWithStdin(t, env, "", "audio", "add", "--survey", "day-service", "--phrase", "nope", good)
	if err == nil || !strings.Contains(err.Error(), `no sentence "nope"`) {
		t.Errorf("unknown phrase: %v", err)
	}
	out, _, err = runWithStdin(t, env, "", "audio", "add", "--survey", "day-service", "--phrase", "intro", "--by", "Sam", good)
	if err != nil || !strings.Contains(out, "Saved intro (en-GB), version 1: WAV (16-bit PCM), 2.0 seconds, peak -10.5 dB") {
		t.Fatalf("add: %v %q", err, out)
	}
	out, errOut, err := runWithStdin(t, env, "", "audio", "add", "--survey", "day-service", "--phrase", "thanks", long)
	if err != nil || !strings.Contains(out, "version 1") || !strings.Contains(errOut, "Note: It is 40 seconds long.") {
		t.Fatalf("add long: %v %q %q", err, out, errOut)
	}
	out, _, err = runWithStdin(t, env, "", "audio", "list", "--survey", "day-service")
	if err != nil || !regexp.MustCompile(`(?m)^intro\s+version 1, played\s+Sam\s+Hello`).MatchString(out) || !strings.Contains(out, "2 of ") {
		t.Fatalf("list after: %v\n%s", err, out)
	}
	out, _, err = runWithStdin(t, env, "", "audio", "remove", "--survey", "day-service", "--phrase", "intro")
	if err != nil || !strings.Contains(out, "callers hear intro (en-GB) spoken again") {
		t.Fatalf("remove: %v %q", err, out)
	}
	if _, _, err := runWithStdin(t, env, "", "audio", "remove", "--survey", "day-service", "--phrase", "intro"); err == nil ||
		!strings.Contains(err.Error(), "has no recording in use") {
		t.Fatalf("remove again: %v", err)
	}
	out, _, err = runWithStdin(t, env, "", "audio", "session", "--survey", "day-service", "--voice", "Sam")
	pin := regexp.MustCompile(`PIN: ([0-9]{6})\n`).FindStringSubmatch(out)
	if err != nil || pin == nil || !strings.Contains(out, "call +447700900555") {
		t.Fatalf("session: %v %q", err, out)
	}
	if s, err := db.RecordingSessionByPIN(ctx, pin[1]); err != nil || s.Voice != "Sam" || s.Language != "en-GB" {
		t.Fatalf("the printed PIN does not open the session: %+v %v", s, err)
	}
}
