package audio_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/haveyoursay/haveyoursay/audio"
	"github.com/haveyoursay/haveyoursay/phonesim"
	"github.com/haveyoursay/haveyoursay/store/storetest"
)

// BenchmarkAudioServe measures GET /audio/{name} over real HTTP from real
// Postgres, as Twilio fetches a prompt for <Play>: a full answer (a 3 s
// phone-quality WAV, 48 KB) and a 304 to a conditional request (what
// Twilio's cache sends once it has the file). Figures: requests a second
// and, for full answers, MB a second.
func BenchmarkAudioServe(b *testing.B) {
	ctx := context.Background()
	db := storetest.DB(b)
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	lib := audio.NewLibrary(db, srv.URL, nil)
	mux.Handle("GET /audio/{name}", lib)
	data := phonesim.WAV(3)
	p, err := lib.Add(ctx, "bench", "en-GB", "intro", data)
	if err != nil {
		b.Fatal(err)
	}
	u := lib.URL(p.Name)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	first, err := client.Get(u)
	if err != nil {
		b.Fatal(err)
	}
	first.Body.Close()
	etag := first.Header.Get("ETag")

	for _, tc := range []struct {
		name string
		etag string
		want int
	}{{"full", "", http.StatusOK}, {"304", etag, http.StatusNotModified}} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetParallelism(4) // 4 x GOMAXPROCS fetches at once
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req, _ := http.NewRequest("GET", u, nil)
					if tc.etag != "" {
						req.Header.Set("If-None-Match", tc.etag)
					}
					res, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					n, _ := io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if res.StatusCode != tc.want || (tc.want == 200 && n != int64(len(data))) {
						b.Errorf("GET %s: %d, %d bytes", u, res.StatusCode, n)
						return
					}
				}
			})
			secs := b.Elapsed().Seconds()
			b.ReportMetric(float64(b.N)/secs, "req/s")
			if tc.want == 200 {
				b.ReportMetric(float64(b.N)*float64(len(data))/secs/1e6, "MB/s")
			}
		})
	}
}
