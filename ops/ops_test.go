package ops_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

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
