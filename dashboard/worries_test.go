package dashboard

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/store/storetest"
)

// seedWorries raises a worry from a text (as the SMS webhook does) and one
// flagged by a member of staff on the conversation page, and returns their
// ids.
func seedWorries(t *testing.T, ta *testApp, d reviewData) (text, hand int64) {
	t.Helper()
	id, created, err := ta.DB.RaiseWorry(context.Background(), store.WorryRaised{DedupeKey: "SMr2:worry", ConversationID: d.text,
		Channel: "sms", Source: store.WorryText, Phrase: "shout at me", Words: "The staff shout at me and I feel scared"})
	if err != nil || !created {
		t.Fatalf("RaiseWorry: %v", err)
	}
	staff := ta.signedIn(t, Staff)
	if res := staff.post("/conversations/"+d.call+"/flags", url.Values{"kind": {"worry"}, "reason": {"Sounded frightened of a neighbour"}}); res.status != http.StatusSeeOther {
		t.Fatalf("flagging a worry: %d %s", res.status, res.body)
	}
	ws, err := ta.DB.Worries(context.Background(), 10)
	if err != nil || len(ws) != 2 {
		t.Fatalf("worries = %+v, %v", ws, err)
	}
	for _, w := range ws {
		if w.Source == store.WorryHand {
			hand = w.ID
		}
	}
	if hand == 0 {
		t.Fatal("the flag did not join the worries queue")
	}
	return id, hand
}

// Only admins and the safeguarding lead see worries: staff, reviewers and
// viewers are refused every worry page, and reviewers and viewers do not
// see a worry flag's reason on the conversation page either.
func TestWorriesAreForAdminAndSafeguardingOnly(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t)
	d := seedReview(t, ta)
	text, hand := seedWorries(t, ta, d)
	secrets := []string{"feel scared", "frightened of a neighbour"}
	for _, role := range []Role{Staff, Reviewer, Viewer} {
		b := ta.signedIn(t, role)
		for _, path := range []string{"/worries", fmt.Sprintf("/worries/%d", text), fmt.Sprintf("/worries/%d/record", hand)} {
			res := b.get(path)
			if res.status != http.StatusForbidden {
				t.Errorf("%s GET %s = %d; want 403", role, path, res.status)
			}
			for _, s := range secrets {
				if strings.Contains(res.body, s) {
					t.Errorf("%s GET %s shows %q", role, path, s)
				}
			}
		}
		if res := b.post(fmt.Sprintf("/worries/%d/actions", text), url.Values{"did": {"x"}}); res.status != http.StatusForbidden {
			t.Errorf("%s POST actions = %d; want 403", role, res.status)
		}
		home := b.get("/")
		if strings.Contains(home.body, `href="/worries"`) {
			t.Errorf("%s has Worries in the menu", role)
		}
		conv := b.get("/conversations/" + d.call)
		if conv.status != http.StatusOK {
			t.Fatalf("%s conversation page: %d", role, conv.status)
		}
		if shown := strings.Contains(conv.body, "frightened of a neighbour"); shown != role.CanEdit() {
			t.Errorf("%s sees the worry flag's reason: %v; want %v", role, shown, role.CanEdit())
		}
	}
	if n := ta.count(t, `SELECT count(*) FROM worry_actions`); n != 0 {
		t.Fatalf("%d log entries after refused requests; want none", n)
	}
	for _, role := range []Role{Admin, Safeguarding} {
		b := ta.signedIn(t, role)
		if res := b.get("/worries"); res.status != http.StatusOK || !strings.Contains(res.body, fmt.Sprintf(`href="/worries/%d"`, text)) {
			t.Errorf("%s /worries = %d", role, res.status)
		}
		if home := b.get("/"); !strings.Contains(home.body, `<span class="count">2</span> open worries`) {
			t.Errorf("%s's home page does not count the open worries", role)
		}
	}
}

// The lead opens a worry (kept as "looked"), records what they did and who
// they told, closes it, and exports the incident record; nothing about the
// original record changes.
func TestWorryLogAndIncidentRecord(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t)
	d := seedReview(t, ta)
	text, _ := seedWorries(t, ta, d)
	ta.Clock.Add(3 * time.Hour)
	lead := ta.signedIn(t, Safeguarding)

	list := lead.get("/worries")
	if !strings.Contains(list.body, "Nobody has looked yet") || !strings.Contains(list.body, "2 hours") {
		t.Fatalf("the queue does not say how long they waited: %s", list.body)
	}
	path := fmt.Sprintf("/worries/%d", text)
	page := lead.get(path)
	if page.status != http.StatusOK || !strings.Contains(page.body, "The staff shout at me and I feel scared") {
		t.Fatalf("worry page = %d", page.status)
	}
	if res := lead.post(path+"/actions", url.Values{}); res.status != http.StatusBadRequest || !strings.Contains(res.body, "Write what you did") {
		t.Errorf("an empty form = %d", res.status)
	}
	res := lead.post(path+"/actions", url.Values{"did": {"Called the member; they are safe tonight."}, "told": {"Adult social care duty team"}, "next": {"close"}})
	if res.status != http.StatusSeeOther || res.location != path+"?done=closed" {
		t.Fatalf("recording an action = %d %s", res.status, res.location)
	}
	page = lead.get(path + "?done=closed")
	for _, want := range []string{"The worry is closed", "Adult social care duty team", "Looked at it", "Closed it"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("the worry page does not show %q", want)
		}
	}
	if n := ta.count(t, `SELECT count(*) FROM worries w WHERE w.words = 'The staff shout at me and I feel scared'`); n != 1 {
		t.Fatal("the original record changed")
	}

	rec := lead.get(path + "/record")
	if rec.status != http.StatusOK || !strings.HasPrefix(rec.header.Get("Content-Type"), "text/plain") ||
		!strings.Contains(rec.header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("export = %d %v", rec.status, rec.header)
	}
	for _, want := range []string{"INCIDENT RECORD: WORRY", "| The staff shout at me and I feel scared", "text message", "a text",
		"Did: Called the member; they are safe tonight.", "Told: Adult social care duty team", "Closed it", "cannot be changed"} {
		if !strings.Contains(rec.body, want) {
			t.Errorf("the incident record does not have %q:\n%s", want, rec.body)
		}
	}
	if auditCount(t, ta, store.AuditViewWorry) != 2 || auditCount(t, ta, store.AuditExportWorry) != 1 || auditCount(t, ta, store.AuditWorryAction) != 1 {
		t.Errorf("audit: views %d, exports %d, actions %d", auditCount(t, ta, store.AuditViewWorry), auditCount(t, ta, store.AuditExportWorry), auditCount(t, ta, store.AuditWorryAction))
	}
	if res := lead.get("/worries/999999"); res.status != http.StatusNotFound {
		t.Errorf("an unknown worry = %d", res.status)
	}
	if res := lead.get("/worries/abc"); res.status != http.StatusNotFound {
		t.Errorf("a worry that is not a number = %d", res.status)
	}
}

func (ta *testApp) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := storetest.SQL(t, ta.DB).QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}
