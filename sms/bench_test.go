package sms_test

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/haveyoursay/haveyoursay/phonesim"
	"github.com/haveyoursay/haveyoursay/store/storetest"
)

// BenchmarkInboundSMS offers inbound-SMS webhooks at a steady rate (2,200
// a second unless HYS_BENCH_RATE says otherwise) from many simulated
// members, each texting whole demo-survey conversations, over real HTTP
// with real Postgres and Redis and the journal writer running. It reports
// the rate achieved and the p50/p99 latency of a webhook. b.N is the
// number of webhooks.
func BenchmarkInboundSMS(b *testing.B) {
	rate := 2200.0
	if v, err := strconv.ParseFloat(os.Getenv("HYS_BENCH_RATE"), 64); err == nil && v > 0 {
		rate = v
	}
	f := newBenchFixture(b)
	// The server's own journal writer runs meanwhile, as in production.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// Tokens arrive at the target rate; a worker sends one webhook per token.
	tokens := make(chan struct{}, 1024)
	go func() {
		const tick = time.Millisecond
		t := time.NewTicker(tick)
		defer t.Stop()
		start := time.Now()
		sent := 0
		for {
			select {
			case <-ctx.Done():
				close(tokens)
				return
			case now := <-t.C:
				due := int(now.Sub(start).Seconds() * rate)
				for ; sent < due; sent++ {
					select {
					case tokens <- struct{}{}:
					default: // the server is not keeping up: the token is lost
					}
				}
			}
		}
	}()

	script := []string{"DAYS", "yes", "1", "4", "2"} // a whole conversation
	const workers = 256
	var issued atomic.Int64
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
				if _, ok := <-tokens; !ok {
					return
				}
				if issued.Add(1) > int64(b.N) {
					return
				}
				from := fmt.Sprintf("+4477%07d", w*10000+i/len(script))
				t0 := time.Now()
				if _, err := f.sim.Text(context.Background(), from, ours, script[i%len(script)]); err != nil {
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
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "webhooks/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(failures.Load()), "errors")
	if err := f.journal.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkInboundSMSStored is the storing side of the inbound path: 64
// members text whole demo-survey conversations as fast as the server
// answers, over real HTTP, and the clock stops only when every row is in
// Postgres. It reports texts answered a second (load only) and texts
// stored a second (load plus the time until the spool is empty). b.N is
// the number of texts.
func BenchmarkInboundSMSStored(b *testing.B) {
	f := newBenchFixture(b)
	b.ResetTimer()
	start := time.Now()
	failures := textAsMembers(b.N, f.sim, "+4478")
	answered := time.Since(start)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := f.journal.Settle(ctx); err != nil {
		b.Fatal(err)
	}
	stored := time.Since(start)
	b.StopTimer()
	var rows int
	if err := storetest.SQL(b, f.db).QueryRow(ctx, `SELECT count(*) FROM messages WHERE direction = 'in'`).Scan(&rows); err != nil {
		b.Fatal(err)
	}
	if rows != b.N-int(failures) {
		b.Fatalf("%d texts in Postgres, want %d", rows, b.N-int(failures))
	}
	b.ReportMetric(float64(b.N)/answered.Seconds(), "answered/s")
	b.ReportMetric(float64(b.N)/stored.Seconds(), "stored/s")
	b.ReportMetric(float64(failures), "errors")
	b.ReportMetric(peakRSS(), "peak-RSS-MB")
}

// textAsMembers sends n texts from 64 members at once, each texting whole
// demo-survey conversations (a new number, prefix and digits, for each) as
// fast as the server answers, and returns how many failed.
func textAsMembers(n int, sim *phonesim.Emulator, prefix string) (failures int64) {
	script := []string{"DAYS", "yes", "1", "4", "2"}
	const members = 64
	var issued, failed atomic.Int64
	var wg sync.WaitGroup
	for w := range members {
		wg.Go(func() {
			for i := 0; ; i++ {
				if issued.Add(1) > int64(n) {
					return
				}
				from := fmt.Sprintf("%s%07d", prefix, w*100000+i/len(script))
				if _, err := sim.Text(context.Background(), from, ours, script[i%len(script)]); err != nil {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return failed.Load()
}

// BenchmarkReplyBurst sends 10,000 replies at once (a survey texted to a
// whole membership, everyone answering within seconds: 200 at a time, as
// fast as the server answers), and reports the time until every one was
// answered 200 (absorb), the time until every one was in Postgres
// (store), the p99 of a reply, and the process's peak memory. b.N is
// ignored: one burst is one run.
func BenchmarkReplyBurst(b *testing.B) {
	const burst, senders = 10000, 200
	f := newBenchFixture(b)
	// Each member first starts the survey, so the burst is replies.
	members := burst / 4
	var wg sync.WaitGroup
	for s := range senders {
		wg.Go(func() {
			for m := s; m < members; m += senders {
				f.sim.Text(context.Background(), fmt.Sprintf("+4476%08d", m), ours, "DAYS")
			}
		})
	}
	wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := f.journal.Settle(ctx); err != nil {
		b.Fatal(err)
	}
	script := []string{"yes", "1", "4", "2"}
	lat := make([][]time.Duration, senders)
	var failures atomic.Int64
	b.ResetTimer()
	start := time.Now()
	for s := range senders {
		wg.Go(func() {
			// Each sender owns members s, s+senders, …: one member's
			// replies go in order, as a phone sends them.
			for round := range script {
				for m := s; m < members; m += senders {
					t0 := time.Now()
					if _, err := f.sim.Text(context.Background(), fmt.Sprintf("+4476%08d", m), ours, script[round]); err != nil {
						failures.Add(1)
					}
					lat[s] = append(lat[s], time.Since(t0))
				}
			}
		})
	}
	wg.Wait()
	absorbed := time.Since(start)
	if err := f.journal.Settle(ctx); err != nil {
		b.Fatal(err)
	}
	stored := time.Since(start)
	b.StopTimer()
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	b.ReportMetric(absorbed.Seconds(), "absorb-s")
	b.ReportMetric(stored.Seconds(), "store-s")
	b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(failures.Load()), "errors")
	b.ReportMetric(peakRSS(), "peak-RSS-MB")
}

// peakRSS is the most memory this process has held, in megabytes.
func peakRSS() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Maxrss) / 1024 // Linux: kilobytes
}
