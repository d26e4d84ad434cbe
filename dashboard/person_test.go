package dashboard

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/haveyoursay/haveyoursay/store"
)

func TestMemberPage(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t)
	id := ta.addMember(t, memberNumber)
	staff := ta.signedIn(t, Staff)
	page := fmt.Sprintf("/people/%d", id)

	res := staff.get(page)
	if res.status != 200 {
		t.Fatalf("GET %s = %d %s", page, res.status, res.body)
	}
	for _, want := range []string{store.Mask(memberNumber), "Can be texted", `name="easy_read"`, "/conversations/sms-test-", "Your day service", "completed"} {
		if !strings.Contains(html.UnescapeString(res.body), want) {
			t.Errorf("the member page lacks %q", want)
		}
	}
	if strings.Contains(html.UnescapeString(res.body), memberNumber) || strings.Contains(res.body, "Show the full number") {
		t.Error("staff see the full number, or the button to reveal it")
	}
	log, _ := ta.DB.AuditLog(context.Background(), fmt.Sprintf("person:%d", id), 10)
	if len(log) != 1 || log[0].Action != "view-person" || !strings.HasPrefix(log[0].Actor, "staff-") {
		t.Errorf("the view is not in the audit log: %+v", log)
	}

	// Staff cannot reveal the number; an admin can, and it is logged.
	if res := staff.post(page+"/reveal", nil); res.status != http.StatusForbidden || strings.Contains(html.UnescapeString(res.body), memberNumber) {
		t.Errorf("staff revealing = %d", res.status)
	}
	admin := ta.signedIn(t, Admin)
	res = admin.get(page)
	if !strings.Contains(res.body, "Show the full number") || strings.Contains(html.UnescapeString(res.body), memberNumber) {
		t.Error("an admin's page shows the number before it is asked for, or no button")
	}
	res = admin.post(page+"/reveal", nil)
	if res.status != 200 || !strings.Contains(html.UnescapeString(res.body), memberNumber) || !strings.Contains(res.body, "this is in the audit log") {
		t.Errorf("revealing = %d %s", res.status, res.body)
	}
	log, _ = ta.DB.AuditLog(context.Background(), fmt.Sprintf("person:%d", id), 10)
	if len(log) < 3 || log[0].Action != "reveal-number" || !strings.HasPrefix(log[0].Actor, "admin-") {
		t.Errorf("the reveal is not in the audit log: %+v", log)
	}
	for _, e := range log {
		if strings.Contains(fmt.Sprint(e.Detail), "7700") {
			t.Errorf("the audit log holds the number: %+v", e)
		}
	}

	// Unknown members are a 404 page in a sentence.
	for _, p := range []string{"/people/999999", "/people/99999999999999999999", "/people/abc", "/people/%3Cb%3E"} {
		res := staff.get(p)
		if res.status != http.StatusNotFound || !strings.Contains(res.body, "We could not find that member.") {
			t.Errorf("GET %s = %d %s", p, res.status, res.body)
		}
	}
	if res := staff.post("/people/999999/needs", url.Values{"easy_read": {"1"}}); res.status != http.StatusNotFound {
		t.Errorf("needs of nobody = %d", res.status)
	}
}

// TestNeedsReachTheNextText: staff tick "emoji menus" on a member's page
// and the next survey they start by text shows emoji; another member's
// does not.
func TestNeedsReachTheNextText(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t)
	const other = "+447700900462"
	ta.text(t, memberNumber, "STOP")
	ta.text(t, memberNumber, "START")
	id, err := ta.DB.MemberIDByHash(context.Background(), ta.Phones.Hash(memberNumber))
	if err != nil {
		t.Fatal(err)
	}
	staff := ta.signedIn(t, Staff)
	res := staff.post(fmt.Sprintf("/people/%d/needs", id), url.Values{"emoji_menus": {"1"}, "supporter": {"1"}})
	if res.status != http.StatusSeeOther || res.location != fmt.Sprintf("/people/%d?done=needs", id) {
		t.Fatalf("setting needs = %d %s", res.status, res.body)
	}
	res = staff.get(res.location)
	if !strings.Contains(res.body, "Their communication needs were saved.") ||
		!strings.Contains(res.body, `id="need-emoji_menus" name="emoji_menus" value="1" checked`) ||
		strings.Contains(res.body, `id="need-easy_read" name="easy_read" value="1" checked`) {
		t.Errorf("the page after saving: %s", res.body)
	}
	m, _ := ta.DB.Member(context.Background(), id)
	if !m.Needs.EmojiMenus || !m.Needs.Supporter || m.Needs.EasyRead {
		t.Errorf("stored needs %+v", m.Needs)
	}

	withNeeds := ta.text(t, memberNumber, "DAYS")
	without := ta.text(t, other, "DAYS")
	if !strings.Contains(withNeeds, "👍") || !strings.Contains(withNeeds, "If you are helping someone") {
		t.Errorf("the member with needs was texted %q", withNeeds)
	}
	if strings.Contains(without, "👍") || strings.Contains(without, "If you are helping someone") {
		t.Errorf("the member without needs was texted %q", without)
	}

	// A viewer sees the needs but cannot change them.
	viewer := ta.signedIn(t, Viewer)
	res = viewer.get(fmt.Sprintf("/people/%d", id))
	if !strings.Contains(res.body, "Emoji menus: yes") || strings.Contains(res.body, "Save needs") {
		t.Errorf("the viewer's member page: %s", res.body)
	}
}

func TestUsersPage(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t)
	admin := ta.signedIn(t, Admin)
	res := admin.get("/users")
	if res.status != 200 || !strings.Contains(res.body, "Add someone") || !strings.Contains(res.body, "Never sees a number or a name") {
		t.Fatalf("GET /users = %d %s", res.status, res.body)
	}
	res = admin.post("/users", url.Values{"email": {"new@example.org"}, "name": {"<script>alert(1)</script>"}, "role": {"reviewer"}, "password": {testPassword}})
	if res.status != http.StatusSeeOther || res.location != "/users?done=added" {
		t.Fatalf("adding = %d %s", res.status, res.body)
	}
	res = admin.get("/users?done=added")
	if strings.Contains(res.body, "<script>alert(1)</script>") || !strings.Contains(res.body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("a name with HTML is not shown as text")
	}
	if !strings.Contains(res.body, "The account was added.") {
		t.Error("no word that it was added")
	}

	for _, c := range []struct {
		form url.Values
		want string
	}{
		{url.Values{"email": {"new@example.org"}, "role": {"staff"}, "password": {testPassword}}, "There is already an account for new@example.org."},
		{url.Values{"email": {"two@example.org"}, "role": {"boss"}, "password": {testPassword}}, "&#34;boss&#34; is not a role."},
		{url.Values{"email": {"two@example.org"}, "name": {"Two"}, "role": {"staff"}, "password": {"short"}}, "That password is too short"},
	} {
		res := admin.post("/users", c.form)
		if res.status != http.StatusBadRequest || !strings.Contains(res.body, c.want) {
			t.Errorf("POST /users %v = %d, want %q: %s", c.form, res.status, c.want, res.body)
		}
	}
	// What was typed is kept (not the password).
	if res := admin.post("/users", url.Values{"email": {"two@example.org"}, "name": {"Two"}, "role": {"viewer"}, "password": {"short"}}); !strings.Contains(res.body, `value="Two"`) ||
		!strings.Contains(res.body, `id="new-role-viewer" name="role" value="viewer" checked`) || strings.Contains(res.body, `value="short"`) {
		t.Errorf("the form after a problem: %s", res.body)
	}

	u, _ := ta.DB.StaffUserByEmail(context.Background(), "new@example.org")
	if res := admin.post(fmt.Sprintf("/users/%d/role", u.ID), url.Values{"role": {"staff"}}); res.status != http.StatusSeeOther {
		t.Errorf("changing a role = %d %s", res.status, res.body)
	}
	if u, _ = ta.DB.StaffUserByEmail(context.Background(), "new@example.org"); u.Role != "staff" {
		t.Errorf("role is %s", u.Role)
	}
	if res := admin.post(fmt.Sprintf("/users/%d/role", u.ID), url.Values{"role": {"owner"}}); res.status != http.StatusBadRequest {
		t.Errorf("an unknown role = %d", res.status)
	}
	admin.post(fmt.Sprintf("/users/%d/disable", u.ID), nil)
	if res := admin.get("/users"); !strings.Contains(res.body, "Switched off") {
		t.Error("a disabled account is not shown as switched off")
	}
	if res := admin.post(fmt.Sprintf("/users/%d/enable", u.ID), nil); res.status != http.StatusSeeOther {
		t.Errorf("enabling = %d", res.status)
	}
	if u, _ = ta.DB.StaffUserByEmail(context.Background(), "new@example.org"); u.Disabled() {
		t.Error("still disabled")
	}
	if res := admin.post("/users/999999/disable", nil); res.status != http.StatusNotFound || !strings.Contains(res.body, "We could not find that account.") {
		t.Errorf("disabling nobody = %d %s", res.status, res.body)
	}
	// An admin cannot lock themselves out.
	me, _ := ta.DB.StaffUsers(context.Background())
	for _, m := range me {
		if m.Role == "admin" {
			if res := admin.post(fmt.Sprintf("/users/%d/disable", m.ID), nil); res.status != http.StatusBadRequest || !strings.Contains(res.body, "You cannot change your own account here") {
				t.Errorf("disabling myself = %d %s", res.status, res.body)
			}
		}
	}
	log, _ := ta.DB.AuditLog(context.Background(), fmt.Sprintf("staff:%d", u.ID), 10)
	var actions []string
	for _, e := range log {
		actions = append(actions, e.Action)
	}
	if strings.Join(actions, ",") != "user-enabled,user-disabled,user-role-changed,user-added" {
		t.Errorf("audit log: %v", actions)
	}
}

func TestHomePage(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t)
	staff := ta.signedIn(t, Staff)
	ta.addMember(t, memberNumber)
	res := staff.get("/")
	for _, want := range []string{"Welcome. Here is the last week.", `<span class="count">1</span> new answer</a>`, "Your day service", "1 conversation", "1 finished",
		`<span class="count">0</span> members are waiting for a call-back`, `href="/users"`} {
		if want == `href="/users"` {
			if strings.Contains(res.body, want) {
				t.Error("staff are offered the users page")
			}
			continue
		}
		if !strings.Contains(res.body, want) {
			t.Errorf("home lacks %q", want)
		}
	}
	reviewer := ta.signedIn(t, Reviewer)
	res = reviewer.get("/")
	if !strings.Contains(res.body, `<body class="easy">`) || !strings.Contains(res.body, "What people said") || strings.Contains(res.body, "call-back") {
		t.Errorf("the reviewer's home: %s", res.body)
	}
}

// TestNewSinceMyLastVisit: home counts what came in after the person's
// previous sign-in, not everything.
func TestNewSinceMyLastVisit(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t)
	ta.addMember(t, memberNumber) // an answer now
	ta.Clock.Add(time.Hour)
	ta.addUser(t, "sam@example.org", Staff)
	b := ta.browser(t)
	signIn := func() {
		if res := b.post("/login", url.Values{"email": {"sam@example.org"}, "password": {testPassword}}); res.status != http.StatusSeeOther {
			t.Fatalf("signing in: %d", res.status)
		}
	}
	signIn()
	// The first visit shows the last week.
	if res := b.get("/"); !strings.Contains(res.body, "Welcome. Here is the last week.") || !strings.Contains(res.body, `<span class="count">1</span> new answer</a>`) {
		t.Errorf("the first visit: %s", res.body)
	}
	b.post("/logout", nil)
	ta.Clock.Add(time.Hour)
	ta.addMember(t, "+447700900462") // one new answer since
	ta.Clock.Add(time.Hour)
	signIn()
	res := b.get("/")
	if !strings.Contains(res.body, "Since your last visit on") || !strings.Contains(res.body, `<span class="count">1</span> new answer</a>`) {
		t.Errorf("the second visit: %s", res.body)
	}
}
