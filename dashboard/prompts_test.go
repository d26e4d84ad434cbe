package dashboard

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/haveyoursay/haveyoursay/audio"
	"github.com/haveyoursay/haveyoursay/ivr"
	"github.com/haveyoursay/haveyoursay/phonesim"
	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/store/storetest"
	"github.com/haveyoursay/haveyoursay/survey"
)

// withPrompts gives the test app a prompt library, served at /audio/.
func withPrompts(lib **audio.Library) func(*Deps) {
	return func(d *Deps) {
		*lib = audio.NewLibrary(d.DB, "", nil)
		d.Prompts = PromptDeps{Library: *lib, RecordingNumber: "+447700900555",
			Phrases: func(sv *survey.Survey, lang string) []survey.Prompt { return ivr.Phrases(sv, lang, "Oakfield") }}
	}
}

func newPromptsApp(t *testing.T) (*testApp, *audio.Library) {
	var lib *audio.Library
	ta := newTestApp(t, withPrompts(&lib))
	ta.Router.PathPrefix("/audio/").Handler(lib)
	return ta, lib
}

// upload sends a file as the page's upload form does.
func (b *browser) upload(path string, fields map[string]string, filename string, data []byte) response {
	b.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("file", filename)
	fw.Write(data)
	mw.Close()
	req, _ := http.NewRequest("POST", b.base+path, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, body: string(out), location: res.Header.Get("Location"), header: res.Header}
}

func TestPromptsPage(t *testing.T) {
	t.Parallel()
	ta, lib := newPromptsApp(t)
	ctx := context.Background()
	const page = "/surveys/day-service/prompts"
	for _, role := range []Role{Reviewer, Viewer} {
		if res := ta.signedIn(t, role).get(page); res.status != http.StatusForbidden {
			t.Errorf("%s: %d", role, res.status)
		}
	}
	b := ta.signedIn(t, Staff)
	res := b.get(page)
	if res.status != 200 || !strings.Contains(res.body, "Hello. This is Have Your Say. We want to know") ||
		!strings.Contains(res.body, "Hello. This is Oakfield. We record this call") || !strings.Contains(res.body, "0 of ") {
		t.Fatalf("page: %d %s", res.status, res.body)
	}
	if res := b.get("/surveys/nothing/prompts"); res.status != http.StatusNotFound {
		t.Errorf("unknown survey: %d", res.status)
	}

	fields := map[string]string{"lang": "en-GB", "phrase": "intro"}
	res = b.upload(page+"/upload", fields, "notes.wav", []byte("Read this slowly and clearly, please.\n"))
	if res.status != http.StatusBadRequest || !strings.Contains(res.body, "notes.wav was not used for") || !strings.Contains(res.body, "it is a text file (perhaps renamed)") {
		t.Fatalf("a text file: %d %s", res.status, res.body)
	}
	res = b.upload(page+"/upload", map[string]string{"lang": "en-GB", "phrase": "no-such"}, "a.wav", phonesim.WAV(2))
	if res.status != http.StatusBadRequest {
		t.Fatalf("an unknown phrase: %d", res.status)
	}
	res = b.upload(page+"/upload", fields, "intro.wav", phonesim.WAV(2))
	if res.status != 200 || !strings.Contains(res.body, "Callers hear your recording of") || !strings.Contains(res.body, "1 of ") {
		t.Fatalf("upload: %d %s", res.status, res.body)
	}
	active, _ := ta.DB.AudioPrompts(ctx)
	if len(active) != 1 || active[0].Key != "intro" || active[0].RecordedBy != "Test staff" || active[0].Words == "" {
		t.Fatalf("active = %+v", active)
	}
	if res := b.get("/audio/" + active[0].Name); res.status != 200 || res.header.Get("Content-Type") != "audio/wav" {
		t.Fatalf("the page's player cannot play it: %d", res.status)
	}

	// A recording kept on the phone waits for "use this".
	sv := survey.Demo()
	thanks := ivr.Phrases(sv, "en-GB", "Oakfield")
	var words string
	for _, p := range thanks {
		if p.Key == "thanks" {
			words = p.Text
		}
	}
	kept, _, err := lib.Save(ctx, store.AudioPrompt{SurveyID: "day-service", Language: "en-GB", Key: "thanks", Status: store.PromptRecorded,
		Words: words, Source: "phone", RecordedBy: "Sam"}, phonesim.WAV(3))
	if err != nil {
		t.Fatal(err)
	}
	res = b.get(page)
	if !strings.Contains(res.body, "Waiting for you to listen: recorded by Sam by phone") || !strings.Contains(res.body, `value="`+kept.Name+`"`) {
		t.Fatalf("waiting recording not shown: %s", res.body)
	}
	if _, ok := lib.Lookup("day-service", "en-GB", "thanks"); ok {
		t.Fatal("played before 'use this'")
	}
	res = b.post(page+"/use", url.Values{"name": {kept.Name}})
	if res.status != http.StatusSeeOther || !strings.Contains(res.location, "done=used") {
		t.Fatalf("use this: %d %s", res.status, res.location)
	}
	if u, ok := lib.Lookup("day-service", "en-GB", "thanks"); !ok || !strings.HasSuffix(u, kept.Name) {
		t.Fatalf("after use this: %q %v", u, ok)
	}
	if res := b.post("/surveys/other/prompts/use", url.Values{"name": {kept.Name}}); res.status != http.StatusNotFound {
		t.Errorf("used through another survey's page: %d", res.status)
	}
	res = b.post(page+"/remove", url.Values{"lang": {"en-GB"}, "phrase": {"thanks"}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("remove: %d %s", res.status, res.body)
	}
	if _, ok := lib.Lookup("day-service", "en-GB", "thanks"); ok {
		t.Fatal("still played after 'stop using it'")
	}

	res = b.post(page+"/session", url.Values{"lang": {"en-GB"}, "voice": {"Sam"}})
	pin := regexp.MustCompile(`<strong class="pin">([0-9]{6})</strong>`).FindStringSubmatch(res.body)
	if res.status != 200 || pin == nil || !strings.Contains(res.body, "447700900555, or call any number of this survey") || res.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("session: %d %s", res.status, res.body)
	}
	if s, err := ta.DB.RecordingSessionByPIN(ctx, pin[1]); err != nil || s.Voice != "Sam" || !strings.HasPrefix(s.CreatedBy, "staff-") {
		t.Fatalf("the PIN shown opens %+v %v", s, err)
	}
	if res := b.get(page); !strings.Contains(res.body, "PIN for Sam: 0 of ") || strings.Contains(res.body, pin[1]) {
		t.Fatalf("open sessions (the PIN must not show again): %s", res.body)
	}
	var n int
	storetest.SQL(t, ta.DB).QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action IN ('prompt-uploaded', 'prompt-used', 'prompt-removed', 'recording-session-started')`).Scan(&n)
	if n != 4 {
		t.Errorf("%d audit lines, want 4", n)
	}
}

// The prompts page, with a recording played and one waiting, passes
// axe-core.
func TestBrowserPromptsPage(t *testing.T) {
	ta, lib := newPromptsApp(t)
	ctx := context.Background()
	if _, _, err := lib.Save(ctx, store.AudioPrompt{SurveyID: "day-service", Language: "en-GB", Key: "intro", Words: "Hello.", RecordedBy: "Ann"}, phonesim.WAV(2)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := lib.Save(ctx, store.AudioPrompt{SurveyID: "day-service", Language: "en-GB", Key: "thanks", Status: store.PromptRecorded,
		Source: "phone", RecordedBy: "Sam"}, phonesim.WAV(3)); err != nil {
		t.Fatal(err)
	}
	c := ta.chromeAs(t, Staff)
	c.open("/surveys/day-service/prompts")
	c.waitFor("the sentences", `document.querySelectorAll('table.prompts tbody tr').length > 10`)
	c.check("prompts")
	c.submit(`form[action$="/session"] button`)
	c.waitFor("a PIN", `!!document.querySelector('strong.pin')`)
	c.check("prompts-pin")
}
