package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/haveyoursay/haveyoursay/phonesim"
	"github.com/haveyoursay/haveyoursay/store/storetest"
)

// chromiumPath is Debian's chromium, which `make test` installs
// (script/ensure-chromium).
const chromiumPath = "/usr/bin/chromium"

const demoThanks = "Thank you for your answers. Our team will read every one."

// browser starts a headless chromium for the test. The network here is
// closed: without these flags chromium hangs on connections to Google.
func browser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("Chromium is not installed (%s), so the browser test cannot run. Run `make test`: it installs chromium (script/ensure-chromium).", chromiumPath)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("mute-audio", true),
		// A pretend microphone (a beeping tone), allowed without asking.
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.WindowSize(1280, 1000),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first Run starts the browser; it must not carry a timeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return ctx
}

// js evaluates a JavaScript expression in the page.
func js[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// waitFor polls a JavaScript predicate, generously: the machine may be
// loaded. what says what the test was waiting for.
func waitFor(t *testing.T, ctx context.Context, what, predicate, explain string) {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	_, err := chromedp.Run(wctx, chromedp.Poll[bool](predicate,
		chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(60*time.Second)))
	if err != nil {
		t.Fatalf("waiting for %s: %v\n%s", what, err, js[string](t, ctx, explain))
	}
}

func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

// answer chooses like a member trying every path: yes to the consent (the
// first question), then the last choice offered, which in the demo survey
// leads to the question answered in their own words.
func answer(prompt string, first bool) (string, bool) {
	keys := phonesim.MenuKeys(prompt)
	switch {
	case len(keys) > 0 && first:
		return keys[0], true
	case len(keys) > 0:
		return keys[len(keys)-1], true
	}
	return "", false
}

// TestTryItInTheBrowser opens the dev server's Try-it page in chromium,
// texts the demo survey to the end, then calls it and presses keys to the
// end: the real webhooks, through the emulator, driven by the page.
func TestTryItInTheBrowser(t *testing.T) {
	ctx := browser(t)
	env := map[string]string{
		"DATABASE_URL": storetest.DatabaseURL(t),
		"REDIS_URL":    storetest.RedisURL(),
		"REDIS_PREFIX": storetest.RedisPrefix(t),
		"LISTEN_ADDR":  "127.0.0.1:0",
		"HYS_DATA_DIR": t.TempDir(),
		// The demo conversations have a test of their own.
		"HYS_DEMO_CONVERSATIONS": "0",
	}
	base, _ := start(t, []string{"dev"}, env)
	tctx, cancel := context.WithTimeout(ctx, 4*time.Minute)
	defer cancel()
	resp, err := chromedp.Run(tctx, chromedp.NavigateResponse(base+"/try"))
	if err != nil {
		t.Fatalf("opening %s/try: %v", base, err)
	}
	if resp.Status != 200 {
		t.Fatalf("GET /try answered %d: the Try-it page is not wired into `haveyoursay dev`", resp.Status)
	}
	waitFor(t, tctx, "the page", `document.querySelector('#sms-start') !== null`, `document.body.innerText`)
	if title := js[string](t, tctx, `document.querySelector('h1').textContent`); title != "Try a survey" {
		t.Fatalf("the page's heading is %q; is the Try-it page wired in dev?", title)
	}
	if opt := js[string](t, tctx, `document.querySelector('#survey').value`); opt != "day-service" {
		t.Fatalf("the chosen survey is %q, want the demo survey", opt)
	}

	t.Run("text", func(t *testing.T) { textToTheEnd(t, tctx) })
	t.Run("call", func(t *testing.T) { callToTheEnd(t, tctx) })
}

const smsState = `'chat: ' + document.querySelector('#chat').innerText + '\nerror: ' + document.querySelector('#sms-error').textContent`

func textToTheEnd(t *testing.T, ctx context.Context) {
	lastReply := `(() => { const r = document.querySelectorAll('#chat li.reply'); return r.length ? r[r.length-1].textContent.replace(/^Reply: /, '') : '' })()`
	replies := func() int { return js[int](t, ctx, `document.querySelectorAll('#chat li.reply').length`) }
	waitReply := func(before int) string {
		t.Helper()
		waitFor(t, ctx, "a reply", fmt.Sprintf(`document.querySelector('#sms').dataset.busy === 'false' &&
			(document.querySelectorAll('#chat li.reply').length > %d || !document.querySelector('#sms-error').hidden)`, before), smsState)
		if msg := js[string](t, ctx, `document.querySelector('#sms-error').textContent`); msg != "" {
			t.Fatalf("the page shows an error: %s", msg)
		}
		return js[string](t, ctx, lastReply)
	}

	before := replies()
	do(t, ctx, chromedp.Click(chromedp.CSS("#sms-start")))
	reply := waitReply(before)
	for step := 0; step < 20; step++ {
		if strings.Contains(reply, demoThanks) {
			return
		}
		text, ok := answer(reply, step == 0)
		if !ok {
			if !strings.Contains(reply, "own words") {
				t.Fatalf("do not know how to answer %q", reply)
			}
			text = "More trips out please"
		}
		before = replies()
		do(t, ctx, chromedp.SendKeys(chromedp.CSS("#sms-body"), text), chromedp.Click(chromedp.CSS("#sms-form button[type=submit]")))
		reply = waitReply(before)
	}
	t.Fatalf("the texts did not reach the thanks in 20 steps:\n%s", js[string](t, ctx, smsState))
}

const phoneState = `'status: ' + document.querySelector('#call-status').textContent + '\nerror: ' + document.querySelector('#call-error').textContent +
	'\nwaiting: ' + document.querySelector('#phone').dataset.waiting + '\ncaptions:\n' + document.querySelector('#captions').innerText`

func callToTheEnd(t *testing.T, ctx context.Context) {
	steps := func() int {
		return js[int](t, ctx, `Number(document.querySelector('#phone').dataset.steps)`)
	}
	// settle waits for the phone's answer to the caller's last action (or
	// to their silence), and returns what the phone then waits for and what
	// it said.
	settle := func(before int) (waiting, heard string) {
		t.Helper()
		waitFor(t, ctx, "the phone", fmt.Sprintf(`(() => { const p = document.querySelector('#phone');
			return p.dataset.busy === 'false' && (Number(p.dataset.steps) > %d || !document.querySelector('#call-error').hidden) })()`, before), phoneState)
		if msg := js[string](t, ctx, `document.querySelector('#call-error').textContent`); msg != "" {
			t.Fatalf("the phone shows an error: %s\n%s", msg, js[string](t, ctx, phoneState))
		}
		return js[string](t, ctx, `document.querySelector('#phone').dataset.waiting`),
			js[string](t, ctx, `(() => { const l = document.querySelectorAll('#captions li'); return l.length && l[l.length-1].classList.contains('turn') ? l[l.length-1].innerText : '' })()`)
	}

	recorded, answered := false, 0
	before := steps()
	do(t, ctx, chromedp.Click(chromedp.CSS("#call-start")))
	waiting, heard := settle(before)
	for range 30 {
		before = steps()
		switch waiting {
		case "ended":
			all := js[string](t, ctx, `document.querySelector('#captions').innerText`)
			if !strings.Contains(all, demoThanks) {
				t.Fatalf("the call ended before the thanks:\n%s", js[string](t, ctx, phoneState))
			}
			if status := js[string](t, ctx, `document.querySelector('#call-status').textContent`); status != "The call has ended." {
				t.Errorf("the status says %q after the call", status)
			}
			if recorded && !strings.Contains(all, `You recorded your voice: "More trips out please"`) {
				t.Errorf("the microphone's recording was not sent as audio:\n%s", all)
			}
			return
		case "record":
			// Speak into the (pretend) microphone and type the words too.
			do(t, ctx, chromedp.Click(chromedp.CSS("#mic")))
			waitFor(t, ctx, "the microphone", `document.querySelector('#mic-status').textContent !== ''`, phoneState)
			if status := js[string](t, ctx, `document.querySelector('#mic-status').textContent`); status != "Recording. Speak now." {
				t.Fatalf("the microphone did not start: %s", status)
			}
			time.Sleep(1500 * time.Millisecond) // a second or so of "speech"
			do(t, ctx, chromedp.SendKeys(chromedp.CSS("#record-text"), "More trips out please"),
				chromedp.Click(chromedp.CSS("#record-send")))
			recorded = true
		case "gather":
			key, ok := answer(heard, answered == 0)
			if !ok {
				// No menu to answer (a pause before a recording): the
				// phone goes on by itself when its wait is over.
				break
			}
			answered++
			do(t, ctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`#keypad button[data-key=%q]`, key))))
			// A question that takes several keys waits for #.
			if js[string](t, ctx, `document.querySelector('#keys-typed').textContent`) != "" {
				do(t, ctx, chromedp.Click(chromedp.CSS(`#keypad button[data-key="#"]`)))
			}
		default:
			t.Fatalf("the phone is %q:\n%s", waiting, js[string](t, ctx, phoneState))
		}
		waiting, heard = settle(before)
	}
	t.Fatalf("the call did not end within 30 steps:\n%s", js[string](t, ctx, phoneState))
}
