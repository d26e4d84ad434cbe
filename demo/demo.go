// Package demo fills a dev database with a few hundred realistic
// conversations, so that no page of the dashboard is empty when staff try
// Have Your Say.
//
// Nothing is written to the database directly: scripted members text and
// call the real server through the Twilio emulator (phonesim), so every
// answer, recording, transcript, call-back and "not understood" input goes
// through the real webhooks, engine and journal, as a member's would.
// Afterwards each conversation is moved back to a moment in the last few
// weeks (Options.Backdate), since the journal stamps what it keeps with
// the time it happened.
package demo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/haveyoursay/haveyoursay/phonesim"
)

// Options says which server to fill and how.
type Options struct {
	// Handler is the whole server (every route), driven in the same
	// process. When nil, requests go over HTTP to PublicURL.
	Handler http.Handler
	// PublicURL is the server's PUBLIC_URL: webhooks are signed for it.
	PublicURL string
	// AccountSID and AuthToken are the Twilio account the server checks
	// signatures and fetches recordings with.
	AccountSID, AuthToken string

	// Conversations is how many to make; default 300.
	Conversations int
	// Days is how far back they are spread; default 42 (six weeks).
	Days int
	// Workers is how many members talk at once; default 8.
	Workers int
	// Seed picks the members and what they say; the same seed makes the
	// same demo. Default 1.
	Seed uint64
	// Now is the clock; default time.Now.
	Now func() time.Time

	// Settle waits until everything the server was told is in Postgres
	// (the journal's spool is empty). Needed before Backdate.
	Settle func(ctx context.Context) error
	// Backdate moves each member's rows stamped while they talked back to
	// the moment their conversation should seem to have happened. When nil
	// every conversation keeps the time it was loaded.
	Backdate func(ctx context.Context, shifts []Shift) error

	// Log hears about conversations that went wrong; default silent.
	Log *slog.Logger
}

// Shift moves back by By every row belonging to the member with phone
// number Phone that was stamped between From and To (inclusive, on the
// real clock, as the journal stamps): their conversation, answers, texts,
// call inputs, call-back, recordings, transcripts and opt-out.
type Shift struct {
	Phone    string
	From, To time.Time
	By       time.Duration
}

// Result says what was loaded.
type Result struct {
	Conversations int // conversations started
	Texts, Calls  int // of which by text, by phone
	Recordings    int // spoken answers recorded
	Failed        int // conversations that went wrong (see the error)
	Shifts        []Shift
}

// Load has the demo members text and call the server, then spreads their
// conversations over the last Options.Days days. It returns an error when
// conversations went wrong, with what was loaded anyway. It is meant for
// an empty database: a second run adds a second set of conversations
// (from the same numbers), so load only when there are none.
func Load(ctx context.Context, o Options) (Result, error) {
	if o.Conversations <= 0 {
		o.Conversations = 300
	}
	if o.Days <= 0 {
		o.Days = 42
	}
	if o.Workers <= 0 {
		o.Workers = 8
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.PublicURL == "" || o.AuthToken == "" {
		return Result{}, errors.New("demo: PublicURL and AuthToken are needed to sign webhooks as Twilio does")
	}
	client := &http.Client{Timeout: 30 * time.Second}
	if o.Handler != nil {
		u, err := url.Parse(o.PublicURL)
		if err != nil {
			return Result{}, fmt.Errorf("demo: PUBLIC_URL %q is not a URL: %w", o.PublicURL, err)
		}
		client.Transport = inProcess{h: o.Handler, host: u.Host, next: http.DefaultTransport}
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x4859))
	members := plan(rng, o.Conversations, o.Days, o.Now())
	// Oldest first, so row ids grow roughly with time, as they would have.
	sortVisits(members)

	var (
		mu   sync.Mutex
		res  Result
		errs []error
	)
	jobs := make(chan []visit)
	var wg sync.WaitGroup
	for w := range o.Workers {
		wg.Go(func() {
			wrng := rand.New(rand.NewPCG(o.Seed, uint64(w)))
			for vs := range jobs {
				for _, v := range vs {
					if ctx.Err() != nil {
						return
					}
					from := time.Now()
					recs, err := o.talk(ctx, client, v, wrng)
					shift := Shift{Phone: v.phone, From: from, To: time.Now(), By: from.Sub(v.at)}
					mu.Lock()
					res.Conversations++
					if v.voice {
						res.Calls++
					} else {
						res.Texts++
					}
					res.Recordings += recs
					res.Shifts = append(res.Shifts, shift)
					if err != nil {
						res.Failed++
						o.Log.Warn("a demo conversation went wrong", "err", err)
						if len(errs) < 5 {
							errs = append(errs, err)
						}
					}
					mu.Unlock()
				}
			}
		})
	}
	for _, vs := range members {
		select {
		case jobs <- vs:
		case <-ctx.Done():
		}
	}
	close(jobs)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return res, err
	}
	if o.Backdate != nil {
		if o.Settle != nil {
			if err := o.Settle(ctx); err != nil {
				return res, fmt.Errorf("demo: waiting for the conversations to reach the database: %w", err)
			}
		}
		if err := o.Backdate(ctx, res.Shifts); err != nil {
			return res, fmt.Errorf("demo: spreading the conversations over the last %d days: %w", o.Days, err)
		}
	}
	if res.Failed > 0 {
		return res, fmt.Errorf("demo: %d of %d conversations went wrong: %w", res.Failed, res.Conversations, errors.Join(errs...))
	}
	return res, nil
}

// talk plays one visit with an emulator of its own, so the recording and
// transcription callbacks it delivers belong to this member's time.
// It returns how many answers were recorded.
func (o Options) talk(ctx context.Context, client *http.Client, v visit, rng *rand.Rand) (int, error) {
	sim := phonesim.New(phonesim.Config{AccountSID: o.AccountSID, AuthToken: o.AuthToken, WebhookBase: o.PublicURL,
		HTTPClient: client})
	defer sim.Close()
	var recs int
	var err error
	if v.voice {
		recs, err = call(ctx, sim, v, rng)
	} else {
		err = texts(ctx, sim, v)
	}
	if ferr := sim.FlushCallbacks(ctx); ferr != nil {
		err = errors.Join(err, ferr)
	}
	if err != nil {
		return recs, fmt.Errorf("%s %s: %w", map[bool]string{true: "call", false: "texts"}[v.voice], v.kind, err)
	}
	return recs, nil
}

// notUnderstood tells, from what the member was told, that we did not
// understand their last answer (the engine's retry and ladder phrases,
// in English and Welsh).
func notUnderstood(said string) bool {
	for _, p := range []string{"did not understand", "did not get an answer", "different way", "one answer",
		"ddim deall", "ddim ateb", "ffordd wahanol", "un ateb"} {
		if strings.Contains(said, p) {
			return true
		}
	}
	return false
}

// texts plays a visit by SMS.
func texts(ctx context.Context, sim *phonesim.Emulator, v visit) error {
	for _, s := range v.steps {
		if s.do == hangup {
			return nil
		}
		res, err := sim.Text(ctx, v.phone, v.to, s.words)
		if err != nil {
			return err
		}
		if s.retry != "" && notUnderstood(strings.Join(res.Messages, " ")) {
			if _, err := sim.Text(ctx, v.phone, v.to, s.retry); err != nil {
				return err
			}
		}
	}
	return nil
}

// call plays a visit by phone and returns how many answers it recorded.
func call(ctx context.Context, sim *phonesim.Emulator, v visit, rng *rand.Rand) (int, error) {
	c, err := sim.Call(ctx, v.phone, v.to)
	if err != nil {
		return 0, err
	}
	recs := 0
	var before []string
	for i, s := range v.steps {
		before = c.Heard()
		if c.Waiting() == phonesim.WaitEnded {
			return recs, nil
		}
		switch s.do {
		case press:
			if c.Waiting() == phonesim.WaitRecord {
				err = c.Silence() // pressed before the beep: nothing recorded
			}
			if err == nil {
				err = c.Press(s.keys)
			}
		case speak:
			if g := c.Gather(); g != nil && !g.Accepts("speech") {
				// A keypad-only menu (the moment before a beep): the
				// member presses the key they meant, if they have one.
				if s.retry != "" {
					err = c.Press(s.retry)
				}
				break
			}
			err = c.Speak(s.words, s.conf)
		case silence:
			err = c.Silence()
		case record:
			if c.Waiting() == phonesim.WaitGather {
				err = c.Silence() // the short gather before the beep
			}
			// Not at a words question after all (an earlier answer was
			// taken differently than scripted): the silence stands.
			if err == nil && c.Waiting() == phonesim.WaitRecord {
				err = c.RecordWAV(voiceWAV(s.words, rng), s.words)
				recs++
			}
		case hangup:
			return recs, c.Hangup()
		}
		if err != nil {
			return recs, fmt.Errorf("step %d of %d: %w (the member had just heard %q)", i+1, len(v.steps), err, before)
		}
		if s.retry != "" && c.Waiting() == phonesim.WaitGather && notUnderstood(strings.Join(c.Heard(), " ")) {
			if err := c.Press(s.retry); err != nil {
				return recs, err
			}
		}
	}
	// Nothing is left to say: a member who is still on the line hangs up.
	return recs, c.Hangup()
}

// inProcess hands requests for the server's own host to its handler
// without a network round trip; anything else (the emulator's recordings)
// goes over HTTP.
type inProcess struct {
	h    http.Handler
	host string
	next http.RoundTripper
}

func (t inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host != t.host {
		return t.next.RoundTrip(req)
	}
	r := req.Clone(req.Context())
	r.RequestURI = req.URL.RequestURI()
	r.RemoteAddr = "127.0.0.1:1"
	r.Host = req.URL.Host
	if r.Body == nil {
		r.Body = http.NoBody
	}
	w := httptest.NewRecorder()
	t.h.ServeHTTP(w, r)
	resp := w.Result()
	resp.Request = req
	return resp, nil
}
