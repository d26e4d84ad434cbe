package dashboard

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The review work in a real browser (Debian's chromium): sign in, search
// for a words answer, open a call, play its recording, correct the
// transcript, tag, note, flag, and mark a call-back done; then the easy-read
// view as a member reviewer. Every page is checked with axe-core and a
// screenshot of it is saved for a person to look at.
func TestReviewInTheBrowser(t *testing.T) {
	ta := newTestApp(t)
	d := seedReview(t, ta)
	ta.addUser(t, "lead@example.org", Staff)
	ta.addUser(t, "member@example.org", Reviewer)
	axe := axeSource(t)
	shots := screenshotDir(t)

	ctx := reviewBrowser(t)
	rb := &reviewSteps{t: t, ctx: ctx, base: ta.URL, axe: axe, shots: shots}
	rb.signIn("lead@example.org")

	// Search for a words answer and find the text conversation.
	rb.run(chromedp.Navigate(ta.URL+"/conversations"), chromedp.WaitVisible(chromedp.CSS("#q")))
	rb.check("conversations")
	rb.run(chromedp.SendKeys(chromedp.CSS("#q"), "minibus"), chromedp.Submit(chromedp.CSS("#q")))
	rb.waitFor("the search finds the text", `document.querySelector('a[href="/conversations/`+d.text+`"]') !== null && document.querySelectorAll('tbody tr').length === 1`)
	rb.check("search")
	rb.run(chromedp.Click(chromedp.CSS(`a[href="/conversations/` + d.text + `"]`)))
	rb.waitFor("the conversation opens", `document.querySelector('h1') && document.body.innerText.includes('The minibus is always late')`)
	rb.check("conversation-text")

	// Tag, note and flag the words answer.
	answer := fmt.Sprint(d.textAnswer)
	rb.run(chromedp.SendKeys(chromedp.CSS("#theme-"+answer), "transport"), chromedp.Submit(chromedp.CSS("#theme-"+answer)))
	rb.waitFor("the theme is added", `document.body.innerText.includes('The theme was saved') && [...document.querySelectorAll('#answer-`+answer+` .tag')].some(e => e.innerText === 'transport')`)
	rb.run(chromedp.Click(chromedp.CSS("#answer-"+answer+" summary")),
		chromedp.SendKeys(chromedp.CSS("#note-"+answer), "Ask the transport team <today>"), chromedp.Submit(chromedp.CSS("#note-"+answer)))
	rb.waitFor("the note is saved", `document.body.innerText.includes('Your note was saved') && document.querySelector('#answer-`+answer+` .notes').innerText.includes('Ask the transport team <today>')`)
	rb.run(chromedp.SendKeys(chromedp.CSS("#worry-reason"), "Sounds upset about getting there"), chromedp.Submit(chromedp.CSS("#worry-reason")))
	rb.waitFor("the worry is flagged", `document.body.innerText.includes('The flag was saved') && document.querySelector('.flags').innerText.includes('Sounds upset')`)
	rb.check("conversation-changed")

	// The call: play the recording, then correct its transcript.
	rb.run(chromedp.Navigate(ta.URL + "/conversations?q=shouting"))
	rb.waitFor("the search finds the call", `document.querySelector('a[href="/conversations/`+d.call+`"]') !== null`)
	rb.run(chromedp.Click(chromedp.CSS(`a[href="/conversations/` + d.call + `"]`)))
	rb.waitFor("the call opens", `document.querySelector('audio') !== null`)
	rb.eval(`(() => { const a = document.querySelector('audio'); window.canPlay = false;
		a.addEventListener('canplay', () => window.canPlay = true); a.load(); a.play().catch(() => {}); return true })()`)
	rb.waitFor("the recording can play", `window.canPlay === true && document.querySelector('audio').readyState >= 3 && document.querySelector('audio').duration > 0.9`)
	rb.check("conversation-call")
	sel := "#transcript-" + d.recording
	rb.eval(`document.querySelector('` + sel + `').value = ''`)
	rb.run(chromedp.SendKeys(chromedp.CSS(sel), "the staff shout at me on Mondays"), chromedp.Submit(chromedp.CSS(sel)))
	rb.waitFor("the correction is shown with the original kept", `document.body.innerText.includes('The transcript was corrected') &&
		[...document.querySelectorAll('.said')].some(e => e.innerText.includes('on Mondays')) && document.querySelector('.original').innerText.includes('the staff shout at me sometimes')`)
	rb.check("transcript-corrected")

	// Call-backs: "I called".
	rb.run(chromedp.Navigate(ta.URL + "/callbacks"))
	rb.waitFor("the call-back is listed", `document.querySelector('#callback-`+fmt.Sprint(d.callback)+`') !== null`)
	rb.check("callbacks")
	rb.eval(fmt.Sprintf(`document.querySelector('#outcome-%d').value = 'reached'`, d.callback))
	rb.run(chromedp.SendKeys(chromedp.CSS(fmt.Sprintf("#note-%d", d.callback)), "All sorted"),
		chromedp.Submit(chromedp.CSS(fmt.Sprintf("#note-%d", d.callback))))
	rb.waitFor("the call-back is done", `document.body.innerText.includes('Nobody is waiting') && document.body.innerText.includes('All sorted')`)
	rb.check("callbacks-done")

	// A member reviewer: the easy-read view, one answer at a time.
	ctx2 := reviewBrowser(t)
	rv := &reviewSteps{t: t, ctx: ctx2, base: ta.URL, axe: axe, shots: shots, prefix: "easy-"}
	rv.signIn("member@example.org")
	rv.run(chromedp.Navigate(ta.URL + "/conversations?q=shouting"))
	rv.waitFor("the reviewer finds the call", `document.querySelector('a[href="/conversations/`+d.call+`"]') !== null`)
	rv.check("conversations")
	rv.run(chromedp.Navigate(ta.URL + "/conversations/" + d.call + "?step=1"))
	rv.waitFor("one answer on the screen", `document.body.innerText.includes('Answer 2 of 2') && document.querySelector('audio') !== null`)
	rv.check("conversation-step")
	rv.run(chromedp.Click(chromedp.CSS(`.easy-actions button.big`)))
	rv.waitFor("this matters is saved", `document.body.innerText.includes('Someone said this matters')`)
	html, err := chromedp.Run(ctx2, chromedp.OuterHTML(chromedp.CSS("html")))
	if err != nil {
		t.Fatal(err)
	}
	if phoneLike.MatchString(html) {
		t.Errorf("the easy-read page shows a number: %q", phoneLike.FindString(html))
	}
}

// reviewSteps drives one browser through the dashboard.
type reviewSteps struct {
	t      *testing.T
	ctx    context.Context
	base   string
	axe    string
	shots  string
	prefix string
}

func (s *reviewSteps) run(steps ...chromedp.Action[chromedp.Void]) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		s.t.Fatal(err)
	}
}

// eval runs JavaScript and returns its value, awaiting a promise.
func (s *reviewSteps) eval(expr string) string {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.ctx, 60*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[any](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		s.t.Fatal(err)
	}
	out, _ := v.(string)
	return out
}

func (s *reviewSteps) signIn(email string) {
	s.t.Helper()
	s.run(chromedp.Navigate(s.base+"/login"), chromedp.WaitVisible(chromedp.CSS(`input[name=email]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=email]`), email),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), testPassword),
		chromedp.Submit(chromedp.CSS(`input[name=password]`)))
	s.waitFor("signed in", `document.querySelector('form.signout') !== null`)
}

// waitFor polls a JavaScript condition until it holds, across page loads
// (a form's answer replaces the page being polled).
func (s *reviewSteps) waitFor(what, predicate string) {
	s.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Poll[bool](predicate, chromedp.WithPollingInterval(100*time.Millisecond)))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			text, _ := chromedp.Run(s.ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText.slice(0, 2000) : ''`))
			s.t.Fatalf("waiting until %s: %v\nthe page says:\n%s", what, err, text)
		}
	}
}

// check saves a screenshot of the page and runs axe-core on it: no
// serious or critical accessibility problem is allowed.
func (s *reviewSteps) check(name string) {
	s.t.Helper()
	png, err := chromedp.Run(s.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		s.t.Fatal(err)
	}
	path := filepath.Join(s.shots, s.prefix+name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		s.t.Fatal(err)
	}
	if v := s.eval(s.axe + ";axe.version"); v == "" {
		s.t.Fatal("axe-core did not load")
	}
	out := s.eval(`axe.run(document, {resultTypes: ['violations']}).then(r => JSON.stringify(r.violations.map(v =>
		({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' '))}))))`)
	var violations []struct {
		ID, Impact, Help string
		Nodes            []string
	}
	if err := json.Unmarshal([]byte(out), &violations); err != nil {
		s.t.Fatalf("reading axe-core's answer: %v", err)
	}
	for _, v := range violations {
		if v.Impact == "serious" || v.Impact == "critical" {
			s.t.Errorf("%s%s: %s accessibility problem %s (%s) at %v", s.prefix, name, v.Impact, v.ID, v.Help, v.Nodes)
		}
	}
	s.t.Logf("%s%s: screenshot %s, %d minor accessibility notes", s.prefix, name, path, len(violations))
}

// reviewBrowser starts a headless chromium for this test.
func reviewBrowser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is not installed: run script/ensure-chromium (make test does)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()), chromedp.Flag("mute-audio", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"), chromedp.WindowSize(1280, 1000))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return ctx
}

// axeSource is axe-core's script, from the npm package.
func axeSource(t *testing.T) string {
	t.Helper()
	candidates := []string{os.Getenv("AXE_CORE_JS")}
	if root, err := exec.Command("npm", "root", "-g").Output(); err == nil {
		candidates = append(candidates, filepath.Join(strings.TrimSpace(string(root)), "axe-core", "axe.min.js"))
	}
	candidates = append(candidates, "../node_modules/axe-core/axe.min.js", "/usr/lib/node_modules/axe-core/axe.min.js")
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if b, err := os.ReadFile(c); err == nil {
			return string(b)
		}
	}
	t.Fatal("axe-core is not installed: run `npm install -g axe-core` (or set AXE_CORE_JS to axe.min.js)")
	return ""
}

// screenshotDir is where the screenshots go: the test's artifact folder
// (go test -artifacts keeps it), else HYS_SCREENSHOTS, else a temporary one.
func screenshotDir(t *testing.T) string {
	if dir := os.Getenv("HYS_SCREENSHOTS"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	return t.ArtifactDir()
}
