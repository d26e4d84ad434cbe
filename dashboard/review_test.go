package dashboard

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/survey"
)

// reviewData is what seedReview wrote.
type reviewData struct {
	text, call, other string // conversation ids
	member            string // the caller's number
	textAnswer        int64  // the words answer of the text conversation
	recording         string
	callback          int64
}

// seedReview writes, through the journal as the webhooks do, a text
// conversation with a words answer, a call whose words answer is a
// recording with Twilio's transcript, another conversation of the caller,
// and the caller's request for a call back.
func seedReview(t testing.TB, ta *testApp) reviewData {
	t.Helper()
	ctx := context.Background()
	s := survey.Demo()
	if _, _, err := ta.DB.SaveSurvey(ctx, s.ID, s.Title, string(survey.DemoYAML), "day-service.yaml"); err != nil {
		t.Fatal(err)
	}
	d := reviewData{text: "sms-review-1", call: "call-review-1", other: "sms-review-2", member: "+447700900456", recording: "RE0123456789abcdef0123456789abcdef"}
	person := func(n string) store.Person {
		return store.Person{Hash: ta.Phones.Hash(n), Enc: ta.Phones.Encrypt(n), Masked: store.Mask(n)}
	}
	texter, caller := person("+447700900123"), person(d.member)
	at := ta.Clock.Now().Add(-2 * time.Hour)
	ev := func(min int, e store.Event) store.Event { e.At = at.Add(time.Duration(min) * time.Minute); return e }
	j := store.NewJournal(ta.DB, ta.Redis, slog.New(slog.DiscardHandler))
	if err := j.Record(ctx,
		ev(0, store.Event{Conversation: &store.ConversationStarted{ID: d.text, Person: texter, SurveyID: s.ID, Version: 1, Channel: "sms"}}),
		ev(1, store.Event{Message: &store.MessageLogged{DedupeKey: "SMr1", Direction: "in", Person: texter, ConversationID: d.text, Body: "3"}}),
		ev(1, store.Event{Answer: &store.AnswerGiven{ConversationID: d.text, QuestionID: "feel", Value: "not-good", Raw: "3", Via: "digits", Themes: []string{"day-service"}, DedupeKey: "SMr1:answer"}}),
		ev(2, store.Event{Message: &store.MessageLogged{DedupeKey: "SMr2", Direction: "in", Person: texter, ConversationID: d.text, Body: "The minibus is always late"}}),
		ev(2, store.Event{Answer: &store.AnswerGiven{ConversationID: d.text, QuestionID: "better", Value: "The minibus is always late", Raw: "The minibus is always late", Via: "text", Themes: []string{"ideas"}, DedupeKey: "SMr2:answer"}}),
		ev(3, store.Event{End: &store.ConversationEnded{ID: d.text, Status: "completed"}}),

		ev(10, store.Event{Conversation: &store.ConversationStarted{ID: d.call, Person: caller, SurveyID: s.ID, Version: 1, Channel: "voice", CallSid: "CAreview"}}),
		ev(11, store.Event{Input: &store.CallInput{DedupeKey: "CAreview:1", ConversationID: d.call, CallSid: "CAreview", Stage: "question", QuestionID: "feel", Digits: "3", Understood: true}}),
		ev(11, store.Event{Answer: &store.AnswerGiven{ConversationID: d.call, QuestionID: "feel", Value: "not-good", Raw: "3", Via: "digits", DedupeKey: "CAreview:1"}}),
		ev(12, store.Event{Answer: &store.AnswerGiven{ConversationID: d.call, QuestionID: "better", Raw: d.recording, Via: "recording", DedupeKey: "CAreview:2"}}),
		ev(13, store.Event{End: &store.ConversationEnded{ID: d.call, Status: "partial"}}),
		ev(14, store.Event{Callback: &store.CallbackBooked{DedupeKey: "CAreview:callback", Person: caller, ConversationID: d.call, Channel: "voice", Reason: "Asked for a person during a call (pressed 0)."}}),

		ev(30, store.Event{Conversation: &store.ConversationStarted{ID: d.other, Person: caller, SurveyID: s.ID, Version: 1, Channel: "sms"}}),
		ev(31, store.Event{End: &store.ConversationEnded{ID: d.other, Status: "refused"}}),
	); err != nil {
		t.Fatal(err)
	}
	if err := j.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := ta.DB.SaveRecording(ctx, store.Recording{SID: d.recording, CallSID: "CAreview", ConversationID: d.call, QuestionID: "better",
		AnswerKey: "CAreview:2", Seconds: 1, ContentType: "audio/wav", Audio: testWAV(time.Second)}); err != nil {
		t.Fatal(err)
	}
	if err := ta.DB.SaveTranscript(ctx, store.Transcript{RecordingSID: d.recording, AnswerKey: "CAreview:2", Source: "twilio",
		Status: "completed", Text: "the staff shout at me sometimes"}); err != nil {
		t.Fatal(err)
	}
	c, err := ta.DB.GetConversation(ctx, d.text)
	if err != nil {
		t.Fatal(err)
	}
	d.textAnswer = c.Answers[1].ID
	cbs, err := ta.DB.WaitingCallbacks(ctx)
	if err != nil || len(cbs) != 1 {
		t.Fatalf("call-backs: %v %v", cbs, err)
	}
	d.callback = cbs[0].ID
	return d
}

// testWAV is a real, playable WAV file: a quiet 440 Hz tone.
func testWAV(d time.Duration) []byte {
	const rate = 8000
	n := int(d.Seconds() * rate)
	var b bytes.Buffer
	w := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	w(uint32(36 + 2*n))
	b.WriteString("WAVEfmt ")
	w(uint32(16))
	w(uint16(1))
	w(uint16(1))
	w(uint32(rate))
	w(uint32(2 * rate))
	w(uint16(2))
	w(uint16(16))
	b.WriteString("data")
	w(uint32(2 * n))
	for i := range n {
		w(int16(3000 * math.Sin(2*math.Pi*440*float64(i)/rate)))
	}
	return b.Bytes()
}

func (d reviewData) pages() []string {
	return []string{"/conversations", "/conversations?q=minibus", "/conversations/" + d.text, "/conversations/" + d.call,
		"/conversations/" + d.call + "/recordings/" + d.recording, "/callbacks"}
}

func (d reviewData) forms() map[string]url.Values {
	return map[string]url.Values{
		"/conversations/" + d.text + "/themes":                     {"answer": {fmt.Sprint(d.textAnswer)}, "theme": {"transport"}},
		"/conversations/" + d.text + "/notes":                      {"note": {"a note"}},
		"/conversations/" + d.text + "/flags":                      {"kind": {"matters"}},
		"/conversations/" + d.call + "/transcripts/" + d.recording: {"text": {"changed"}},
		fmt.Sprintf("/callbacks/%d/done", d.callback):              {"outcome": {"reached"}},
		"/conversations/" + d.text + "/flags/1/clear":              {},
		"/conversations/" + d.text + "/themes?remove":              {"answer": {fmt.Sprint(d.textAnswer)}, "theme": {"ideas"}, "action": {"remove"}},
		"/conversations/" + d.call + "/notes#answer":               {"note": {"about an answer"}, "answer": {"1"}},
		"/conversations/" + d.text + "/flags#worry":                {"kind": {"worry"}, "reason": {"x"}},
	}
}

func TestReviewPagesNeedASession(t *testing.T) {
	ta := newTestApp(t)
	d := seedReview(t, ta)
	b := ta.browser(t)
	for _, p := range d.pages() {
		res := b.get(p)
		if res.status != http.StatusSeeOther || !strings.HasPrefix(res.location, "/login?next=") {
			t.Errorf("GET %s without a session = %d %q, want a redirect to /login", p, res.status, res.location)
		}
	}
	for p, form := range d.forms() {
		if form == nil {
			continue
		}
		res := b.post(strings.SplitN(strings.SplitN(p, "#", 2)[0], "?", 2)[0], form)
		if res.status != http.StatusSeeOther || !strings.HasPrefix(res.location, "/login") {
			t.Errorf("POST %s without a session = %d %q, want a redirect to /login", p, res.status, res.location)
		}
	}
	if n := auditCount(t, ta, ""); n != 0 {
		t.Fatalf("%d audit lines for visits without a session", n)
	}
}

func auditCount(t *testing.T, ta *testApp, action string) int {
	t.Helper()
	entries, err := ta.DB.AuditLog(context.Background(), "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if (action == "" && strings.HasPrefix(e.Subject, "conversation:")) || e.Action == action {
			n++
		}
	}
	return n
}

// phoneLike finds a number or a masked one ("+44 ••••••• 456").
var phoneLike = regexp.MustCompile(`(\+|&#43;)\d{6,}|(\+|&#43;)\d{1,3} •|•{3,}|7700900`)

// masked is a masked number as html/template writes it.
func masked(number string) string { return strings.ReplaceAll(store.Mask(number), "+", "&#43;") }

// A member reviewer never sees a phone number, masked or not, anywhere in
// any page they can open.
func TestReviewerSeesNoPhoneNumberOnReviewPages(t *testing.T) {
	ta := newTestApp(t)
	d := seedReview(t, ta)
	reviewer := ta.signedIn(t, Reviewer)
	staff := ta.signedIn(t, Staff)
	pages := []string{"/conversations", "/conversations?q=minibus", "/conversations?q=shouting", "/conversations?channel=voice"}
	for _, id := range []string{d.text, d.call, d.other} {
		for step := range 4 {
			pages = append(pages, fmt.Sprintf("/conversations/%s?step=%d", id, step))
		}
	}
	for _, p := range pages {
		res := reviewer.get(p)
		if res.status != http.StatusOK {
			t.Fatalf("reviewer GET %s = %d", p, res.status)
		}
		if m := phoneLike.FindString(res.body); m != "" {
			t.Errorf("reviewer GET %s shows %q", p, m)
		}
		if strings.Contains(res.body, "/people/") {
			t.Errorf("reviewer GET %s links to a member's page", p)
		}
	}
	if res := reviewer.get("/callbacks"); res.status != http.StatusForbidden {
		t.Errorf("reviewer GET /callbacks = %d, want 403", res.status)
	}
	// The same pages show staff the masked number: the check above can see one.
	res := staff.get("/conversations")
	if !strings.Contains(res.body, masked(d.member)) || !phoneLike.MatchString(res.body) {
		t.Fatalf("staff do not see masked numbers: %s", res.body)
	}
	// The easy-read view: one answer at a time, the reviewer's words.
	res = reviewer.get("/conversations/" + d.call + "?step=1")
	for _, want := range []string{"Answer 2 of 2", "the staff shout at me sometimes", "<audio controls", "This matters", "Next"} {
		if !strings.Contains(res.body, want) {
			t.Errorf("the easy-read step lacks %q", want)
		}
	}
	if strings.Contains(res.body, "Correct the transcript") || strings.Contains(res.body, "Flag a worry") {
		t.Error("the easy-read view offers staff-only changes")
	}
}

// A viewer reads everything and changes nothing; a reviewer tags, notes
// and says "this matters", but cannot correct, flag a worry, remove a
// theme or mark a call-back done.
func TestWhoMayChangeWhatOnReviewPages(t *testing.T) {
	ta := newTestApp(t)
	d := seedReview(t, ta)
	viewer := ta.signedIn(t, Viewer)
	for _, p := range d.pages() {
		if res := viewer.get(p); res.status != http.StatusOK {
			t.Errorf("viewer GET %s = %d, want 200", p, res.status)
		}
	}
	for p, form := range d.forms() {
		if form == nil {
			continue
		}
		path := strings.SplitN(strings.SplitN(p, "#", 2)[0], "?", 2)[0]
		if res := viewer.post(path, form); res.status != http.StatusForbidden {
			t.Errorf("viewer POST %s = %d, want 403", p, res.status)
		}
	}
	before, _ := ta.DB.GetConversation(context.Background(), d.text)
	if len(before.Notes)+len(before.Flags) != 0 || strings.Join(before.Answers[1].Themes, ",") != "ideas" {
		t.Fatalf("a viewer changed something: %+v", before)
	}
	res := viewer.get("/conversations/" + d.call)
	if strings.Contains(res.body, "<form class=\"stack\" method=\"post\"") || strings.Contains(res.body, "This matters") {
		t.Error("a viewer is offered forms")
	}

	reviewer := ta.signedIn(t, Reviewer)
	tag := url.Values{"answer": {fmt.Sprint(d.textAnswer)}, "theme": {"transport"}, "step": {"1"}}
	if res := reviewer.post("/conversations/"+d.text+"/themes", tag); res.status != http.StatusSeeOther || !strings.Contains(res.location, "step=1") {
		t.Fatalf("reviewer tag = %d %s", res.status, res.location)
	}
	if res := reviewer.post("/conversations/"+d.text+"/flags", url.Values{"kind": {"matters"}, "answer": {fmt.Sprint(d.textAnswer)}}); res.status != http.StatusSeeOther {
		t.Fatalf("reviewer this-matters = %d", res.status)
	}
	for p, form := range map[string]url.Values{
		"/conversations/" + d.text + "/flags":                      {"kind": {"worry"}},
		"/conversations/" + d.text + "/themes":                     {"answer": {fmt.Sprint(d.textAnswer)}, "theme": {"ideas"}, "action": {"remove"}},
		"/conversations/" + d.call + "/transcripts/" + d.recording: {"text": {"x"}},
		fmt.Sprintf("/callbacks/%d/done", d.callback):              {"outcome": {"reached"}},
	} {
		if res := reviewer.post(p, form); res.status != http.StatusForbidden {
			t.Errorf("reviewer POST %s %v = %d, want 403", p, form, res.status)
		}
	}
}

func TestCrossOriginPostIsRefused(t *testing.T) {
	ta := newTestApp(t)
	d := seedReview(t, ta)
	staff := ta.signedIn(t, Staff)
	res := staff.do("POST", "/conversations/"+d.text+"/notes", url.Values{"note": {"from elsewhere"}},
		map[string]string{"Sec-Fetch-Site": "cross-site"})
	if res.status != http.StatusForbidden {
		t.Fatalf("a cross-site note = %d, want 403", res.status)
	}
	res = staff.do("POST", fmt.Sprintf("/callbacks/%d/done", d.callback), url.Values{"outcome": {"reached"}},
		map[string]string{"Sec-Fetch-Site": "cross-site"})
	if res.status != http.StatusForbidden {
		t.Fatalf("a cross-site call-back = %d, want 403", res.status)
	}
	c, _ := ta.DB.GetConversation(context.Background(), d.text)
	waiting, _ := ta.DB.WaitingCallbacks(context.Background())
	if len(c.Notes) != 0 || len(waiting) != 1 {
		t.Fatal("a cross-site POST changed something")
	}
}

func TestConversationsListFiltersAndPages(t *testing.T) {
	ta := newTestApp(t, func(d *Deps) { d.Config.Review.PageSize = 2 })
	d := seedReview(t, ta)
	staff := ta.signedIn(t, Staff)
	res := staff.get("/conversations")
	if res.status != http.StatusOK || !strings.Contains(res.body, d.other) || !strings.Contains(res.body, d.call) || strings.Contains(res.body, d.text) {
		t.Fatalf("first page: %d %s", res.status, res.body)
	}
	next := regexp.MustCompile(`href="(/conversations\?after=[^"]+)"`).FindStringSubmatch(res.body)
	if next == nil {
		t.Fatal("no next page link")
	}
	res = staff.get(strings.ReplaceAll(next[1], "&amp;", "&"))
	if !strings.Contains(res.body, d.text) || strings.Contains(res.body, d.call) || strings.Contains(res.body, "after=") {
		t.Fatalf("second page: %s", res.body)
	}
	for q, want := range map[string]string{
		"q=minibus":                           d.text,
		"q=shouting":                          d.call,
		"channel=voice&status=partial":        d.call,
		"recording=1":                         d.call,
		"theme=ideas":                         d.text,
		"survey=day-service&question=feel":    d.call,
		"status=refused":                      d.other,
		"q=%3Cscript%3Ealert(1)%3C/script%3E": "",
	} {
		res := staff.get("/conversations?" + q)
		if res.status != http.StatusOK {
			t.Fatalf("%s: %d", q, res.status)
		}
		if strings.Contains(res.body, "<script>alert") {
			t.Fatalf("%s: the search was not escaped", q)
		}
		if want != "" && !strings.Contains(res.body, "/conversations/"+want+"\"") {
			t.Errorf("%s: %s is not listed", q, want)
		}
	}
	res = staff.get("/conversations?q=the")
	if res.status != http.StatusOK || !strings.Contains(res.body, "too common to search for") {
		t.Fatalf("a search for 'the': %d", res.status)
	}
	res = staff.get("/conversations?channel=fax&from=yesterday&after=nonsense")
	if res.status != http.StatusOK || !strings.Contains(res.body, "Choose texts or phone calls") || !strings.Contains(res.body, "2026-03-31") {
		t.Fatalf("bad filters: %d %s", res.status, res.body)
	}
}

func TestConversationPageAndChanges(t *testing.T) {
	ta := newTestApp(t)
	d := seedReview(t, ta)
	staff := ta.signedIn(t, Staff)
	res := staff.get("/conversations/" + d.call)
	for _, want := range []string{"How do you feel about your day service?", "pressed 3", "Not good", "the staff shout at me sometimes",
		`src="/conversations/` + d.call + `/recordings/` + d.recording + `"`, masked(d.member), "/conversations/" + d.other, "/people/"} {
		if !strings.Contains(res.body, want) {
			t.Errorf("the call's page lacks %q", want)
		}
	}
	if strings.Contains(res.body, "twilio.com") {
		t.Error("the page points at Twilio")
	}
	if n := auditCount(t, ta, store.AuditViewConversation); n != 1 {
		t.Fatalf("%d view lines in the audit log, want 1", n)
	}

	post := func(path string, form url.Values) {
		t.Helper()
		if res := staff.post(path, form); res.status != http.StatusSeeOther {
			t.Fatalf("POST %s = %d %s", path, res.status, res.body)
		}
	}
	post("/conversations/"+d.call+"/transcripts/"+d.recording, url.Values{"text": {"the staff shout at me on Mondays"}})
	post("/conversations/"+d.text+"/themes", url.Values{"answer": {fmt.Sprint(d.textAnswer)}, "theme": {"transport"}})
	post("/conversations/"+d.text+"/themes", url.Values{"answer": {fmt.Sprint(d.textAnswer)}, "theme": {"ideas"}, "action": {"remove"}})
	post("/conversations/"+d.text+"/notes", url.Values{"note": {"<script>alert('x')</script> ring the council"}})
	post("/conversations/"+d.text+"/flags", url.Values{"kind": {"worry"}, "reason": {"<b>upset</b>"}})

	res = staff.get("/conversations/" + d.call + "?done=transcript")
	for _, want := range []string{"the staff shout at me on Mondays", "Original transcript", "the staff shout at me sometimes", "Corrected by", "The transcript was corrected"} {
		if !strings.Contains(res.body, want) {
			t.Errorf("after the correction the page lacks %q", want)
		}
	}
	res = staff.get("/conversations/" + d.text)
	if strings.Contains(res.body, "<script>alert") || strings.Contains(res.body, "<b>upset</b>") {
		t.Fatal("a note or flag's HTML reached the page as HTML")
	}
	for _, want := range []string{"&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; ring the council", "&lt;b&gt;upset&lt;/b&gt;", ">transport<", "Worry"} {
		if !strings.Contains(res.body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(res.body, ">ideas<") {
		t.Error("the removed theme is still shown")
	}
	rows, _, _ := ta.DB.ListConversations(context.Background(), store.ConversationFilter{Flagged: true})
	if len(rows) != 1 || rows[0].ID != d.text {
		t.Fatalf("flagged: %+v", rows)
	}
	c, _ := ta.DB.GetConversation(context.Background(), d.text)
	if res := staff.post(fmt.Sprintf("/conversations/%s/flags/%d/clear", d.text, c.Flags[0].ID), url.Values{}); res.status != http.StatusSeeOther {
		t.Fatalf("clearing a flag: %d", res.status)
	}
	for action, want := range map[string]int{store.AuditCorrect: 1, store.AuditThemeAdd: 1, store.AuditThemeRemove: 1, store.AuditNote: 1, store.AuditFlag: 1, store.AuditFlagClear: 1} {
		if n := auditCount(t, ta, action); n != want {
			t.Errorf("%d %s lines in the audit log, want %d", n, action, want)
		}
	}

	// Bad input: a sentence, and what was typed is kept.
	long := strings.Repeat("a", maxNote+1)
	res = staff.post("/conversations/"+d.text+"/notes", url.Values{"note": {long}})
	if res.status != http.StatusBadRequest || !strings.Contains(res.body, "up to 4000 letters") || !strings.Contains(res.body, long) {
		t.Fatalf("a long note: %d", res.status)
	}
	res = staff.post("/conversations/"+d.text+"/themes", url.Values{"answer": {"999999"}, "theme": {"x"}})
	if res.status != http.StatusNotFound {
		t.Fatalf("a theme on an unknown answer: %d", res.status)
	}
	res = staff.post("/conversations/"+d.text+"/notes", url.Values{"note": {strings.Repeat("a", 70<<10)}})
	if res.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("an oversized form: %d", res.status)
	}
	for _, p := range []string{"/conversations/nope", "/conversations/nope/recordings/" + d.recording, "/conversations/" + d.text + "/recordings/" + d.recording} {
		if res := staff.get(p); res.status != http.StatusNotFound || !strings.Contains(res.body, "We could not find that") {
			t.Errorf("GET %s = %d, want the 404 page", p, res.status)
		}
	}
	if res := staff.post("/conversations/nope/notes", url.Values{"note": {"x"}}); res.status != http.StatusNotFound {
		t.Errorf("a note on an unknown conversation = %d", res.status)
	}
}

// The recording comes from our own storage, to a signed-in person, with
// range requests; each listen is audited once, not once per range.
func TestRecordingIsStreamedWithRanges(t *testing.T) {
	ta := newTestApp(t)
	d := seedReview(t, ta)
	staff := ta.signedIn(t, Staff)
	path := "/conversations/" + d.call + "/recordings/" + d.recording
	full := staff.get(path)
	wav := testWAV(time.Second)
	if full.status != http.StatusOK || full.body != string(wav) || full.header.Get("Content-Type") != "audio/wav" || full.header.Get("Accept-Ranges") != "bytes" {
		t.Fatalf("full: %d %q %v", full.status, full.header.Get("Content-Type"), full.header)
	}
	part := staff.do("GET", path, nil, map[string]string{"Range": "bytes=100-199"})
	if part.status != http.StatusPartialContent || part.body != string(wav[100:200]) {
		t.Fatalf("range: %d, %d bytes", part.status, len(part.body))
	}
	if n := auditCount(t, ta, store.AuditPlayRecording); n != 1 {
		t.Fatalf("%d play lines in the audit log, want 1", n)
	}
}

func TestCallbacksOldestFirstAndIcalled(t *testing.T) {
	ta := newTestApp(t)
	d := seedReview(t, ta)
	staff := ta.signedIn(t, Staff)
	res := staff.get("/callbacks")
	for _, want := range []string{masked(d.member), "waiting 1 hour", "pressed 0", "/conversations/" + d.call, "Mark as called"} {
		if !strings.Contains(res.body, want) {
			t.Errorf("the call-backs page lacks %q", want)
		}
	}
	path := fmt.Sprintf("/callbacks/%d/done", d.callback)
	if res := staff.post(path, url.Values{"outcome": {"teleported"}}); res.status != http.StatusBadRequest || !strings.Contains(res.body, "Choose what happened") {
		t.Fatalf("an unknown outcome: %d", res.status)
	}
	if res := staff.post(path, url.Values{"outcome": {"voicemail"}, "note": {"Try again <Tuesday>"}}); res.status != http.StatusSeeOther {
		t.Fatalf("I called: %d", res.status)
	}
	res = staff.get("/callbacks?done=done")
	if !strings.Contains(res.body, "Nobody is waiting") || !strings.Contains(res.body, "Left a message") || !strings.Contains(res.body, "Try again &lt;Tuesday&gt;") {
		t.Fatalf("after I called: %s", res.body)
	}
	if res := staff.post(path, url.Values{"outcome": {"reached"}}); res.status != http.StatusConflict {
		t.Fatalf("marked twice: %d", res.status)
	}
	if res := staff.post("/callbacks/99999/done", url.Values{"outcome": {"reached"}}); res.status != http.StatusNotFound {
		t.Fatalf("an unknown call-back: %d", res.status)
	}
	if n := auditCount(t, ta, store.AuditCallbackDone); n != 1 {
		t.Fatalf("%d call-back lines in the audit log", n)
	}
}
