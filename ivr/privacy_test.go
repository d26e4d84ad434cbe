package ivr_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/haveyoursay/haveyoursay/config"
	"github.com/haveyoursay/haveyoursay/hours"
	"github.com/haveyoursay/haveyoursay/ivr"
	"github.com/haveyoursay/haveyoursay/phonesim"
	"github.com/haveyoursay/haveyoursay/store/storetest"
)

// gardenYAML is a survey whose answers are words that cannot turn up in a
// URL by chance (random ciphertext can hold "yes" or "3", not "sunflower").
var gardenYAML = `id: garden
title: The garden
language: en-GB
start:
  keywords: [GARDEN]
  numbers: ["` + ourNumber + `"]
intro: Hello. We want to hear about the garden.
consent: We keep your answers safe. Is that OK?
questions:
  - id: flower
    ask: Which flower do you like best?
    answer: choice
    options:
      - {value: sunflower, say: Sunflowers, key: 1, words: [sunflower, sunflowers]}
      - {value: bluebell, say: Bluebells, key: 2, words: [bluebell, bluebells]}
  - id: weather
    ask: Which weather do you like best?
    answer: choice
    options:
      - {value: rainstorm, say: Rain, key: 1, words: [rain]}
      - {value: heatwave, say: Sun, key: 2, words: [sun, sunny]}
  - id: steps
    ask: How many steps did you walk today? Press the keys, then the hash key.
    answer: number
    min: 0
    max: 99999
  - id: story
    ask: Tell us about your last visit, in your own words.
    answer: words
    max_seconds: 60
  - id: extra
    ask: Would you like a seed packet?
    answer: choice
    optional: true
    options:
      - {value: marigold, say: Marigold seeds, key: 1}
      - {value: poppy, say: Poppy seeds, key: 2}
  - id: colour
    ask: Which colour should the new bench be?
    answer: choice
    options:
      - {value: lavender, say: Purple, key: 1, words: [lavender, purple]}
      - {value: buttercup, say: Yellow, key: 2, words: [buttercup, yellow]}
thanks: Thank you for your answers. Our team will read every one.
`

const (
	spokenFlower = "I really love the sunflowers by the pond"
	spokenColour = "lavender like my granny's cardigan"
	transcript   = "the greenhouse smelled of ripe tomatoes"
	stepCount    = "73519"
)

// twimlLog keeps every TwiML document our server answered phonesim.
type twimlLog struct {
	base string
	mu   sync.Mutex
	docs [][]byte
}

func (l *twimlLog) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil || !strings.HasPrefix(r.URL.String(), l.base) || !strings.Contains(resp.Header.Get("Content-Type"), "xml") {
		return resp, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	l.mu.Lock()
	l.docs = append(l.docs, b)
	l.mu.Unlock()
	return resp, nil
}

// handedURL is a URL one of our TwiML documents handed Twilio.
type handedURL struct {
	where string // element and attribute, e.g. "Gather action", "Redirect"
	url   string
}

// urlsIn returns every URL in a TwiML document: each attribute whose
// value is a URL (action, url, recordingStatusCallback,
// transcribeCallback...) and the text of <Redirect> and <Play>.
func urlsIn(t *testing.T, doc []byte) []handedURL {
	t.Helper()
	var out []handedURL
	d := xml.NewDecoder(bytes.NewReader(doc))
	var open []string
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("unreadable TwiML: %v\n%s", err, doc)
		}
		switch x := tok.(type) {
		case xml.StartElement:
			open = append(open, x.Name.Local)
			for _, a := range x.Attr {
				if strings.HasPrefix(a.Value, "http://") || strings.HasPrefix(a.Value, "https://") || strings.HasPrefix(a.Value, "/") {
					out = append(out, handedURL{x.Name.Local + " " + a.Name.Local, a.Value})
				}
			}
		case xml.EndElement:
			open = open[:len(open)-1]
		case xml.CharData:
			if n := len(open); n > 0 && (open[n-1] == "Redirect" || open[n-1] == "Play") {
				if s := strings.TrimSpace(string(x)); s != "" {
					out = append(out, handedURL{open[n-1], s})
				}
			}
		}
	}
}

// secretsIn reports which of secrets appear in s, ignoring case.
func secretsIn(s string, secrets []string) []string {
	var found []string
	for _, x := range secrets {
		if strings.Contains(strings.ToLower(s), strings.ToLower(x)) {
			found = append(found, x)
		}
	}
	return found
}

// checkURLs asserts that no secret can be read in any URL handed to
// Twilio: not in the URL as written, nor URL-decoded, nor in any query
// value, nor in the state parameter read as base64. It returns the URLs
// seen, by where they were.
func checkURLs(t *testing.T, e *env, docs [][]byte, secrets []string) map[string][]string {
	t.Helper()
	seen := map[string][]string{}
	for _, doc := range docs {
		for _, h := range urlsIn(t, doc) {
			seen[h.where] = append(seen[h.where], h.url)
			if bad := secretsIn(h.url, secrets); bad != nil {
				t.Errorf("%s %s carries %q", h.where, h.url, bad)
			}
			if dec, err := url.QueryUnescape(h.url); err != nil {
				t.Errorf("%s %s cannot be URL-decoded: %v", h.where, h.url, err)
			} else if bad := secretsIn(dec, secrets); bad != nil {
				t.Errorf("%s %s, URL-decoded, carries %q", h.where, h.url, bad)
			}
			u, err := url.Parse(h.url)
			if err != nil {
				t.Errorf("%s %s is not a URL: %v", h.where, h.url, err)
				continue
			}
			for name, values := range u.Query() {
				for _, v := range values {
					if bad := secretsIn(v, secrets); bad != nil {
						t.Errorf("%s %s: %s=%q carries %q", h.where, h.url, name, v, bad)
					}
				}
			}
			if st := u.Query().Get("st"); st != "" {
				checkSealed(t, h.url, st, secrets)
			}
		}
	}
	return seen
}

// checkSealed asserts that a state parameter does not decode, as base64
// of any kind, to JSON or to anything holding a secret.
func checkSealed(t *testing.T, where, st string, secrets []string) {
	t.Helper()
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.StdEncoding} {
		b, err := enc.DecodeString(st)
		if err != nil {
			continue
		}
		if json.Valid(b) || bytes.Contains(b, []byte(`"s":`)) || bytes.Contains(b, []byte(`"answers"`)) {
			t.Errorf("%s: the state decodes to readable JSON: %q", where, b)
		}
		if bad := secretsIn(string(b), secrets); bad != nil {
			t.Errorf("%s: the state decodes to something holding %q", where, bad)
		}
	}
}

// The Done-when test of issue 10: whole calls — keypad and speech answers,
// a recording with a transcript, a number, an optional question skipped,
// a repeat, a person asked for, a hang-up and a call back that carries on —
// and not one answer, word said, transcript or phone number in any URL our
// TwiML handed Twilio.
func TestNoAnswerOrNumberInAnyURL(t *testing.T) {
	t.Parallel()
	log := &twimlLog{}
	open, err := hours.ParseOffice("Mon-Fri 09:00-17:00", time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, options{surveys: []string{gardenYAML}, client: &http.Client{Transport: log, Timeout: 15 * time.Second},
		config: func(c *config.Config) { c.StaffNumber, c.OfficeHours = "+447700900999", open },
		now:    func() time.Time { return time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC) }, // a Monday morning
	})
	log.base = e.srv.URL
	// A recorded prompt, so that our TwiML hands Twilio <Play> URLs too.
	if _, err := e.audio.Add(e.ctx, "", "en-GB", "voice-notice", phonesim.WAV(2)); err != nil {
		t.Fatal(err)
	}

	c := e.call(member)
	expectHeard(t, c, "We want to hear about the garden.", "Is that OK?")
	must(t, c.Press("1"))
	expectHeard(t, c, "Which flower do you like best?")
	must(t, c.Press("*"))
	expectHeard(t, c, "Which flower do you like best?")
	must(t, c.Speak(spokenFlower, 0.9))
	expectHeard(t, c, "You said: Sunflowers.", "Which weather")
	must(t, c.Press("1"))
	expectHeard(t, c, "You said: Rain.", "How many steps")
	must(t, c.Press(stepCount+"#"))
	expectHeard(t, c, "Tell us about your last visit")
	must(t, c.Silence())
	must(t, c.Record(4, transcript))
	expectHeard(t, c, "Would you like a seed packet?")
	must(t, c.Press("#"))
	expectHeard(t, c, "Which colour should the new bench be?")
	must(t, c.Press("0"))
	if d := c.Dialed(); len(d) != 1 || d[0] != "+447700900999" {
		t.Fatalf("asking for a person dialled %v; heard %s", d, heard(c))
	}

	// They call back and carry on where they stopped.
	c2 := e.call(member)
	expectHeard(t, c2, "Welcome back.")
	must(t, c2.Press("1"))
	expectHeard(t, c2, "We will go on from where you stopped.", "Which colour should the new bench be?")
	must(t, c2.Speak(spokenColour, 0.9))
	expectHeard(t, c2, "Thank you for your answers.", "To talk to a person, press 0.")
	must(t, c2.Silence()) // no 0 at the last offer of a person: the call ends
	if c2.Waiting() != phonesim.WaitEnded {
		t.Fatalf("the call back did not end: waiting for %q", c2.Waiting())
	}
	must(t, e.sim.FlushCallbacks(e.ctx))
	e.flush()

	// What the calls said really is stored: the URLs had it to hide.
	got := e.answers(c.Sid)
	want := map[string]string{"flower": "sunflower", "weather": "rainstorm", "steps": stepCount, "story": "", "extra": "", "colour": "lavender"}
	if len(got) != len(want) {
		t.Fatalf("answers = %+v", got)
	}
	var recordingSid string
	for _, a := range got {
		if v, ok := want[a.Question]; !ok || v != a.Value {
			t.Errorf("answer %s = %q, want %q", a.Question, a.Value, v)
		}
		switch a.Question {
		case "story":
			recordingSid = a.Raw
		case "extra":
			if !a.Skipped {
				t.Errorf("extra was not skipped: %+v", a)
			}
		}
	}
	if ts, err := e.db.Transcripts(e.ctx, recordingSid); err != nil || len(ts) != 1 || ts[0].Text != transcript {
		t.Errorf("transcripts of %s = %+v, %v", recordingSid, ts, err)
	}
	if n := e.count(`SELECT count(*) FROM callbacks`); n != 1 {
		t.Errorf("%d call backs booked", n)
	}

	secrets := []string{"sunflower", "rainstorm", stepCount, "pond", "granny", "cardigan", "lavender",
		spokenFlower, spokenColour, transcript, "greenhouse", "tomatoes",
		member, strings.TrimPrefix(member, "+"), strings.TrimPrefix(member, "+44")}
	seen := checkURLs(t, e, log.docs, secrets)
	for _, where := range []string{"Gather action", "Redirect", "Play", "Record action", "Record recordingStatusCallback",
		"Record transcribeCallback", "Dial action"} {
		if len(seen[where]) == 0 {
			t.Errorf("no %s URL was handed to Twilio: the test did not look at one (seen: %v)", where, keys(seen))
		}
	}

	// The states did carry the answers: sealed, not left out.
	opened := map[string]bool{}
	for _, u := range seen["Gather action"] {
		pu, _ := url.Parse(u)
		plain, err := ivr.OpenState(e.h, pu.Query().Get("st"))
		if err != nil {
			t.Errorf("%s: our own state does not open: %v", u, err)
			continue
		}
		for _, s := range secretsIn(string(plain), []string{"sunflower", "rainstorm", stepCount}) {
			opened[s] = true
		}
	}
	if len(opened) != 3 {
		t.Errorf("the sealed states held only %v of the answers: the test proves nothing about the others", opened)
	}
}

func keys(m map[string][]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// gatherState returns the state parameter of the call's current <Gather>.
func gatherState(t *testing.T, c *phonesim.Call) (*url.URL, string) {
	t.Helper()
	u, err := url.Parse(c.Gather().Action)
	if err != nil {
		t.Fatal(err)
	}
	return u, u.Query().Get("st")
}

// withState is u with its state parameter replaced.
func withState(u *url.URL, st string) string {
	q := u.Query()
	q.Set("st", st)
	v := *u
	v.RawQuery = q.Encode()
	return v.String()
}

// A step whose state does not open — changed on the way, sealed with
// another HYS_SECRET_KEY, or readable as it was
// before states were sealed — starts the call afresh with valid TwiML.
func TestUnreadableStateRestartsTheCall(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	c := e.atQuestion1(t, member)
	u, st := gatherState(t, c)

	flipped := []byte(st)
	i := len(flipped) / 2
	if flipped[i] == 'A' {
		flipped[i] = 'B'
	} else {
		flipped[i] = 'A'
	}
	plain, err := ivr.OpenState(e.h, st)
	if err != nil {
		t.Fatal(err)
	}
	otherKey, err := ivr.SealState(&ivr.Handler{Config: ivr.Config{SecretKey: "another-secret-that-is-long-enough-456"}}, plain)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, st string }{
		{"tampered", string(flipped)},
		{"cut short", st[:len(st)/2]},
		{"another key", otherKey},
		{"readable, as before sealing", base64.RawURLEncoding.EncodeToString(plain)},
	} {
		// Afresh: the recording notice, then the offer to carry on from
		// where they were (Redis kept that, by their number).
		doc := e.postTwiML(t, withState(u, tc.st), callForm(c, "Digits", "1"))
		if strings.Contains(doc, "<Hangup") || !strings.Contains(doc, "We record this call") || !strings.Contains(doc, "Welcome back.") {
			t.Errorf("%s: the call did not start afresh: %s", tc.name, doc)
		}
	}
	if n := e.failureCount("bad-state"); n != 4 {
		t.Errorf("bad-state failures = %d, want 4", n)
	}
	// Nothing was taken from the states that did not open.
	e.flush()
	if got := e.answers(c.Sid); len(got) != 0 {
		t.Errorf("answers from unreadable states: %+v", got)
	}
}

// The state travels with the call, not in Redis: a call started and
// finished with Redis away carries on, and its answers arrive when Redis
// is back.
func TestCallCarriesOnWithRedisDown(t *testing.T) {
	t.Parallel()
	proxy, redisURL := storetest.NewProxy(t, storetest.RedisURL())
	e := newEnv(t, options{redisURL: redisURL, surveys: []string{gardenYAML}})
	proxy.Down()
	c := e.call(member)
	expectHeard(t, c, "Is that OK?")
	must(t, c.Press("1"))
	must(t, c.Press("2"))
	expectHeard(t, c, "You said: Bluebells.", "Which weather")
	must(t, c.Speak("sunny please", 0.9))
	expectHeard(t, c, "You said: Sun.", "How many steps")
	// A state that does not open starts afresh, Redis or not.
	u, _ := gatherState(t, c)
	doc := e.postTwiML(t, withState(u, "not-a-state"), callForm(c, "Digits", "5"))
	if !strings.Contains(doc, "Is that OK?") {
		t.Errorf("restart with Redis down: %s", doc)
	}
	must(t, c.Press("12#"))
	expectHeard(t, c, "Tell us about your last visit")
	must(t, c.Silence())
	must(t, c.Record(2, ""))
	must(t, c.Press("2"))
	must(t, c.Press("2"))
	expectHeard(t, c, "Thank you for your answers.", "To talk to a person, press 0.")
	must(t, c.Silence())
	if c.Waiting() != phonesim.WaitEnded {
		t.Fatalf("waiting for %q", c.Waiting())
	}
	if e.failureCount("redis") == 0 {
		t.Error("Redis was down, but no failure was counted")
	}
	proxy.Up()
	e.flush()
	got := e.answersKept(c.Sid)
	if got["flower"] != "bluebell" || got["weather"] != "heatwave" || got["steps"] != "12" || got["colour"] != "buttercup" {
		t.Errorf("answers = %+v", got)
	}
}

// longWord is an id or option value of longSurvey, unlike any other.
func longWord(kind string, i int) string {
	sum := sha256.Sum256([]byte(kind + strconv.Itoa(i)))
	return fmt.Sprintf("%s-%x", kind, sum[:14])
}

// longSurvey has n questions with long ids and option values that share
// nothing, the hardest case for the length of a state (its compression
// finds only the JSON and each id said twice, in the path and the answers).
func longSurvey(n int) string {
	word := longWord
	var b strings.Builder
	fmt.Fprintf(&b, "id: long\ntitle: A long survey\nlanguage: en-GB\nstart:\n  keywords: [LONG]\n  numbers: [%q]\n", ourNumber)
	b.WriteString("intro: Hello.\nconsent: Is that OK?\nquestions:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - id: %s\n    ask: Question %d.\n", word("question", i), i)
		switch {
		case i%5 == 4:
			b.WriteString("    answer: words\n    max_seconds: 30\n")
		case i%5 == 3:
			b.WriteString("    answer: number\n    min: 0\n    max: 999999\n")
		default:
			fmt.Fprintf(&b, "    answer: choice\n    options:\n      - {value: %s, say: Yes, key: 1}\n      - {value: %s, say: No, key: 2}\n",
				word("yes", i), word("no", i))
		}
	}
	return b.String()
}

// Twilio refuses URLs much longer than 4 KB: a long survey's state, with
// every answer given, must stay well inside that.
func TestStateURLStaysShort(t *testing.T) {
	t.Parallel()
	const questions = 40
	log := &twimlLog{}
	e := newEnv(t, options{surveys: []string{longSurvey(questions)}, client: &http.Client{Transport: log, Timeout: 15 * time.Second}})
	log.base = e.srv.URL
	c := e.call(member)
	must(t, c.Press("1"))
	for i := range questions {
		switch {
		case i%5 == 4:
			must(t, c.Silence())
			must(t, c.Record(3, ""))
		case i%5 == 3:
			must(t, c.Press(strconv.Itoa(100000+i*7919)+"#"))
		default:
			must(t, c.Press("1"))
		}
	}
	expectHeard(t, c, "Thank you for your answers.")
	// Long states are compressed before they are sealed: still nothing
	// readable in them.
	var secrets []string
	for i := range questions {
		if i%5 < 3 {
			secrets = append(secrets, strings.TrimPrefix(longWord("yes", i), "yes-"))
		}
	}
	checkURLs(t, e, log.docs, secrets)
	longest := ""
	for _, doc := range log.docs {
		for _, h := range urlsIn(t, doc) {
			if len(h.url) > len(longest) {
				longest = h.url
			}
		}
	}
	t.Logf("the longest URL of a %d-question survey is %d bytes", questions, len(longest))
	if len(longest) > 3000 {
		t.Errorf("a URL of %d bytes is too close to Twilio's limit: %s", len(longest), longest)
	}
}
