package ivr_test

import (
	"syscall"
	"testing"
)

// BenchmarkBusyVoiceWebhook is BenchmarkVoiceWebhook with 200 calls at
// once, pressing keys with no pause: the voice p99 when a phone-in
// campaign is at its busiest. It also reports the process's peak memory.
func BenchmarkBusyVoiceWebhook(b *testing.B) {
	benchCalls(b, 200)
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		b.ReportMetric(float64(ru.Maxrss)/1024, "peak-RSS-MB") // Linux: kilobytes
	}
}
