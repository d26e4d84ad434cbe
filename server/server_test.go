package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/haveyoursay/haveyoursay/config"
	"github.com/haveyoursay/haveyoursay/server"
	"github.com/haveyoursay/haveyoursay/store/storetest"
	"github.com/haveyoursay/haveyoursay/survey"
)

// newTestServer builds the whole server, as serve does, on a fresh
// database and Redis key space: how a test reaches every real route.
func newTestServer(t *testing.T, dev bool) *httptest.Server {
	t.Helper()
	ctx := context.Background()
	cfg := config.Defaults()
	cfg.TwilioAccountSID = "AC0123456789abcdef0123456789abcdef"
	cfg.TwilioAuthToken = "0123456789abcdef0123456789abcdef"
	cfg.PublicURL = "https://feedback.example.org"
	cfg.SecretKey = "this-is-a-test-secret-of-enough-length"
	cfg.TwilioAPIURL = "http://127.0.0.1:1" // nothing is texted in these tests
	db := storetest.DB(t)
	s := survey.Demo()
	if _, _, err := db.SaveSurvey(ctx, s.ID, s.Title, string(survey.DemoYAML), "day-service.yaml"); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(ctx, server.Deps{Config: cfg, DB: db, Redis: storetest.Redis(t), Dev: dev})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() { hs.Close(); srv.Close() })
	return hs
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestNewServesTheOperationsRoutes(t *testing.T) {
	hs := newTestServer(t, false)
	code, body := get(t, hs.URL+"/readyz")
	var ready struct {
		Ready            bool
		SurveysNotLoaded []string `json:"surveys_not_loaded"`
	}
	if err := json.Unmarshal([]byte(body), &ready); err != nil || code != 200 || !ready.Ready || len(ready.SurveysNotLoaded) != 0 {
		t.Fatalf("/readyz = %d %s (%v)", code, body, err)
	}
	if code, body := get(t, hs.URL+"/metrics"); code != 200 || !strings.Contains(body, "hys_pg_pool_connections") {
		t.Errorf("/metrics = %d, lacks the pool's statistics", code)
	}
	// The Try-it phone is for dev only: it signs webhooks with our token.
	if code, _ := get(t, hs.URL+"/try"); code != http.StatusNotFound {
		t.Errorf("/try on a production server = %d, want 404", code)
	}
	// A webhook without Twilio's signature changes nothing.
	resp, err := http.PostForm(hs.URL+"/twilio/sms", map[string][]string{"From": {"+447700900123"}, "Body": {"DAYS"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("an unsigned text = %d, want 403", resp.StatusCode)
	}
}

func TestNewWithDevAddsTheTryItPhone(t *testing.T) {
	hs := newTestServer(t, true)
	if code, body := get(t, hs.URL+"/try"); code != 200 || !strings.Contains(body, "day-service") {
		t.Errorf("/try = %d", code)
	}
}
