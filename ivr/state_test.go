package ivr

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/haveyoursay/haveyoursay/survey"
)

// sampleState is a call half-way through a survey of ten questions.
func sampleState() callState {
	sess := survey.Session{SurveyID: "day-service", Version: 3, Channel: survey.Voice, Lang: "en-GB", Stage: survey.StageQuestion,
		Question: "q5", Answers: map[string]string{}}
	for _, id := range []string{"feel", "better", "staff", "days", "q5"} {
		sess.Path = append(sess.Path, id)
		sess.Answers[id] = "not-good"
	}
	return callState{Conv: "CA0123456789abcdef0123456789abcdef", N: 7, Sess: sess}
}

func TestSealedStateOpens(t *testing.T) {
	h := &Handler{Config: Config{SecretKey: strings.Repeat("k", 32)}}
	st := sampleState()
	a, b := h.seal(st), h.seal(st)
	if a == b {
		t.Error("two seals of one state are the same: the nonce is not fresh")
	}
	got, err := h.open(a)
	if err != nil || got.Conv != st.Conv || got.N != 7 || got.Sess.Answers["staff"] != "not-good" || len(got.Sess.Path) != 5 {
		t.Fatalf("opened %+v, %v", got, err)
	}
	other := &Handler{Config: Config{SecretKey: strings.Repeat("j", 32)}}
	if _, err := other.open(a); err == nil {
		t.Error("a state opened with another key")
	}
	for _, bad := range []string{"", "%%", "AAAA", a[:len(a)-1], a + "A"} {
		if _, err := h.open(bad); err == nil {
			t.Errorf("%q opened", bad)
		}
	}
}

// A long state is deflated before it is sealed, and opens the same.
func TestLongSealedStateOpens(t *testing.T) {
	h := &Handler{Config: Config{SecretKey: strings.Repeat("k", 32)}}
	st := sampleState()
	for i := range 60 {
		id := fmt.Sprintf("what-do-you-think-of-question-%02d", i)
		st.Sess.Path = append(st.Sess.Path, id)
		st.Sess.Answers[id] = "somewhat-happy-with-it"
	}
	plain, _ := json.Marshal(st)
	v := h.seal(st)
	if len(v) >= len(plain) {
		t.Errorf("a %d-byte state sealed to %d bytes: not compressed", len(plain), len(v))
	}
	got, err := h.open(v)
	if err != nil || len(got.Sess.Path) != 65 || got.Sess.Answers["what-do-you-think-of-question-59"] != "somewhat-happy-with-it" {
		t.Fatalf("opened %d questions, %v", len(got.Sess.Path), err)
	}
}

func BenchmarkSealState(b *testing.B) {
	h := &Handler{Config: Config{SecretKey: strings.Repeat("k", 32)}}
	st := sampleState()
	b.ReportAllocs()
	for b.Loop() {
		h.seal(st)
	}
}

func BenchmarkOpenState(b *testing.B) {
	h := &Handler{Config: Config{SecretKey: strings.Repeat("k", 32)}}
	v := h.seal(sampleState())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.open(v); err != nil {
			b.Fatal(err)
		}
	}
}
