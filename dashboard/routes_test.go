package dashboard

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gorilla/mux"

	"github.com/haveyoursay/haveyoursay/store"
)

// route is one dashboard route, found by walking the router, so a page
// added later is checked by these tests without being listed here.
type route struct {
	method, template string
}

func (ta *testApp) routes(t *testing.T) []route {
	t.Helper()
	var out []route
	err := ta.Router.Walk(func(r *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tpl, err := r.GetPathTemplate()
		if err != nil || strings.HasPrefix(tpl, "/static") || strings.HasPrefix(tpl, "/twilio/") {
			return nil
		}
		methods, err := r.GetMethods()
		if err != nil {
			return nil
		}
		for _, m := range methods {
			if m != http.MethodHead {
				out = append(out, route{m, tpl})
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 10 {
		t.Fatalf("only %d routes found: %v", len(out), out)
	}
	return out
}

var routeVar = regexp.MustCompile(`\{(\w+)(:[^}]*)?\}`)

// fixture is what the route tests open: a member with a conversation, and
// an account to change.
type fixture struct {
	member       int64
	conversation string
	user         int64
}

func (ta *testApp) fixture(t *testing.T) fixture {
	t.Helper()
	f := fixture{member: ta.addMember(t, memberNumber)}
	convs, err := ta.DB.MemberConversations(context.Background(), f.member, 10)
	if err != nil || len(convs) != 1 {
		t.Fatalf("the member's conversations: %v %v", convs, err)
	}
	f.conversation = convs[0].ID
	f.user = ta.addUser(t, "someone@example.org", Viewer).ID
	return f
}

// path fills a route's variables with the fixture's ids.
func (f fixture) path(tpl string) string {
	return routeVar.ReplaceAllStringFunc(tpl, func(string) string {
		switch {
		case strings.HasPrefix(tpl, "/people/"):
			return fmt.Sprint(f.member)
		case strings.HasPrefix(tpl, "/users/"):
			return fmt.Sprint(f.user)
		case strings.HasPrefix(tpl, "/conversations/"):
			return f.conversation
		}
		return "1"
	})
}

const memberNumber = "+447700900461"

func TestEveryPageNeedsASession(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t)
	f := ta.fixture(t)
	b := ta.browser(t)
	for _, rt := range ta.routes(t) {
		if rt.template == "/login" || rt.template == "/logout" {
			continue
		}
		p := f.path(rt.template)
		res := b.do(rt.method, p, url.Values{"email": {"x@example.org"}}, nil)
		if res.status != http.StatusSeeOther || !strings.HasPrefix(res.location, "/login?next=") {
			t.Errorf("%s %s without a session = %d %q, want a redirect to /login", rt.method, p, res.status, res.location)
		}
		if rt.method == http.MethodGet && res.location != "/login?next="+url.QueryEscape(p) {
			t.Errorf("GET %s sends to %q, want to come back here", p, res.location)
		}
	}
	users, _ := ta.DB.StaffUsers(context.Background())
	if len(users) != 1 {
		t.Errorf("a POST without a session changed the users: %d", len(users))
	}
}

// TestWhoMayOpenWhat opens every page as every role: a page a role may not
// use is a 403 page in a sentence, never a blank.
func TestWhoMayOpenWhat(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t)
	f := ta.fixture(t)
	want := map[string]func(Role) bool{
		"/":            Role.Valid,
		"/users":       Role.CanManageUsers,
		"/people/{id}": Role.SeesPeople,
	}
	for _, role := range Roles {
		b := ta.signedIn(t, role)
		for path, allow := range want {
			res := b.get(f.path(path))
			switch {
			case allow(role) && res.status != 200:
				t.Errorf("%s: GET %s = %d, want 200: %s", role, path, res.status, res.body)
			case !allow(role) && (res.status != 403 || !strings.Contains(res.body, "Your account cannot use this page.")):
				t.Errorf("%s: GET %s = %d, want the 403 page: %s", role, path, res.status, res.body)
			}
		}
	}
}

// digitRun is a run of digits long enough to be (part of) a phone number.
var digitRun = regexp.MustCompile(`\d[\d\s•]{5,}\d`)

// TestReviewerSeesNoPhoneNumber opens every page a reviewer can reach and
// looks for a number in any form anywhere in the HTML.
func TestReviewerSeesNoPhoneNumber(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t)
	f := ta.fixture(t)
	b := ta.signedIn(t, Reviewer)
	masked := store.Mask(memberNumber)
	opened := 0
	for _, rt := range ta.routes(t) {
		if rt.method != http.MethodGet {
			continue
		}
		p := f.path(rt.template)
		res := b.get(p)
		if res.status == http.StatusOK {
			opened++
		}
		// Both as sent and as a browser shows it (html/template writes +
		// as &#43;).
		body := res.body + html.UnescapeString(res.body)
		for _, form := range []string{memberNumber, memberNumber[1:], memberNumber[3:], "07700900461", masked, "•"} {
			if strings.Contains(body, form) {
				t.Errorf("GET %s shows a reviewer %q", p, form)
			}
		}
		if m := digitRun.FindString(body); m != "" {
			t.Errorf("GET %s shows a reviewer the digits %q", p, m)
		}
	}
	// Home at least; the review pages add theirs.
	if opened < 1 {
		t.Errorf("the reviewer could open only %d pages; the test checked nothing", opened)
	}
}

// TestViewerChangesNothing sends every form as a viewer.
func TestViewerChangesNothing(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t)
	f := ta.fixture(t)
	b := ta.signedIn(t, Viewer)
	posts := 0
	for _, rt := range ta.routes(t) {
		if rt.method != http.MethodPost || rt.template == "/login" || rt.template == "/logout" {
			continue
		}
		posts++
		p := f.path(rt.template)
		res := b.post(p, url.Values{"email": {"new@example.org"}, "role": {"admin"}, "password": {testPassword}, "easy_read": {"1"}})
		if res.status != http.StatusForbidden || !strings.Contains(res.body, "Your account cannot use this page.") {
			t.Errorf("viewer: POST %s = %d, want 403: %s", p, res.status, res.body)
		}
	}
	if posts < 5 {
		t.Errorf("only %d forms found", posts)
	}
	m, _ := ta.DB.Member(context.Background(), f.member)
	if m.Needs.EasyRead {
		t.Error("a viewer changed a member's needs")
	}
	if _, err := ta.DB.StaffUserByEmail(context.Background(), "new@example.org"); err == nil {
		t.Error("a viewer added an account")
	}
}

// TestCrossOriginFormsAreRefused: a page on another website cannot make a
// signed-in browser change anything, nor sign it in.
func TestCrossOriginFormsAreRefused(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t)
	b := ta.signedIn(t, Admin)
	form := url.Values{"email": {"evil@example.org"}, "role": {"admin"}, "password": {testPassword}}
	for _, h := range []map[string]string{
		{"Origin": "https://evil.example", "Sec-Fetch-Site": ""},
		{"Sec-Fetch-Site": "cross-site"},
	} {
		res := b.do("POST", "/users", form, h)
		if res.status != http.StatusForbidden || !strings.Contains(res.body, "sent from another website, so nothing was changed") {
			t.Errorf("POST /users with %v = %d %s", h, res.status, res.body)
		}
		res = b.do("POST", "/logout", url.Values{}, h)
		if res.status != http.StatusForbidden {
			t.Errorf("POST /logout with %v = %d", h, res.status)
		}
	}
	if _, err := ta.DB.StaffUserByEmail(context.Background(), "evil@example.org"); err == nil {
		t.Error("a cross-site form added an account")
	}
	if res := b.get("/"); res.status != 200 {
		t.Errorf("a cross-site sign-out ended the session: %d", res.status)
	}
	anon := ta.browser(t)
	ta.addUser(t, "victim@example.org", Staff)
	res := anon.do("POST", "/login", url.Values{"email": {"victim@example.org"}, "password": {testPassword}}, map[string]string{"Sec-Fetch-Site": "cross-site"})
	if res.status != http.StatusForbidden {
		t.Errorf("a cross-site sign-in = %d", res.status)
	}
}

// TestWhoMayChangeWhat sends every form of these pages as every role: a
// role that may not is refused with the 403 page and nothing changes; one
// that may is not refused.
func TestWhoMayChangeWhat(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t)
	f := ta.fixture(t)
	allowed := map[string]func(Role) bool{
		"/users":              Role.CanManageUsers,
		"/users/{id}/role":    Role.CanManageUsers,
		"/users/{id}/disable": Role.CanManageUsers,
		"/users/{id}/enable":  Role.CanManageUsers,
		"/people/{id}/needs":  Role.CanEdit,
		"/people/{id}/reveal": Role.CanReveal,
	}
	for _, role := range Roles {
		b := ta.signedIn(t, role)
		for tpl, allow := range allowed {
			res := b.post(f.path(tpl), url.Values{"role": {"viewer"}})
			refused := res.status == http.StatusForbidden && strings.Contains(res.body, "Your account cannot use this page.")
			if refused == allow(role) {
				t.Errorf("%s: POST %s = %d (refused %v), want refused %v", role, tpl, res.status, refused, !allow(role))
			}
		}
	}
}
