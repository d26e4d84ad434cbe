package dashboard

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/haveyoursay/haveyoursay/store/storetest"
)

// TestBrowserAuditAndErase: an admin asks to erase a member (the box
// unticked first, then ticked), lands on the audit log, filters it by who
// and what, pages through it and meets a wrong date; every page is
// screenshotted and checked by axe-core. Staff cannot open the audit log.
func TestBrowserAuditAndErase(t *testing.T) {
	ta := newTestApp(t, func(d *Deps) {
		// The erasure request is kept for real; the job that carries it out
		// is the privacy package's (its own tests run it).
		d.Forget = func(ctx context.Context, id int64, by string, confirm bool) (int64, error) {
			return d.DB.RequestForgetMember(ctx, id, by, confirm)
		}
	})
	ctx := context.Background()
	member := ta.addMember(t, memberNumber)
	for i := range 60 {
		must(t, ta.DB.Audit(ctx, fmt.Sprintf("helper%d@example.org", i%3), "view-conversation", fmt.Sprintf("conversation:c%d", i), nil))
	}
	c := ta.chromeAs(t, Admin)

	c.open(fmt.Sprintf("/people/%d", member))
	c.check("member-with-erase")
	// The browser would insist on the box (required); the server's own
	// answer is what this test wants to see.
	c.eval(`document.querySelector('#forget-checked').removeAttribute('required'); ''`)
	c.submit("form[action$='/forget'] button[type=submit]")
	if !strings.Contains(c.text(), "Nothing was erased. Tick the box") {
		t.Errorf("erasing without the box: %s", c.text())
	}
	if n := count(t, ta, `SELECT count(*) FROM forget_requests`); n != 0 {
		t.Errorf("%d requests kept without the box ticked", n)
	}
	c.run(chromedp.Click(chromedp.CSS("#forget-checked")))
	c.submit("form[action$='/forget'] button[type=submit]")
	if p := c.path(); p != "/audit?action=forget-requested" {
		t.Errorf("after erasing: %s", p)
	}
	if n := count(t, ta, `SELECT count(*) FROM forget_requests WHERE requested_by = 'admin@example.org' AND confirm`); n != 1 {
		t.Errorf("%d erasure requests kept, want 1 (by the admin, with a confirmation text)", n)
	}

	c.open("/audit")
	text := c.text()
	if !strings.Contains(text, "Audit log") || !strings.Contains(text, "forget-requested") || !strings.Contains(text, "Next page") {
		t.Errorf("the audit log: %s", text)
	}
	if strings.Contains(text, memberNumber) || strings.Contains(text, memberNumber[3:]) {
		t.Error("the audit log shows the member's number")
	}
	c.check("audit")

	c.run(chromedp.SetValue(chromedp.CSS("#audit-actor"), "helper1@example.org"),
		chromedp.SetValue(chromedp.CSS("#audit-action"), "view-conversation"))
	c.submit("form.filters button[type=submit]")
	if rows := c.eval(`String(document.querySelectorAll('table.list tbody tr').length)`); rows != "20" {
		t.Errorf("helper1's views: %s rows, want 20", rows)
	}
	if strings.Contains(c.text(), "helper2@example.org\tview") {
		t.Error("the filter by who shows others")
	}
	c.check("audit-filtered")

	c.open("/audit")
	c.submit("a[href^='/audit?before=']")
	if rows := c.eval(`String(document.querySelectorAll('table.list tbody tr').length)`); rows == "0" || rows == "50" {
		t.Errorf("the second page has %s rows", rows)
	}
	c.check("audit-page-2")

	c.open("/audit?from=30-11-2026")
	if !strings.Contains(c.text(), "should be a date like 2026-11-30") {
		t.Errorf("a wrong date: %s", c.text())
	}
	c.check("audit-wrong-date")

	s := ta.chromeAs(t, Staff)
	s.open("/audit")
	if !strings.Contains(s.text(), "Your account cannot use this page.") {
		t.Errorf("staff opened the audit log: %s", s.text())
	}
	if strings.Contains(s.eval(`document.querySelector('nav') ? document.querySelector('nav').innerText : ''`), "Audit log") {
		t.Error("staff see the audit log in the menu")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func count(t *testing.T, ta *testApp, q string) int {
	t.Helper()
	var n int
	if err := storetest.SQL(t, ta.DB).QueryRow(context.Background(), q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
