package dashboard

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/store/storetest"
	"github.com/haveyoursay/haveyoursay/survey"
)

// BenchmarkReviewPages measures the conversations page and a search
// through the real handler over HTTP, signed in, with a million answers
// in Postgres (250,000 conversations of four answers, loaded with COPY).
// It prints p50/p95/p99 and fails above 150 ms at p95. Run it once:
// -benchtime=1x (make bench does).
func BenchmarkReviewPages(b *testing.B) {
	ctx := context.Background()
	db := storetest.DB(b)
	phones, err := store.NewPhones("a-test-secret-that-is-long-enough-for-hys")
	if err != nil {
		b.Fatal(err)
	}
	app, err := New(Deps{DB: db, Redis: storetest.Redis(b), Phones: phones, Log: slog.New(slog.DiscardHandler),
		Config: Config{PublicURL: "http://127.0.0.1"}})
	if err != nil {
		b.Fatal(err)
	}
	r := mux.NewRouter()
	app.Routes(r)
	srv := httptest.NewServer(r)
	defer srv.Close()
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
	if _, err := AddUser(ctx, db, NewUser{Email: "bench@example.org", Role: Staff, Password: "a bench password 123"}); err != nil {
		b.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	res, err := client.PostForm(srv.URL+"/login", url.Values{"email": {"bench@example.org"}, "password": {"a bench password 123"}})
	if err != nil {
		b.Fatal(err)
	}
	res.Body.Close()
	get := func(path string) (int, string) {
		res, err := client.Get(srv.URL + path)
		if err != nil {
			b.Fatal(err)
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		if err != nil {
			b.Fatal(err)
		}
		return res.StatusCode, string(body)
	}
	if status, body := get("/conversations"); status != http.StatusOK || !strings.Contains(body, "Conversations") {
		b.Fatalf("signed in, /conversations = %d", status)
	}

	// Follow the "next page" links a few pages deep, as a person does.
	var pages []string
	next := "/conversations"
	for range 5 {
		pages = append(pages, next)
		_, body := get(next)
		i := strings.Index(body, `href="/conversations?after=`)
		if i < 0 {
			b.Fatal("no next page link")
		}
		next = strings.ReplaceAll(body[i+6:i+6+strings.Index(body[i+6:], `"`)], "&amp;", "&")
	}
	pages = append(pages, "/conversations?channel=voice&status=partial", "/conversations?survey=day-service&question=better", "/conversations?theme=ideas")
	var searches []string
	for _, q := range []string{"garden", "toilets dirty", `"quiet place"`, "minibus driver", "keyworker", "elephant", "swimming -music"} {
		searches = append(searches, "/conversations?q="+url.QueryEscape(q))
	}
	searches = append(searches, "/conversations?q=garden&channel=sms&status=completed")

	b.ResetTimer()
	for _, kind := range []struct {
		name  string
		paths []string
	}{{"conversations page", pages}, {"search", searches}} {
		var took []time.Duration
		for i := range 240 {
			p := kind.paths[i%len(kind.paths)]
			t0 := time.Now()
			status, _ := get(p)
			took = append(took, time.Since(t0))
			if status != http.StatusOK {
				b.Fatalf("GET %s = %d", p, status)
			}
		}
		slices.Sort(took)
		pct := func(p float64) time.Duration { return took[int(p*float64(len(took)-1))] }
		fmt.Printf("%-18s p50 %6.1f ms  p95 %6.1f ms  p99 %6.1f ms  (%d requests over HTTP)\n", kind.name,
			ms(pct(.50)), ms(pct(.95)), ms(pct(.99)), len(took))
		b.ReportMetric(ms(pct(.95)), strings.ReplaceAll(kind.name, " ", "-")+"-p95-ms")
		if pct(.95) > 150*time.Millisecond {
			b.Errorf("%s: p95 %s is over 150 ms", kind.name, pct(.95))
		}
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
