package dashboard

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/haveyoursay/haveyoursay/hours"
	"github.com/haveyoursay/haveyoursay/sms"
	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/store/storetest"
)

// lateTeller lets a test build the sender after the dashboard (the sender
// needs the test app's database and emulator).
type lateTeller struct{ s *sms.Sender }

func (l *lateTeller) TellAction(ctx context.Context, actor string, id int64) (sms.Telling, error) {
	return l.s.TellAction(ctx, actor, id)
}

func (l *lateTeller) ActionProgress(ctx context.Context, id int64) (store.BatchProgress, error) {
	return l.s.ActionProgress(ctx, id)
}

// startSender starts the real text sender on the test app, texting through
// the emulator's REST API, at a daytime clock (not quiet hours).
func startSender(t *testing.T, ta *testApp, l *lateTeller) {
	t.Helper()
	ctx := context.Background()
	if err := ta.DB.MigrateRiver(ctx); err != nil {
		t.Fatal(err)
	}
	apiURL, err := ta.phone.StartAPIServer()
	if err != nil {
		t.Fatal(err)
	}
	catalog := store.NewCatalog(ta.DB)
	if err := catalog.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	london, _ := time.LoadLocation("Europe/London")
	day := func() time.Time { return time.Date(2026, 3, 10, 11, 0, 0, 0, london) }
	s, err := sms.NewSender(sms.SenderDeps{DB: ta.DB, Redis: ta.Redis, Phones: ta.Phones, Catalog: catalog,
		Texter: sms.NewTexter(twilioSID, twilioToken, apiURL, ta.URL), Now: day},
		sms.SenderConfig{From: "+447700900000", Rate: 50, Quiet: hours.DefaultQuiet(london), Org: sms.Org{Name: "Oakfield"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		s.Stop(sctx)
	})
	l.s = s
}

// pdf prints the page as the browser prints it (A4, the page's own CSS)
// and saves it beside the screenshots.
func (c *chrome) pdf(name string) string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, time.Minute)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.PrintToPDF(chromedp.PDFPreferCSSPageSize(), chromedp.PDFPrintBackground()))
	if err != nil {
		c.t.Fatalf("printing %s: %v", name, err)
	}
	if !strings.HasPrefix(string(buf), "%PDF-") {
		c.t.Fatalf("printing %s made no PDF", name)
	}
	file := filepath.Join(c.shots, name+".pdf")
	if err := os.WriteFile(file, buf, 0o644); err != nil {
		c.t.Fatal(err)
	}
	c.t.Logf("the printed %s is %s", name, file)
	// And a picture of it as printed: print CSS at A4's width (210 mm at
	// 96 dpi), for a person to look at without a PDF reader.
	printMedia := func(media string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: media})
			return err
		})
	}
	c.run(chromedp.EmulateViewport(794, 1123), printMedia("print"))
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		c.t.Fatalf("a picture of the printed %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(c.shots, name+"-printed.png"), shot, 0o644); err != nil {
		c.t.Fatal(err)
	}
	c.run(printMedia(""), chromedp.EmulateReset())
	return file
}

// TestBrowserYouSaidWeDid: staff read the survey's overview, choose a
// quote, record an action on a member's answer, mark it done and send it;
// the text arrives in the emulator for the member who asked to be told.
// The themes page, the reports (printed to PDF) and a member reviewer's
// finding follow. Every page is screenshotted and checked by axe-core.
func TestBrowserYouSaidWeDid(t *testing.T) {
	teller := &lateTeller{}
	ta := themedApp(t)
	ta.App.teller = teller
	startSender(t, ta, teller)
	ctx := context.Background()
	// The first member said yes to a text about what we did.
	var conv string
	if err := storetest.SQL(t, ta.DB).QueryRow(ctx, `SELECT c.id FROM conversations c JOIN participants p ON p.id = c.participant_id
		WHERE p.phone_hash = $1`, ta.Phones.Hash("+447700900701")).Scan(&conv); err != nil {
		t.Fatal(err)
	}
	if err := ta.DB.SetTellMe(ctx, conv, true); err != nil {
		t.Fatal(err)
	}
	garden := wordsAnswer(t, ta, "garden path")

	c := ta.chromeAs(t, Staff)
	c.open("/surveys/day-service")
	if !strings.Contains(c.text(), "Not good\n2 (67%)") {
		t.Errorf("the overview: %s", c.text())
	}
	c.check("survey-overview")

	// "Use this quote", with the number taken out.
	c.run(chromedp.Click(chromedp.CSS(fmt.Sprintf("#answer-%d summary", garden))))
	c.fill(fmt.Sprintf("#quote-%d", garden), "The garden path is hard for my chair.")
	c.submit(fmt.Sprintf("#answer-%d form button[type=submit]", garden))
	if !strings.Contains(c.text(), "The quote was saved.") {
		t.Errorf("after choosing a quote: %s", c.text())
	}

	// Record an action on that answer, done, with a text for members.
	c.run(chromedp.Click(chromedp.CSS(fmt.Sprintf("#pick-%d", garden))))
	c.fill("#said", "The garden path is hard for wheelchairs.")
	c.fill("#doing", "We made the garden path smooth and wide.")
	c.fill("#theme", "ideas")
	c.fill("#status", "done")
	c.fill("#member-text", "We made the garden path smooth. Now chairs can use it.")
	c.submit("#new-action button[type=submit]")
	if !strings.HasPrefix(c.path(), "/actions/") || !strings.Contains(c.text(), "The action was saved.") {
		t.Fatalf("after saving the action (%s): %s", c.path(), c.text())
	}
	c.check("action")
	actionPath := c.path()

	before := len(ta.phone.SentTo("+447700900701"))
	c.submit("form[action$='/tell'] button[type=submit]")
	if !strings.Contains(c.text(), "1 member will get the text.") {
		t.Errorf("after sending: %s", c.text())
	}
	deadline := time.Now().Add(30 * time.Second)
	for len(ta.phone.SentTo("+447700900701")) == before {
		if time.Now().After(deadline) {
			t.Fatal("the text never reached the emulator")
		}
		time.Sleep(20 * time.Millisecond)
	}
	got := ta.phone.SentTo("+447700900701")[before]
	if !strings.Contains(got.Body, "We made the garden path smooth. Now chairs can use it.") {
		t.Errorf("the member was texted %q", got.Body)
	}
	for _, other := range []string{"+447700900702", "+447700900703"} {
		for _, m := range ta.phone.SentTo(other) {
			if strings.Contains(m.Body, "garden path smooth") {
				t.Errorf("%s, who did not ask to be told, was texted %q", other, m.Body)
			}
		}
	}
	c.open(strings.SplitN(actionPath, "?", 2)[0])
	c.waitFor("the sent text is counted", `document.body.innerText.includes('1 sent')`)
	c.check("action-sent")

	c.open("/themes")
	c.check("themes")

	// The reports, printed.
	c.open("/surveys/day-service/report")
	for _, want := range []string{"The garden path is hard for my chair.", "We made the garden path smooth and wide.", "Done"} {
		if !strings.Contains(c.text(), want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	c.check("survey-report")
	c.pdf("survey-report")
	c.open("/themes/report")
	c.check("themes-report")
	c.pdf("themes-report")

	// A member reviewer: the easy-read themes page, and a finding.
	r := newChrome(t, ta.URL)
	ta.addUser(t, "rae@example.org", Reviewer)
	r.signIn("rae@example.org", testPassword)
	r.open("/themes")
	r.run(chromedp.Click(chromedp.CSS("#theme-ideas summary")))
	r.fill("#finding-ideas", "People like the garden but the path is hard for chairs.")
	r.submit("#theme-ideas form button[type=submit]")
	if !strings.Contains(r.text(), "Thank you. Your finding was saved.") || !strings.Contains(r.text(), "People like the garden") {
		t.Errorf("after a finding: %s", r.text())
	}
	r.check("themes-reviewer")
	r.open("/surveys/day-service")
	r.check("survey-reviewer")
}
