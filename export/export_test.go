package export_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/haveyoursay/haveyoursay/export"
	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/store/storetest"
)

const secret = "a-test-secret-that-is-long-enough-for-hys"

// surveyYAML has one question of every answer type.
const surveyYAML = `id: export-test
title: Export test
language: en-GB
start:
  keywords: [EXPORTTEST]
intro: Hello. We want to hear what you think.
consent: We keep your answers safe. Is that OK?
questions:
  - id: feel
    ask: How do you feel?
    answer: choice
    options:
      - {value: good, say: Good, key: 1}
      - {value: not-good, say: Not good, key: 2}
  - id: safe
    ask: Do you feel safe?
    answer: yesno
  - id: why
    ask: Tell us why, in your own words.
    answer: words
    optional: true
  - id: kind
    ask: How kind are the staff? 1 is not kind. 5 is very kind.
    answer: scale
    min: 1
    max: 5
  - id: trips
    ask: How many trips did you go on?
    answer: number
    min: 0
    max: 50
thanks: Thank you.
`

// fixture is a database with the test survey and three conversations
// whose words are hard for every format: quotes, commas, new lines,
// emoji, and text that a spreadsheet would run as a formula.
type fixture struct {
	db       *store.DB
	phones   *store.Phones
	members  *export.Members
	numbers  []string
	words    []string
	convIDs  []string
	started  []time.Time
	exporter *export.Exporter
}

var hardWords = []string{
	`She said "no", then "yes, please"`,
	"line one\nline two\r\nline three 😀👍🏽",
	`=HYPERLINK("http://evil.example","click")`,
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	db := storetest.DB(t)
	phones, err := store.NewPhones(secret)
	if err != nil {
		t.Fatal(err)
	}
	members, err := export.NewMembers(secret)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.SaveSurvey(ctx, "export-test", "Export test", surveyYAML, "export-test.yaml"); err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: db, phones: phones, members: members, words: hardWords,
		numbers: []string{"+447700900101", "+447700900102", "+447700900103"}}
	sql := storetest.SQL(t, db)
	base := time.Date(2026, 11, 1, 9, 30, 0, 123456000, time.UTC)
	for i, n := range f.numbers {
		var pid int64
		if err := sql.QueryRow(ctx, `INSERT INTO participants (phone_hash, phone_enc, phone_masked) VALUES ($1, $2, $3) RETURNING id`,
			phones.Hash(n), phones.Encrypt(n), store.Mask(n)).Scan(&pid); err != nil {
			t.Fatal(err)
		}
		id := fmt.Sprintf("conv-%d", i)
		at := base.Add(time.Duration(i) * time.Hour)
		channel := "sms"
		if i == 2 {
			channel = "voice"
		}
		if _, err := sql.Exec(ctx, `INSERT INTO conversations (id, participant_id, survey_id, survey_version, channel, status, consent, language, started_at, ended_at)
			VALUES ($1, $2, 'export-test', 1, $3, 'completed', 'yes', 'en-GB', $4, $5)`, id, pid, channel, at, at.Add(3*time.Minute)); err != nil {
			t.Fatal(err)
		}
		f.convIDs = append(f.convIDs, id)
		f.started = append(f.started, at)
		answer := func(q, value, raw, via string, themes []string, k int) {
			t.Helper()
			if _, err := sql.Exec(ctx, `INSERT INTO answers (conversation_id, question_id, value, raw, via, themes, dedupe_key, created_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, id, q, value, raw, via, themes, fmt.Sprintf("%s:%d", id, k), at.Add(time.Duration(k)*time.Second)); err != nil {
				t.Fatal(err)
			}
		}
		answer("feel", "not-good", "2", "digits", []string{"day-service"}, 0)
		answer("safe", "yes", "👍", "emoji", []string{}, 1)
		if channel == "voice" {
			answer("why", "", "", "recording", []string{"ideas"}, 2)
			if _, err := sql.Exec(ctx, `INSERT INTO recordings (sid, call_sid, conversation_id, question_id, answer_key, seconds, content_type, audio)
				VALUES ('RE1', 'CA1', $1, 'why', $2, 7, 'audio/wav', '\x00')`, id, id+":2"); err != nil {
				t.Fatal(err)
			}
			for _, tr := range []struct{ source, text string }{{"twilio", "the machine heard this"}, {"staff", f.words[i]}} {
				if _, err := sql.Exec(ctx, `INSERT INTO transcripts (recording_sid, answer_key, source, status, text) VALUES ('RE1', $1, $2, 'completed', $3)`,
					id+":2", tr.source, tr.text); err != nil {
					t.Fatal(err)
				}
			}
		} else {
			answer("why", f.words[i], f.words[i], "text", []string{"ideas"}, 2)
		}
		answer("kind", fmt.Sprint(i+3), fmt.Sprint(i+3), "digits", []string{}, 3)
		answer("trips", "12", "twelve", "words", []string{}, 4)
	}
	f.exporter = &export.Exporter{DB: db, Phones: phones, Members: members, PublicURL: "https://feedback.example.org", BatchSize: 2}
	return f
}

func (f *fixture) run(t *testing.T, r export.Request) ([]byte, export.Stats) {
	t.Helper()
	if r.SurveyID == "" {
		r.SurveyID = "export-test"
	}
	if r.Actor == "" {
		r.Actor, r.Via = "cli", "cli"
	}
	var buf bytes.Buffer
	st, err := f.exporter.Run(context.Background(), r, &buf)
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), st
}

func (f *fixture) noNumbers(t *testing.T, out []byte) {
	t.Helper()
	for _, n := range f.numbers {
		for _, form := range []string{n, strings.TrimPrefix(n, "+"), "0" + n[3:]} {
			if bytes.Contains(out, []byte(form)) {
				t.Errorf("the export holds the phone number %s", form)
			}
		}
	}
}

func TestCSVReadsBackWithQuotesNewlinesEmojiAndNoFormulas(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	out, st := f.run(t, export.Request{Format: "csv"})
	if st.Conversations != 3 || st.Answers != 15 {
		t.Errorf("stats %+v, want 3 conversations and 15 answers", st)
	}
	if !bytes.HasPrefix(out, []byte("\xEF\xBB\xBF")) {
		t.Fatal("the CSV has no UTF-8 byte-order mark, so Excel would misread emoji")
	}
	f.noNumbers(t, out)
	rows, err := csv.NewReader(bytes.NewReader(out[3:])).ReadAll()
	if err != nil {
		t.Fatalf("the CSV does not read back: %v", err)
	}
	if len(rows) != 4 {
		t.Fatalf("%d rows, want a header and 3", len(rows))
	}
	header := rows[0]
	col := func(name string) int {
		i := slices.Index(header, name)
		if i < 0 {
			t.Fatalf("no column %q in %q", name, header)
		}
		return i
	}
	wantHeader := []string{"conversation_id", "member_id", "started_utc", "ended_utc", "channel", "status", "language",
		"survey_version", "feel", "safe", "why", "why (words)", "kind", "trips", "themes"}
	if !slices.Equal(header, wantHeader) {
		t.Errorf("header %q\nwant %q", header, wantHeader)
	}
	for i, row := range rows[1:] {
		if len(row) != len(header) {
			t.Fatalf("row %d has %d cells, want %d", i, len(row), len(header))
		}
		if row[col("conversation_id")] != f.convIDs[i] {
			t.Errorf("row %d is %s, want %s (oldest first)", i, row[0], f.convIDs[i])
		}
		want := f.words[i]
		if strings.HasPrefix(want, "=") {
			want = "'" + want // neutralised: a spreadsheet shows it as text
		}
		// encoding/csv (like spreadsheets) reads a CR LF inside a cell as LF.
		want = strings.ReplaceAll(want, "\r\n", "\n")
		if got := row[col("why (words)")]; got != want {
			t.Errorf("row %d words %q, want %q", i, got, want)
		}
		if row[col("feel")] != "not-good" || row[col("safe")] != "yes" || row[col("kind")] != fmt.Sprint(i+3) || row[col("trips")] != "12" {
			t.Errorf("row %d values %q", i, row)
		}
		if row[col("started_utc")] != f.started[i].Format("2006-01-02 15:04:05") {
			t.Errorf("row %d started %q", i, row[col("started_utc")])
		}
		if row[col("themes")] != "day-service; ideas" {
			t.Errorf("row %d themes %q", i, row[col("themes")])
		}
		if m := row[col("member_id")]; !regexp.MustCompile(`^m-[a-z2-9]{16}$`).MatchString(m) {
			t.Errorf("member id %q", m)
		}
		for j, cell := range row {
			if cell != "" && strings.ContainsRune("=+@\t\r", rune(cell[0])) {
				t.Errorf("row %d column %s starts with %q: a spreadsheet would run it", i, header[j], cell[:1])
			}
		}
	}
	// The same member id in the next export: stable across exports.
	again, _ := f.run(t, export.Request{Format: "csv"})
	rows2, _ := csv.NewReader(bytes.NewReader(again[3:])).ReadAll()
	if rows2[1][1] != rows[1][1] || rows[1][1] == rows[2][1] {
		t.Errorf("member ids %q then %q: want stable, and different people different", rows[1][1], rows2[1][1])
	}
}

func TestNeutralise(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"=1+1": "'=1+1", "+44 7700": "'+44 7700", "-2+3": "'-2+3", "@SUM(A1)": "'@SUM(A1)",
		"\tx": "'\tx", "\rx": "'\rx", "-3": "-3", "-2.5": "-2.5", "fine": "fine", "": "", "a=b": "a=b",
	} {
		if got := export.Neutralise(in); got != want {
			t.Errorf("Neutralise(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCSVWithNumbersAndAudit(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	out, _ := f.run(t, export.Request{Format: "csv", WithNumbers: true, Actor: "cli", Via: "cli"})
	rows, err := csv.NewReader(bytes.NewReader(out[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	i := slices.Index(rows[0], "phone")
	if i < 0 {
		t.Fatalf("no phone column in %q", rows[0])
	}
	for k, row := range rows[1:] {
		// A number starts with +: neutralised like any other cell.
		if row[i] != "'"+f.numbers[k] {
			t.Errorf("phone %q, want %q", row[i], "'"+f.numbers[k])
		}
	}
	log, err := f.db.AuditLog(context.Background(), store.SurveySubject("export-test"), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 1 || log[0].Action != store.AuditExport || log[0].Actor != "cli" || log[0].Detail["format"] != "csv" ||
		log[0].Detail["rows"] != float64(3) || log[0].Detail["with_numbers"] != true {
		t.Errorf("audit log %+v", log)
	}
}

func TestJSONRoundTrips(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	out, _ := f.run(t, export.Request{Format: "json"})
	f.noNumbers(t, out)
	var doc export.Document
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("the JSON does not decode: %v", err)
	}
	if doc.Survey.ID != "export-test" || doc.Survey.Version != 1 || len(doc.Conversations) != 3 {
		t.Fatalf("document %+v", doc.Survey)
	}
	for i, c := range doc.Conversations {
		stored, err := f.db.ExportConversation(context.Background(), f.convIDs[i])
		if err != nil {
			t.Fatal(err)
		}
		if c.ID != stored.ID || c.MemberID != f.members.ID(stored.ParticipantID) || c.Channel != stored.Channel || len(c.Answers) != 5 {
			t.Errorf("conversation %d: %+v", i, c)
		}
		if at, err := time.Parse(time.RFC3339Nano, c.StartedAt); err != nil || !at.Equal(f.started[i].Truncate(time.Microsecond)) {
			t.Errorf("started %q, want %s", c.StartedAt, f.started[i])
		}
		why := c.Answers[2]
		if why.Question != "Tell us why, in your own words." {
			t.Errorf("question words %q", why.Question)
		}
		if c.Channel == "voice" {
			if why.Transcript == nil || why.Transcript.Original != "the machine heard this" || why.Transcript.Current != f.words[i] {
				t.Errorf("transcript %+v", why.Transcript)
			}
			if why.Recording == nil || why.Recording.SID != "RE1" || why.Recording.Seconds != 7 ||
				why.Recording.URL != "https://feedback.example.org/conversations/conv-2/recordings/RE1" {
				t.Errorf("recording %+v", why.Recording)
			}
		} else if why.Raw != f.words[i] || why.Value != f.words[i] {
			t.Errorf("words %q, want %q", why.Raw, f.words[i])
		}
	}
	// Encoding what was decoded gives the same document again.
	again, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var doc2 export.Document
	if err := json.Unmarshal(again, &doc2); err != nil {
		t.Fatal(err)
	}
	b1, _ := json.Marshal(doc2)
	if !bytes.Equal(again, b1) {
		t.Error("the JSON does not round-trip")
	}
}

var (
	uuid4     = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	timestamp = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?[+-]\d\d:\d\d$`)
)

// CheckFlowPackage checks a descriptor and its rows against the Flow
// Results specification (FLOIP/flow-results specification.md).
func checkFlowPackage(t *testing.T, d map[string]any, rows [][]any) {
	t.Helper()
	if d["profile"] != "flow-results-package" || d["flow_results_specification_version"] != export.FlowResultsVersion {
		t.Errorf("profile %v version %v", d["profile"], d["flow_results_specification_version"])
	}
	if id, _ := d["id"].(string); !uuid4.MatchString(id) {
		t.Errorf("id %q is not a version-4 UUID", d["id"])
	}
	for _, k := range []string{"created", "modified"} {
		if s, _ := d[k].(string); !timestamp.MatchString(s) || strings.HasSuffix(s, "Z") {
			t.Errorf("%s %q is not RFC 3339 with an offset", k, d[k])
		}
	}
	if name, _ := d["name"].(string); !regexp.MustCompile(`^[a-z0-9._-]+$`).MatchString(name) {
		t.Errorf("name %q", name)
	}
	resources, _ := d["resources"].([]any)
	if len(resources) != 1 {
		t.Fatalf("%d resources, want exactly one", len(resources))
	}
	r := resources[0].(map[string]any)
	if r["path"] == nil && r["api-data-url"] == nil {
		t.Error("the resource has no path: inline data is not allowed")
	}
	if _, inline := r["data"]; inline {
		t.Error("the resource has inline data")
	}
	schema := r["schema"].(map[string]any)
	fields := schema["fields"].([]any)
	var names []string
	for _, f := range fields {
		names = append(names, f.(map[string]any)["name"].(string))
	}
	if !slices.Equal(names, []string{"timestamp", "row_id", "contact_id", "question_id", "response", "response_metadata"}) {
		t.Errorf("fields %q", names)
	}
	questions := schema["questions"].(map[string]any)
	for _, id := range []string{"feel", "safe", "why", "kind", "trips"} {
		q, ok := questions[id].(map[string]any)
		if !ok {
			t.Errorf("question %s is not in the schema", id)
			continue
		}
		if q["label"] == "" || q["type_options"] == nil {
			t.Errorf("question %s: %v", id, q)
		}
	}
	choices := func(id string) []any {
		return questions[id].(map[string]any)["type_options"].(map[string]any)["choices"].([]any)
	}
	if q := questions["feel"].(map[string]any); q["type"] != "select_one" || fmt.Sprint(choices("feel")) != "[good not-good]" {
		t.Errorf("feel %v", q)
	}
	if q := questions["safe"].(map[string]any); q["type"] != "select_one" || fmt.Sprint(choices("safe")) != "[yes no]" {
		t.Errorf("safe %v", q)
	}
	if q := questions["kind"].(map[string]any); q["type"] != "numeric" || fmt.Sprint(q["type_options"].(map[string]any)["range"]) != "[1 5]" {
		t.Errorf("kind %v", q)
	}
	if q := questions["why"].(map[string]any); q["type"] != "open" {
		t.Errorf("why %v", q)
	}
	seen := map[string]bool{}
	for i, row := range rows {
		if len(row) != 6 {
			t.Fatalf("row %d has %d columns, want 6", i, len(row))
		}
		if s, _ := row[0].(string); !timestamp.MatchString(s) || !strings.HasSuffix(s, "+00:00") {
			t.Errorf("row %d timestamp %q: want RFC 3339 with +00:00", i, row[0])
		}
		id := fmt.Sprint(row[1])
		if seen[id] {
			t.Errorf("row id %s twice", id)
		}
		seen[id] = true
		q, ok := questions[row[3].(string)].(map[string]any)
		if !ok {
			t.Errorf("row %d names question %v, not in the schema", i, row[3])
			continue
		}
		switch q["type"] {
		case "select_one":
			if !slices.Contains(q["type_options"].(map[string]any)["choices"].([]any), row[4]) {
				t.Errorf("row %d response %v is not one of the choices", i, row[4])
			}
		case "numeric":
			if _, ok := row[4].(float64); !ok {
				t.Errorf("row %d response %v is not a number", i, row[4])
			}
		case "open":
			meta, _ := row[5].(map[string]any)
			if meta["type"] != "text" && meta["type"] != "audio" {
				t.Errorf("row %d open response metadata %v has no type", i, meta)
			}
		}
	}
}

func TestFlowResultsPackage(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	out, st := f.run(t, export.Request{Format: "floip"})
	f.noNumbers(t, out)
	zr, err := zip.NewReader(bytes.NewReader(out), int64(len(out)))
	if err != nil {
		t.Fatal(err)
	}
	read := func(name string) []byte {
		rc, err := zr.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var d map[string]any
	if err := json.Unmarshal(read("datapackage.json"), &d); err != nil {
		t.Fatal(err)
	}
	var rows [][]any
	if err := json.Unmarshal(read(export.DataFile), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 15 || st.Answers != 15 {
		t.Errorf("%d rows (stats %+v), want 15", len(rows), st)
	}
	checkFlowPackage(t, d, rows)
	if d["resources"].([]any)[0].(map[string]any)["path"] != export.DataFile {
		t.Error("the resource's path is not the data file")
	}
	// The package id is the survey's, the same in every export.
	again, _ := f.run(t, export.Request{Format: "floip"})
	zr2, _ := zip.NewReader(bytes.NewReader(again), int64(len(again)))
	rc, _ := zr2.Open("datapackage.json")
	var d2 map[string]any
	json.NewDecoder(rc).Decode(&d2)
	if d2["id"] != d["id"] {
		t.Errorf("package id %v then %v", d["id"], d2["id"])
	}
}

func TestFlowResultsFolderAndDates(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	dir := t.TempDir() + "/package"
	// Only the second conversation: since its start, until the third's.
	_, st := f.run(t, export.Request{Format: "floip", Out: dir, Since: f.started[1], Until: f.started[2]})
	if st.Conversations != 1 || st.Answers != 5 {
		t.Errorf("stats %+v, want 1 conversation and 5 rows", st)
	}
	for _, name := range []string{"datapackage.json", export.DataFile} {
		if _, err := readFile(dir + "/" + name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestUnknownSurveyAndFormat(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if _, err := f.exporter.Run(context.Background(), export.Request{SurveyID: "nope", Format: "csv", Actor: "cli"}, io.Discard); err != export.ErrUnknownSurvey {
		t.Errorf("unknown survey: %v", err)
	}
	if _, err := f.exporter.Run(context.Background(), export.Request{SurveyID: "export-test", Format: "xlsx", Actor: "cli"}, io.Discard); err == nil ||
		!strings.Contains(err.Error(), "csv, json or floip") {
		t.Errorf("unknown format: %v", err)
	}
}

func readFile(path string) ([]byte, error) { return os.ReadFile(path) }

// TestFlowRowJSON: rows are written by hand for speed; they must read back
// as encoding/json reads them, whatever a member typed.
func TestFlowRowJSON(t *testing.T) {
	t.Parallel()
	for _, s := range append(slices.Clone(hardWords), "", "tab\there", "nul\x00and\x1f", `back\slash "quoted"`,
		"<b>&amp;</b>", "bad \xff utf-8", "line\u2028sep", "😀👍🏽 émoji") {
		row := export.FlowRow{Timestamp: "2026-11-30T14:05:09+00:00", RowID: 42, ContactID: "m-x", QuestionID: "why", Response: s,
			Meta: export.RowMeta{Type: "text", TypeOptions: &struct{}{}, Transcript: s, Via: "text"}}
		b, err := json.Marshal(row)
		if err != nil {
			t.Fatal(err)
		}
		var got []any
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%q: %s does not read back: %v", s, b, err)
		}
		want := strings.ToValidUTF8(s, "\uFFFD")
		meta := got[5].(map[string]any)
		if len(got) != 6 || got[4] != want || (want != "" && meta["transcript"] != want) || got[1] != float64(42) || meta["type_options"] == nil {
			t.Errorf("%q: read back %v", s, got)
		}
	}
	for _, v := range []any{int64(-3), 4.5} {
		b, _ := json.Marshal(export.FlowRow{Response: v})
		var got []any
		if err := json.Unmarshal(b, &got); err != nil || fmt.Sprint(got[4]) != fmt.Sprint(v) {
			t.Errorf("%v: %s %v", v, b, err)
		}
	}
}

// TestStopReadingEarly: a reader that stops part way (a download the
// browser cancelled) stops the batch reader too, and leaves the store
// working.
func TestStopReadingEarly(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	for range 3 {
		n := 0
		for _, err := range f.db.ExportConversations(ctx, store.ExportFilter{SurveyID: "export-test", BatchSize: 1}) {
			if err != nil {
				t.Fatal(err)
			}
			if n++; n == 2 {
				break
			}
		}
	}
	n := 0
	for _, err := range f.db.ExportConversations(ctx, store.ExportFilter{SurveyID: "export-test", BatchSize: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 3 {
		t.Errorf("%d conversations after stopping early, want 3", n)
	}
}
