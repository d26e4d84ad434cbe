package export_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/haveyoursay/haveyoursay/export"
	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/store/storetest"
	"github.com/haveyoursay/haveyoursay/survey"
)

// BenchmarkExport exports a million answers (250,000 conversations of four,
// loaded with COPY) in each format, streamed from Postgres to nowhere, and
// prints answers a second, the process's peak RSS during the export and
// the largest Go heap seen. It fails below 50,000 answers a second. Run it
// once: -benchtime=1x (make bench does).
func BenchmarkExport(b *testing.B) {
	ctx := context.Background()
	db := storetest.DB(b)
	s := survey.Demo()
	if _, _, err := db.SaveSurvey(ctx, s.ID, s.Title, string(survey.DemoYAML), "day-service.yaml"); err != nil {
		b.Fatal(err)
	}
	const conversations, each = 250_000, 4
	start := time.Now()
	if err := db.SeedConversations(ctx, store.Seed{SurveyID: s.ID, Conversations: conversations, AnswersEach: each}); err != nil {
		b.Fatal(err)
	}
	fmt.Printf("seeded %d answers in %d conversations with COPY in %s\n", conversations*each, conversations, time.Since(start).Round(100*time.Millisecond))
	members, err := export.NewMembers(secret)
	if err != nil {
		b.Fatal(err)
	}
	e := &export.Exporter{DB: db, Members: members, PublicURL: "https://feedback.example.org"}
	b.ResetTimer()
	for _, format := range export.Formats {
		runtime.GC()
		resetPeakRSS()
		heap := watchHeap()
		t0, cpu0 := time.Now(), cpuTime()
		var w io.Writer = io.Discard
		out := ""
		if format == "floip" {
			out = "-" // a zip, to w
		}
		st, err := e.Run(ctx, export.Request{SurveyID: s.ID, Format: format, Actor: "bench", Via: "bench", Out: out}, w)
		took, cpu := time.Since(t0), cpuTime()-cpu0
		maxHeap := heap()
		if err != nil {
			b.Fatal(err)
		}
		if st.Conversations != conversations {
			b.Fatalf("%s: %d conversations exported, want %d", format, st.Conversations, conversations)
		}
		answers := conversations * each
		rate := float64(answers) / took.Seconds()
		fmt.Printf("export %-5s %d answers in %5.1f s: %6.0f answers/s (%6.0f conversations/s); this process used %4.1f s of CPU; peak RSS %3d MiB, largest Go heap %3d MiB\n",
			format, answers, took.Seconds(), rate, float64(conversations)/took.Seconds(), cpu.Seconds(), peakRSS()>>20, maxHeap>>20)
		b.ReportMetric(rate, format+"-answers/s")
		if rate < 50_000 {
			b.Errorf("%s: %.0f answers a second is under 50,000", format, rate)
		}
	}
}

// cpuTime is the CPU time (user and system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// watchHeap samples the Go heap in use until the returned function is
// called, which returns the largest sample.
func watchHeap() func() uint64 {
	var mu sync.Mutex
	var most uint64
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			mu.Lock()
			most = max(most, m.HeapInuse)
			mu.Unlock()
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		<-stopped
		mu.Lock()
		defer mu.Unlock()
		return most
	}
}

// resetPeakRSS starts the kernel's peak RSS count afresh (Linux).
func resetPeakRSS() { os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS is the process's peak resident memory since resetPeakRSS, in
// bytes (VmHWM), or 0 where /proc is missing.
func peakRSS() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
