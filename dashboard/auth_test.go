package dashboard

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestSignInAndOut(t *testing.T) {
	ta := newTestApp(t)
	ta.addUser(t, "sam@example.org", Staff)
	b := ta.browser(t)

	res := b.get("/users?x=1")
	if res.status != http.StatusSeeOther || res.location != "/login?next=%2Fusers%3Fx%3D1" {
		t.Fatalf("no session: %d %q, want a redirect to the sign-in page", res.status, res.location)
	}
	res = b.get("/login")
	if res.status != 200 || !strings.Contains(res.body, `<label for="email">`) || !strings.Contains(res.body, `lang="en-GB"`) {
		t.Fatalf("GET /login = %d %s", res.status, res.body)
	}
	res = b.post("/login", url.Values{"email": {"SAM@example.org"}, "password": {testPassword}, "next": {"/people/1"}})
	if res.status != http.StatusSeeOther || res.location != "/people/1" {
		t.Fatalf("signing in = %d %q %s", res.status, res.location, res.body)
	}
	res = b.get("/")
	if res.status != 200 || !strings.Contains(res.body, "What needs attention") {
		t.Fatalf("home = %d %s", res.status, res.body)
	}
	res = b.post("/logout", nil)
	if res.status != http.StatusSeeOther {
		t.Fatalf("signing out = %d", res.status)
	}
	if res = b.get("/"); res.status != http.StatusSeeOther {
		t.Errorf("after signing out, home = %d, want a redirect", res.status)
	}
}
