package ops_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/haveyoursay/haveyoursay/ops"
)

func TestReadyzNamesWhatFails(t *testing.T) {
	checks := ops.Checks{
		"postgres": func(context.Context) error { return nil },
		"redis":    func(context.Context) error { return errors.New("connection refused") },
	}
	rec := httptest.NewRecorder()
	checks.Readyz(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("code %d, want 503", rec.Code)
	}
	var body struct {
		Ready   bool
		Failing []string
		Checks  map[string]string
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if body.Ready || len(body.Failing) != 1 || body.Failing[0] != "redis" || body.Checks["postgres"] != "ok" {
		t.Fatalf("body %+v", body)
	}

	checks["redis"] = func(context.Context) error { return nil }
	rec = httptest.NewRecorder()
	checks.Readyz(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("all answering: code %d, want 200", rec.Code)
	}
}

func TestReadyzNamesSurveysThatDoNotLoad(t *testing.T) {
	rd := ops.Readiness{
		Checks:           ops.Checks{"postgres": func(context.Context) error { return nil }},
		SurveysNotLoaded: func() []string { return []string{"outings"} },
	}
	rec := httptest.NewRecorder()
	rd.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	var body struct {
		Ready            bool
		SurveysNotLoaded []string `json:"surveys_not_loaded"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	// The other surveys work: still ready, but the broken one is named.
	if rec.Code != http.StatusOK || !body.Ready || len(body.SurveysNotLoaded) != 1 || body.SurveysNotLoaded[0] != "outings" {
		t.Fatalf("code %d, body %s", rec.Code, rec.Body.String())
	}
}

// /readyz is public: it names what fails, never why (a user, host or
// port); and while the server drains it says 503 at once.
func TestReadyzKeepsDetailsForTheLog(t *testing.T) {
	draining := false
	rd := ops.Readiness{
		Checks: ops.Checks{"postgres": func(context.Context) error {
			return errors.New(`failed to connect to user=hys database=haveyoursay host=10.0.0.5:5432`)
		}},
		Draining: func() bool { return draining },
	}
	rec := httptest.NewRecorder()
	rd.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	body := rec.Body.String()
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(body, `"postgres"`) {
		t.Fatalf("code %d: %s", rec.Code, body)
	}
	for _, secret := range []string{"hys", "10.0.0.5", "5432", "haveyoursay"} {
		if strings.Contains(body, secret) {
			t.Errorf("/readyz shows %q: %s", secret, body)
		}
	}
	rd.Checks["postgres"] = func(context.Context) error { return nil }
	draining = true
	rec = httptest.NewRecorder()
	rd.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), `"draining":true`) {
		t.Fatalf("draining: code %d: %s", rec.Code, rec.Body.String())
	}
}

// With HYS_METRICS_TOKEN set, /metrics answers only a request bearing it;
// the spool's depth, age and failures are among the metrics.
func TestMetricsToken(t *testing.T) {
	m := ops.NewMetrics(nil)
	m.WatchSpool(func() ops.SpoolStats { return ops.SpoolStats{Depth: 7, OldestAge: 3 * time.Second, WriteFailures: 2} })
	m.Token = "a-long-random-metrics-token"
	h := m.Handler()
	for _, c := range []struct {
		auth string
		want int
	}{{"", http.StatusUnauthorized}, {"Bearer wrong", http.StatusUnauthorized}, {"Bearer a-long-random-metrics-token", http.StatusOK}} {
		req := httptest.NewRequest("GET", "/metrics", nil)
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != c.want {
			t.Fatalf("Authorization %q: %d, want %d", c.auth, rec.Code, c.want)
		}
		if c.want == http.StatusOK {
			for _, want := range []string{"hys_spool_depth 7", "hys_spool_oldest_age_seconds 3", "hys_spool_write_failures_total 2"} {
				if !strings.Contains(rec.Body.String(), want) {
					t.Errorf("/metrics lacks %q", want)
				}
			}
		} else if !strings.Contains(rec.Body.String(), "HYS_METRICS_TOKEN") {
			t.Errorf("a refusal should say what is needed: %s", rec.Body.String())
		}
	}
}
