package dashboard

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The browser-test harness: headless chromium (Debian's, installed by
// script/ensure-chromium) drives the dashboard over real HTTP, saves a
// full-page screenshot of each page for a person to look at, and runs
// axe-core (fetched by script/ensure-axe) on it. A serious or critical
// accessibility violation fails the test.

const chromiumPath = "/usr/bin/chromium"

// axePath is axe-core as script/ensure-axe leaves it, from this package's
// folder.
var axePath = filepath.Join("..", ".cache", "axe-core", "node_modules", "axe-core", "axe.min.js")

var axeSource = sync.OnceValues(func() ([]byte, error) { return os.ReadFile(axePath) })

// screenshotDir is where screenshots go: $TEST_ARTIFACTS/screenshots when
// set (CI keeps that folder), else testdata/screenshots (git-ignored).
func screenshotDir(t *testing.T) string {
	dir := filepath.Join("testdata", "screenshots")
	if a := os.Getenv("TEST_ARTIFACTS"); a != "" {
		dir = filepath.Join(a, "screenshots")
	}
	dir = filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "-"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("making the screenshot folder: %v", err)
	}
	abs, _ := filepath.Abs(dir)
	t.Logf("screenshots of this test are in %s", abs)
	return abs
}

// chrome is one headless chromium tab on the dashboard.
type chrome struct {
	t     *testing.T
	ctx   context.Context
	base  string
	shots string
	n     int
}

// newChrome starts chromium for the test, pointed at base.
func newChrome(t *testing.T, base string) *chrome {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("Chromium is not installed (%s), so the browser test cannot run. Run script/ensure-chromium (make test does).", chromiumPath)
	}
	if _, err := axeSource(); err != nil {
		t.Fatalf("axe-core is missing (%v), so pages cannot be checked for accessibility. Run script/ensure-axe (make test does).", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
		// The network here is closed: without these chromium waits on Google.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first Run starts the browser; it must not carry a timeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return &chrome{t: t, ctx: ctx, base: base, shots: screenshotDir(t)}
}

// run does browser steps, failing the test on an error.
func (c *chrome) run(steps ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		c.t.Fatal(err)
	}
}

func (c *chrome) eval(expr string) string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, time.Minute)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		c.t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// waitFor polls a JavaScript predicate until it is true, through page
// loads (an evaluation during a navigation fails; it is simply tried
// again).
func (c *chrome) waitFor(what, predicate string) {
	c.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](predicate))
		cancel()
		if err == nil && ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.t.Fatalf("waiting for %s: the page says:\n%s", what, c.text())
}

// open loads a page of the dashboard.
func (c *chrome) open(path string) {
	c.t.Helper()
	c.run(chromedp.Navigate(c.base + path))
	c.waitFor(path, `document.readyState === 'complete'`)
}

// submit clicks a button that sends a form and waits for the next page.
func (c *chrome) submit(button string) {
	c.t.Helper()
	c.eval(`window.hysOld = 'yes'`)
	c.run(chromedp.Click(chromedp.CSS(button)))
	c.waitFor("the page after "+button, `window.hysOld === undefined && document.readyState === 'complete'`)
}

// fill types into a field, replacing what is there.
func (c *chrome) fill(field, value string) {
	c.t.Helper()
	c.run(chromedp.SetValue(chromedp.CSS(field), value))
}

// text is what the page says, as a person reads it.
func (c *chrome) text() string {
	ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
	defer cancel()
	v, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ''`))
	return v
}

func (c *chrome) path() string { return c.eval(`location.pathname + location.search`) }

// signIn fills in the sign-in form.
func (c *chrome) signIn(email, password string) {
	c.t.Helper()
	c.open("/login")
	c.fill("#email", email)
	c.fill("#password", password)
	c.submit("form[action='/login'] button[type=submit]")
}

// axeViolation is one rule axe-core found broken on a page.
type axeViolation struct {
	ID, Impact, Help string
	Nodes            []string
}

// chromeAs starts chromium signed in as a new account with the role (its
// e-mail address is role@example.org, so call it once per role).
func (ta *testApp) chromeAs(t *testing.T, role Role) *chrome {
	t.Helper()
	ta.addUser(t, string(role)+"@example.org", role)
	c := newChrome(t, ta.URL)
	c.signIn(string(role)+"@example.org", testPassword)
	if p := c.path(); p != "/" {
		t.Fatalf("signing in as %s went to %s: %s", role, p, c.text())
	}
	return c
}

// check saves a full-page screenshot as NN-name.png and fails the test on
// any serious or critical axe-core violation.
func (c *chrome) check(name string) {
	c.t.Helper()
	c.n++
	shot, err := chromedp.Run(c.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		c.t.Fatalf("screenshot of %s: %v", name, err)
	}
	file := filepath.Join(c.shots, fmt.Sprintf("%02d-%s.png", c.n, name))
	if err := os.WriteFile(file, shot, 0o644); err != nil {
		c.t.Fatal(err)
	}
	for _, v := range c.axe(name) {
		if v.Impact == "serious" || v.Impact == "critical" {
			c.t.Errorf("%s (%s, see %s): %s %s: %s\n  %s", name, c.path(), file, v.Impact, v.ID, v.Help, strings.Join(v.Nodes, "\n  "))
		} else {
			c.t.Logf("%s: %s %s: %s", name, v.Impact, v.ID, v.Help)
		}
	}
}

// axe runs axe-core on the page as it is now.
func (c *chrome) axe(name string) []axeViolation {
	c.t.Helper()
	src, _ := axeSource()
	if _, err := chromedp.Run(c.ctx, chromedp.Evaluate[bool](string(src)+";true")); err != nil {
		c.t.Fatalf("injecting axe-core into %s: %v", name, err)
	}
	out, err := chromedp.Run(c.ctx, chromedp.Evaluate[string](`axe.run(document, {resultTypes: ['violations']}).then(r => JSON.stringify(r.violations.map(v => ({
		id: v.id, impact: v.impact, help: v.help,
		nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ': ' + n.failureSummary)}))))`, chromedp.EvalAwaitPromise))
	if err != nil {
		c.t.Fatalf("running axe-core on %s: %v", name, err)
	}
	var violations []axeViolation
	if err := json.Unmarshal([]byte(out), &violations); err != nil {
		c.t.Fatalf("reading axe-core's results: %v", err)
	}
	return violations
}

// TestBrowserSignInAndStaffPages: signing in (a wrong password, a locked
// account, the right one), home, users and a member's page as an admin,
// then the easy-read view as a member reviewer; every page screenshotted
// and checked by axe-core.
func TestBrowserSignInAndStaffPages(t *testing.T) {
	ta := newTestApp(t, func(d *Deps) { d.Config.LockAfter = 3; d.Config.Dev = true })
	ta.addUser(t, "ann@example.org", Admin)
	ta.addUser(t, "locked@example.org", Staff)
	ta.addUser(t, "rae@example.org", Reviewer)
	member := ta.addMember(t, memberNumber)
	c := newChrome(t, ta.URL)

	// Not signed in: the sign-in page, then back where we were going.
	c.open(fmt.Sprintf("/people/%d", member))
	if p := c.path(); !strings.HasPrefix(p, "/login?next=") {
		t.Fatalf("a member's page without signing in went to %s", p)
	}
	c.check("sign-in")

	c.fill("#email", "ann@example.org")
	c.fill("#password", "not the password")
	c.submit("form[action='/login'] button[type=submit]")
	if !strings.Contains(c.text(), "That e-mail address and password do not match an account.") {
		t.Errorf("a wrong password says: %s", c.text())
	}
	c.check("sign-in-wrong-password")

	for range 3 {
		c.signIn("locked@example.org", "not the password")
	}
	if !strings.Contains(c.text(), "it is locked for 15 minutes") {
		t.Errorf("after three wrong passwords: %s", c.text())
	}
	c.check("sign-in-locked")

	c.open(fmt.Sprintf("/login?next=/people/%d", member))
	c.fill("#email", "ann@example.org")
	c.fill("#password", testPassword)
	c.submit("form[action='/login'] button[type=submit]")
	if p := c.path(); p != fmt.Sprintf("/people/%d", member) {
		t.Fatalf("after signing in: %s", p)
	}

	// A member: set their needs, reveal their number on purpose.
	if !strings.Contains(c.text(), "+44 ••••••• 461") {
		t.Errorf("the member page: %s", c.text())
	}
	c.check("member")
	c.run(chromedp.Click(chromedp.CSS("#need-easy_read")), chromedp.Click(chromedp.CSS("#need-slow_speech")),
		chromedp.Click(chromedp.CSS("#need-emoji_menus")))
	c.submit("form[action$='/needs'] button[type=submit]")
	if !strings.Contains(c.text(), "Their communication needs were saved.") {
		t.Errorf("after saving needs: %s", c.text())
	}
	if m, _ := ta.DB.Member(context.Background(), member); !m.Needs.EasyRead || !m.Needs.SlowSpeech || !m.Needs.EmojiMenus {
		t.Errorf("needs stored: %+v", m.Needs)
	}
	// The next text to them follows what was ticked: menus with emoji.
	if reply := ta.text(t, memberNumber, "DAYS"); !strings.Contains(reply, "👍") {
		t.Errorf("after ticking emoji menus, the member was texted %q", reply)
	}
	c.check("member-needs-saved")
	c.submit("form[action$='/reveal'] button[type=submit]")
	if !strings.Contains(c.text(), memberNumber) {
		t.Errorf("the revealed number is not shown: %s", c.text())
	}
	c.check("member-number-revealed")

	c.open("/")
	c.check("home-admin")

	c.open("/users")
	c.fill("#new-email", "new@example.org")
	c.fill("#new-name", "<b>New</b> person")
	c.run(chromedp.Click(chromedp.CSS("#new-role-viewer")))
	c.fill("#new-password", "short")
	// The browser's own check (minlength) would stop this; the server's
	// sentence is what this test wants to see.
	c.eval(`document.querySelector('#new-password').removeAttribute('minlength'); ''`)
	c.submit("form[action='/users'] button[type=submit]")
	if !strings.Contains(c.text(), "That password is too short") || c.eval(`document.querySelector('#new-name').value`) != "<b>New</b> person" {
		t.Errorf("a short password: %s", c.text())
	}
	c.check("users-problem")
	c.fill("#new-password", testPassword)
	c.submit("form[action='/users'] button[type=submit]")
	if !strings.Contains(c.text(), "The account was added.") || !strings.Contains(c.text(), "<b>New</b> person") {
		t.Errorf("adding someone: %s", c.text())
	}
	c.check("users")

	c.open("/people/999999")
	if !strings.Contains(c.text(), "We could not find that member.") {
		t.Errorf("an unknown member: %s", c.text())
	}
	c.check("not-found")

	c.submit("form[action='/logout'] button[type=submit]")
	if !strings.Contains(c.text(), "You have signed out.") {
		t.Errorf("signing out: %s", c.text())
	}

	// The member reviewer: the easy-read view, no numbers anywhere.
	c.signIn("rae@example.org", testPassword)
	if c.eval(`document.body.className`) != "easy" {
		t.Error("the reviewer does not get the easy-read view")
	}
	c.check("home-reviewer")
	c.open(fmt.Sprintf("/people/%d", member))
	if !strings.Contains(c.text(), "Your account cannot use this page.") {
		t.Errorf("the reviewer opened a member's page: %s", c.text())
	}
	c.check("forbidden-reviewer")
	if n := regexp.MustCompile(`\d{6,}|•`).FindString(c.text()); n != "" {
		t.Errorf("the reviewer sees %q", n)
	}
}

// TestAxeFindsProblems checks the checker: a field without a label and
// pale text on white, added to a real page, are found.
func TestAxeFindsProblems(t *testing.T) {
	ta := newTestApp(t)
	c := ta.chromeAs(t, Viewer)
	if v := c.axe("home"); len(v) != 0 {
		t.Errorf("the viewer's home page has violations: %+v", v)
	}
	c.eval(`document.querySelector('main').insertAdjacentHTML('beforeend',
		'<input id="nolabel"><p style="color:#ddd;background:#fff">pale words</p>'); ''`)
	found := map[string]string{}
	for _, v := range c.axe("broken") {
		found[v.ID] = v.Impact
	}
	if found["label"] != "critical" || found["color-contrast"] != "serious" {
		t.Errorf("axe-core found %v; want a critical missing label and serious contrast", found)
	}
}
