package sms_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkInboundSMS drives whole demo-survey conversations from many
// simulated members at once over real HTTP, with real Postgres and Redis
// and the background journal writer running, and reports webhooks per
// second and the p50/p99 latency of one webhook.
func BenchmarkInboundSMS(b *testing.B) {
	f := newBenchFixture(b)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.journal.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	script := []string{"DAYS", "yes", "1", "4", "2"} // a whole conversation
	const workers = 32
	var next atomic.Int64
	lat := make([][]time.Duration, workers)
	var failures atomic.Int64
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				n := next.Add(1)
				if n > int64(b.N) {
					return
				}
				from := fmt.Sprintf("+4477009%05d", w*1000+i/len(script)%1000)
				body := script[i%len(script)]
				t0 := time.Now()
				if _, err := f.sim.Text(context.Background(), from, ours, body); err != nil {
					failures.Add(1)
				}
				lat[w] = append(lat[w], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	pct := func(p float64) float64 {
		if len(all) == 0 {
			return 0
		}
		return float64(all[int(p*float64(len(all)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "webhooks/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(failures.Load()), "errors")
	if err := f.journal.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
}
