package dashboard

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/haveyoursay/haveyoursay/store/storetest"
)

func TestSignInAndOut(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t)
	sam := ta.addUser(t, "sam@example.org", Staff)
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
	cookie := res.header.Get("Set-Cookie")
	for _, want := range []string{"hys_session=", "HttpOnly", "SameSite=Lax", "Path=/"} {
		if !strings.Contains(cookie, want) {
			t.Errorf("the session cookie %q lacks %s", cookie, want)
		}
	}
	if strings.Contains(cookie, "Secure") {
		t.Errorf("over http the cookie is Secure, so it would never come back: %q", cookie)
	}
	res = b.get("/")
	if res.status != 200 || !strings.Contains(res.body, "What needs attention") || res.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("home = %d %v %s", res.status, res.header, res.body)
	}
	// Signed in, the sign-in page goes straight on.
	if res = b.get("/login?next=/users"); res.status != http.StatusSeeOther || res.location != "/users" {
		t.Errorf("GET /login signed in = %d %q", res.status, res.location)
	}
	res = b.post("/logout", nil)
	if res.status != http.StatusSeeOther || res.location != "/login?out=1" {
		t.Fatalf("signing out = %d %q", res.status, res.location)
	}
	if res = b.get("/"); res.status != http.StatusSeeOther {
		t.Errorf("after signing out, home = %d, want a redirect", res.status)
	}
	if res = b.get("/login?out=1"); !strings.Contains(res.body, "You have signed out.") {
		t.Errorf("the sign-in page after signing out: %s", res.body)
	}

	entries, err := ta.DB.AuditLog(context.Background(), fmt.Sprintf("staff:%d", sam.ID), 10)
	if err != nil || len(entries) != 2 || entries[0].Action != "sign-out" || entries[1].Action != "sign-in" || entries[1].Actor != "sam@example.org" {
		t.Errorf("audit log: %+v %v", entries, err)
	}
}

func TestSecureCookieOverHTTPS(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t, func(d *Deps) { d.Config.PublicURL = "https://feedback.example.org" })
	ta.addUser(t, "sam@example.org", Staff)
	b := ta.browser(t)
	// The browser's Origin is the public address (behind a proxy).
	res := b.do("POST", "/login", url.Values{"email": {"sam@example.org"}, "password": {testPassword}},
		map[string]string{"Sec-Fetch-Site": "", "Origin": "https://feedback.example.org"})
	cookie := res.header.Get("Set-Cookie")
	if res.status != http.StatusSeeOther || !strings.HasPrefix(cookie, "__Host-hys_session=") || !strings.Contains(cookie, "Secure") {
		t.Errorf("over https: %d %q", res.status, cookie)
	}
}

func TestOnlyLocalNext(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                         "/",
		"/conversations?survey=x":  "/conversations?survey=x",
		"//evil.example/":          "/",
		"https://evil.example/":    "/",
		"/\\evil.example":          "/",
		"javascript:alert(1)":      "/",
		"/login?next=/":            "/",
		"/people/4\r\nSet-Cookie:": "/",
	} {
		if got := localPath(in); got != want {
			t.Errorf("localPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWrongPasswordsLockTheAccount(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t, func(d *Deps) { d.Config.LockAfter = 3 })
	ta.addUser(t, "sam@example.org", Staff)
	b := ta.browser(t)
	wrong := url.Values{"email": {"sam@example.org"}, "password": {"not the password"}}
	for i := 1; i <= 2; i++ {
		res := b.post("/login", wrong)
		if res.status != http.StatusUnauthorized || !strings.Contains(res.body, "That e-mail address and password do not match an account.") ||
			!strings.Contains(res.body, `value="sam@example.org"`) {
			t.Fatalf("wrong password %d: %d %s", i, res.status, res.body)
		}
	}
	res := b.post("/login", wrong)
	if res.status != http.StatusUnauthorized || !strings.Contains(res.body, "too many wrong passwords for this account, so it is locked for 15 minutes") {
		t.Fatalf("third wrong password: %d %s", res.status, res.body)
	}
	// Now even the right password is refused, in any case of the address.
	res = b.post("/login", url.Values{"email": {"SAM@example.org"}, "password": {testPassword}})
	if res.status != http.StatusUnauthorized || !strings.Contains(res.body, "locked for") {
		t.Fatalf("the right password while locked: %d %s", res.status, res.body)
	}
	// An address nobody has is counted the same way, and says the same.
	res = b.post("/login", url.Values{"email": {"nobody@example.org"}, "password": {testPassword}})
	if !strings.Contains(res.body, "That e-mail address and password do not match an account.") {
		t.Errorf("unknown address: %s", res.body)
	}
	// An admin's new password lifts the lock.
	if err := SetPassword(context.Background(), ta.DB, ta.Redis, "sam@example.org", "a new long password"); err != nil {
		t.Fatal(err)
	}
	res = b.post("/login", url.Values{"email": {"sam@example.org"}, "password": {"a new long password"}})
	if res.status != http.StatusSeeOther {
		t.Errorf("after a new password: %d %s", res.status, res.body)
	}
	entries, _ := ta.DB.AuditLog(context.Background(), "", 20)
	var failed, locked int
	for _, e := range entries {
		switch e.Action {
		case "sign-in-failed":
			failed++
		case "sign-in-locked":
			locked++
		}
		if strings.Contains(fmt.Sprint(e.Detail), "password") {
			t.Errorf("the audit log holds a password: %+v", e)
		}
	}
	if failed != 4 || locked != 1 {
		t.Errorf("audit log: %d failed, %d locked sign-ins; want 4 and 1: %+v", failed, locked, entries)
	}
}

func TestSignInProblemsInSentences(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t)
	b := ta.browser(t)
	for _, c := range []struct {
		form url.Values
		want string
	}{
		{url.Values{"email": {""}, "password": {""}}, "Please type your e-mail address and your password."},
		{url.Values{"email": {strings.Repeat("a", 300) + "@example.org"}, "password": {"x"}}, "That e-mail address is too long."},
		{url.Values{"email": {"<b>bold</b>@example.org"}, "password": {"x"}}, "&lt;b&gt;bold&lt;/b&gt;@example.org"},
	} {
		res := b.post("/login", c.form)
		if res.status != http.StatusUnauthorized || !strings.Contains(res.body, c.want) {
			t.Errorf("POST /login %v = %d, want %q in %s", c.form, res.status, c.want, res.body)
		}
	}
	res := b.do("POST", "/login", url.Values{"email": {strings.Repeat("x", 100<<10)}}, nil)
	if res.status != http.StatusRequestEntityTooLarge || !strings.Contains(res.body, "That form was too large to accept") {
		t.Errorf("a huge form = %d %s", res.status, res.body)
	}
}

func TestDisabledAccountsAreSignedOut(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t)
	admin := ta.signedIn(t, Admin)
	sam := ta.addUser(t, "sam@example.org", Staff)
	b := ta.browser(t)
	if res := b.post("/login", url.Values{"email": {"sam@example.org"}, "password": {testPassword}}); res.status != http.StatusSeeOther {
		t.Fatal(res.body)
	}
	res := admin.post(fmt.Sprintf("/users/%d/disable", sam.ID), nil)
	if res.status != http.StatusSeeOther || res.location != "/users?done=disabled" {
		t.Fatalf("disabling: %d %s", res.status, res.body)
	}
	if res = b.get("/"); res.status != http.StatusSeeOther {
		t.Errorf("a disabled account's session still works: %d", res.status)
	}
	res = b.post("/login", url.Values{"email": {"sam@example.org"}, "password": {testPassword}})
	if res.status != http.StatusUnauthorized || !strings.Contains(res.body, "This account has been switched off") {
		t.Errorf("a disabled account signing in: %d %s", res.status, res.body)
	}
	// A disabled account found by its session alone (disabled elsewhere,
	// e.g. by the command line) ends at its next click too.
	ta.addUser(t, "kim@example.org", Staff)
	kim := ta.browser(t)
	kim.post("/login", url.Values{"email": {"kim@example.org"}, "password": {testPassword}})
	u, _ := ta.DB.StaffUserByEmail(context.Background(), "kim@example.org")
	if err := ta.DB.DisableStaffUser(context.Background(), u.ID); err != nil {
		t.Fatal(err)
	}
	if res = kim.get("/"); res.status != http.StatusSeeOther {
		t.Errorf("disabled in the database, still signed in: %d", res.status)
	}
}

func TestIdleSessionsEnd(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t, func(d *Deps) { d.Config.SessionIdle = time.Minute })
	b := ta.signedIn(t, Staff)
	var token string
	for _, c := range b.client.Jar.Cookies(mustURL(t, ta.URL)) {
		token = c.Value
	}
	ttl, err := storetest.RedisClient(t, ta.Redis).PTTL(context.Background(), ta.Redis.Key("staff", "session", sha(token))).Result()
	if err != nil || ttl <= 0 || ttl > time.Minute {
		t.Fatalf("the session lives %v (%v), want at most the idle minute", ttl, err)
	}
	// Redis ends it; the next click goes to the sign-in page.
	if err := ta.Redis.EndStaffSession(context.Background(), token); err != nil {
		t.Fatal(err)
	}
	if res := b.get("/"); res.status != http.StatusSeeOther {
		t.Errorf("an ended session still works: %d", res.status)
	}
}

func TestRoles(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		role                                                Role
		edit, tag, people, reveal, users, worries, easyRead bool
	}{
		{Admin, true, true, true, true, true, true, false},
		{Staff, true, true, true, false, false, false, false},
		{Safeguarding, true, true, true, false, false, true, false},
		{Reviewer, false, true, false, false, false, false, true},
		{Viewer, false, false, true, false, false, false, false},
	} {
		r := c.role
		got := []bool{r.CanEdit(), r.CanTag(), r.SeesPeople(), r.CanReveal(), r.CanManageUsers(), r.SeesWorries(), r.EasyRead()}
		want := []bool{c.edit, c.tag, c.people, c.reveal, c.users, c.worries, c.easyRead}
		if fmt.Sprint(got) != fmt.Sprint(want) || !r.CanReview() || r.Describe() == "" {
			t.Errorf("%s: %v, want %v", r, got, want)
		}
	}
	if _, err := ParseRole("boss"); err == nil || !strings.Contains(err.Error(), "is not a role") {
		t.Errorf("ParseRole(boss) = %v", err)
	}
	if r, err := ParseRole(" Viewer "); r != Viewer || err != nil {
		t.Errorf("ParseRole(Viewer) = %v %v", r, err)
	}
	if Role("").Valid() || Role("").SeesPeople() {
		t.Error("no role may do something")
	}
}

func TestPasswordHashes(t *testing.T) {
	t.Parallel()
	// The real cost, and the cheap one every other test uses.
	full := hashPassword("a long enough password", defaultArgonCost)
	cheap := HashPassword("a long enough password")
	if !strings.HasPrefix(full, "$argon2id$v=19$m=65536,t=3,p=2$") || !strings.HasPrefix(cheap, "$argon2id$v=19$m=1024,t=1,p=1$") {
		t.Errorf("hashes %q %q", full, cheap)
	}
	for _, h := range []string{full, cheap} {
		if !CheckPassword(h, "a long enough password") || CheckPassword(h, "a long enough passworD") {
			t.Errorf("%q does not check", h)
		}
	}
	if cheap == HashPassword("a long enough password") {
		t.Error("two hashes of one password are the same: no salt")
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=65536,t=3,p=2$c2FsdA$aGFzaA", "$argon2id$v=19$m=65536,t=0,p=2$c2FsdA$aGFzaA", "plain"} {
		if CheckPassword(bad, "") {
			t.Errorf("%q checks", bad)
		}
	}
}
