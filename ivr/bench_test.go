package ivr_test

import (
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/haveyoursay/haveyoursay/phonesim"
	"github.com/haveyoursay/haveyoursay/server"
)

// timing records how long each voice webhook took to answer.
type timing struct {
	base http.RoundTripper
	mu   sync.Mutex
	took []time.Duration
}

func (t *timing) RoundTrip(r *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.base.RoundTrip(r)
	if strings.HasPrefix(r.URL.Path, "/twilio/voice") {
		d := time.Since(start)
		t.mu.Lock()
		t.took = append(t.took, d)
		t.mu.Unlock()
	}
	return resp, err
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(float64(len(sorted))*p))]
}

// BenchmarkVoiceWebhook walks whole calls (incoming call, consent, three
// answers, end of call: six webhooks each) through real HTTP, real
// Postgres and real Redis, with several calls at once pressing keys with
// no pause at all (far busier than people), and reports the webhooks' p50
// and p99. The emulator runs in the same process and shares the CPU.
func BenchmarkVoiceWebhook(b *testing.B) {
	for _, calls := range []int{4, 16, 64} {
		b.Run(fmt.Sprintf("calls=%d", calls), func(b *testing.B) { benchCalls(b, calls) })
	}
}

func benchCalls(b *testing.B, workers int) {
	server.TuneGC(os.Getenv) // as serve runs
	tm := &timing{base: &http.Transport{MaxIdleConnsPerHost: 128}}
	e := newEnv(b, options{client: &http.Client{Transport: tm, Timeout: 15 * time.Second}})
	var next atomic.Int64
	var failed atomic.Value
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				if err := walkCall(e, fmt.Sprintf("+4477009%05d", i)); err != nil {
					failed.Store(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	tm.mu.Lock()
	took := slices.Clone(tm.took)
	tm.mu.Unlock()
	slices.Sort(took)
	b.ReportMetric(float64(percentile(took, 0.50).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(percentile(took, 0.99).Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(len(took))/elapsed.Seconds(), "webhooks/s")
}

func walkCall(e *env, from string) error {
	c, err := e.sim.Call(e.ctx, from, ourNumber)
	if err != nil {
		return err
	}
	for _, k := range []string{"1", "1", "4", "2"} {
		if err := c.Press(k); err != nil {
			return err
		}
	}
	// No 0 at the last offer of a person: the call ends (no webhook).
	if err := c.Silence(); err != nil {
		return err
	}
	if c.Waiting() != phonesim.WaitEnded {
		return fmt.Errorf("call from %s did not end: %v", from, c.Heard())
	}
	return nil
}
