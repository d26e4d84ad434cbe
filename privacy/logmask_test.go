package privacy_test

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/haveyoursay/haveyoursay/privacy"
	"github.com/haveyoursay/haveyoursay/sms"
	"github.com/haveyoursay/haveyoursay/store"
)

func TestMaskNumbers(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"The 'To' number +447700900123 is not a valid phone number.": "The 'To' number +44 ••••••• 123 is not a valid phone number.",
		"call 07700900123 or +447700900456, please":                  "call •••••••• 123 or +44 ••••••• 456, please",
		"recording RE0123456789abcdef0123456789abcdef":               "recording RE0123456789abcdef0123456789abcdef",
		"Twilio answered 400, error 21211 at 2026-11-30":             "Twilio answered 400, error 21211 at 2026-11-30",
		"+447700900123": "+44 ••••••• 123",
	} {
		if got := store.MaskNumbers(in); got != want {
			t.Errorf("MaskNumbers(%q) = %q, want %q", in, got, want)
		}
	}
}

// syncBuffer is a log a server writes from many goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestLogsNeverCarryANumber: a member texts, calls and is erased by staff,
// and Twilio refuses the confirmation text with an error that names their
// number. Nothing the server logs (at every level, with no masking
// wrapper) holds the number in clear, and neither does the error a
// refused text carries nor the reason staff are shown.
func TestLogsNeverCarryANumber(t *testing.T) {
	t.Parallel()
	var buf syncBuffer
	e := newEnvLog(t, nil, slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	e.speak(member)
	e.sim.FailNextMessages(1, 400, 21211)
	id, err := e.db.MemberIDByHash(e.ctx, e.srv.Phones.Hash(member))
	must(t, err)
	_, err = e.srv.Privacy.ForgetMember(e.ctx, id, "ann@example.org", true)
	must(t, err)
	e.waitFor("the erasure", func() bool { return e.count(`SELECT count(*) FROM audit_log WHERE action = 'forget'`) == 1 })
	e.waitFor("the refusal to be logged", func() bool { return strings.Contains(buf.String(), "confirmation text was not sent") })
	log := buf.String()
	for _, n := range e.needles(member, nil) {
		if strings.Contains(log, n) {
			t.Errorf("the log holds %q:\n%s", n, log)
		}
	}
	if !strings.Contains(log, "+44 ••••••• 123") {
		t.Errorf("Twilio's refusal is not in the log, masked:\n%s", log)
	}

	// The same refusal through the texter: its error and its reason.
	_, err = sms.NewTexter(accountSID, authToken, e.sim.APIURL(), "").Send(ourNumber, member, "hello")
	if err == nil {
		e.sim.FailNextMessages(1, 400, 21211)
		_, err = sms.NewTexter(accountSID, authToken, e.sim.APIURL(), "").Send(ourNumber, member, "hello")
	}
	var se *sms.SendError
	if !errors.As(err, &se) || se.Code != 21211 {
		t.Fatalf("the refused text: %v", err)
	}
	for _, s := range []string{se.Error(), se.Reason()} {
		if strings.Contains(s, "7700900123") {
			t.Errorf("a refused text's error says %q", s)
		}
	}

	// A log line that is handed a number anyway is masked by the wrapper
	// serve and dev log through.
	var out syncBuffer
	masked := slog.New(privacy.MaskNumbers(slog.NewJSONHandler(&out, nil)))
	masked.With("to", member).WithGroup("g").Error("texting "+member+" failed", "err", errors.New("The 'To' number "+member+" is not valid"), "n", 3)
	if strings.Contains(out.String(), "7700900123") || !strings.Contains(out.String(), "+44 ••••••• 123") {
		t.Errorf("the masking handler wrote %s", out.String())
	}
}
