package phonesim

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/haveyoursay/haveyoursay/webhook"
)

const testToken = "tok123abc"

// fakeApp is a scripted app: each path answers TwiML from a function of the
// (signature-checked) request.
type fakeApp struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	routes map[string]func(f url.Values) string
	reqs   []appRequest
}

type appRequest struct {
	Method, Path, RawQuery string
	Form                   url.Values
}

func newApp(t *testing.T) *fakeApp {
	a := &fakeApp{t: t, routes: map[string]func(url.Values) string{}}
	a.srv = httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *fakeApp) serve(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/audio/") {
		if strings.HasSuffix(r.URL.Path, ".html") {
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, "<p>not audio</p>")
			return
		}
		w.Header().Set("Content-Type", "audio/wav")
		w.Write(WAV(1))
		return
	}
	v := webhook.Verifier{AuthToken: testToken, PublicURL: a.srv.URL}
	if err := v.Check(r); err != nil {
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	}
	form := r.PostForm
	if r.Method == "GET" {
		form = r.URL.Query()
	}
	a.mu.Lock()
	a.reqs = append(a.reqs, appRequest{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Form: form})
	h := a.routes[r.URL.Path]
	a.mu.Unlock()
	if h == nil {
		if strings.HasSuffix(r.URL.Path, "/status") || strings.HasPrefix(r.URL.Path, "/cb/") {
			w.WriteHeader(204)
			return
		}
		http.NotFound(w, r)
		return
	}
	body := h(form)
	if strings.HasPrefix(body, "STATUS ") {
		var code int
		fmt.Sscanf(body, "STATUS %d", &code)
		http.Error(w, "boom", code)
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	io.WriteString(w, body)
}

func (a *fakeApp) route(path string, h func(f url.Values) string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.routes[path] = h
}

func (a *fakeApp) static(path, twiml string) {
	a.route(path, func(url.Values) string { return twiml })
}

func (a *fakeApp) requests(path string) []appRequest {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []appRequest
	for _, r := range a.reqs {
		if r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

func (a *fakeApp) last(path string) appRequest {
	a.t.Helper()
	rs := a.requests(path)
	if len(rs) == 0 {
		a.t.Fatalf("no request to %s", path)
	}
	return rs[len(rs)-1]
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newEmu(t *testing.T, a *fakeApp) (*Emulator, *fakeClock) {
	clk := &fakeClock{t: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
	e := New(Config{AuthToken: testToken, WebhookBase: a.srv.URL, Clock: clk.Now})
	t.Cleanup(func() { e.Close() })
	return e, clk
}

func resp(inner string) string {
	return `<?xml version="1.0" encoding="UTF-8"?><Response>` + inner + `</Response>`
}

func eq(t *testing.T, what string, got, want any) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}
