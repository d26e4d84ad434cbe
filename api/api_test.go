package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/haveyoursay/haveyoursay/config"
	"github.com/haveyoursay/haveyoursay/server"
	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/store/storetest"
	"github.com/haveyoursay/haveyoursay/survey"
)

// env is the whole server, as serve builds it, with the demo survey, some
// conversations and a token of each role.
type env struct {
	url           string
	db            *store.DB
	sql           *pgxpool.Pool
	staff, viewer string
	revoked       string
	conversations int
}

func newEnv(t *testing.T, conversations int) *env {
	t.Helper()
	ctx := context.Background()
	cfg := config.Defaults()
	cfg.TwilioAccountSID = "AC0123456789abcdef0123456789abcdef"
	cfg.TwilioAuthToken = "0123456789abcdef0123456789abcdef"
	cfg.PublicURL = "https://feedback.example.org"
	cfg.SecretKey = "this-is-a-test-secret-of-enough-length"
	cfg.TwilioAPIURL = "http://127.0.0.1:1"
	db := storetest.DB(t)
	s := survey.Demo()
	if _, _, err := db.SaveSurvey(ctx, s.ID, s.Title, string(survey.DemoYAML), "day-service.yaml"); err != nil {
		t.Fatal(err)
	}
	if conversations > 0 {
		if err := db.SeedConversations(ctx, store.Seed{SurveyID: s.ID, Conversations: conversations}); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := server.New(ctx, server.Deps{Config: cfg, DB: db, Redis: storetest.Redis(t)})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() { hs.Close(); srv.Close() })
	e := &env{url: hs.URL, db: db, sql: storetest.SQL(t, db), conversations: conversations}
	for _, tk := range []struct {
		name, role string
		to         *string
	}{{"case-system", "staff", &e.staff}, {"trustees", "viewer", &e.viewer}, {"old", "staff", &e.revoked}} {
		_, secret, err := db.AddAPIToken(ctx, tk.name, tk.role)
		if err != nil {
			t.Fatal(err)
		}
		*tk.to = secret
	}
	if _, err := db.RevokeAPIToken(ctx, "old"); err != nil {
		t.Fatal(err)
	}
	return e
}

// get fetches a path (or a whole URL, as links give them: those name the
// public address, so only their path and query are used).
func (e *env) get(t *testing.T, token, path string, v any) int {
	t.Helper()
	if u, err := url.Parse(path); err == nil && u.Host != "" {
		path = u.RequestURI()
	}
	req, _ := http.NewRequest(http.MethodGet, e.url+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if ct := res.Header.Get("Content-Type"); ct != "application/vnd.api+json" {
		t.Errorf("GET %s: Content-Type %q", path, ct)
	}
	if v != nil {
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("GET %s: %d %s: %v", path, res.StatusCode, body, err)
		}
	}
	return res.StatusCode
}

type apiErrors struct {
	Errors []struct {
		Status, Title, Detail string
		Source                *struct{ Parameter string }
	}
}

func TestTokensAndRoles(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 3)
	var pkgs struct {
		Data []struct {
			ID         string
			Attributes map[string]any
		}
	}
	if code := e.get(t, e.viewer, "/api/v1/flow-results/packages", &pkgs); code != 200 || len(pkgs.Data) != 1 {
		t.Fatalf("packages: %d %+v", code, pkgs)
	}
	pkg := pkgs.Data[0].ID
	for _, path := range []string{"/api/v1/surveys", "/api/v1/surveys/day-service/conversations", "/api/v1/flow-results/packages",
		"/api/v1/flow-results/packages/" + pkg, "/api/v1/flow-results/packages/" + pkg + "/responses"} {
		for _, c := range []struct {
			name, token string
		}{{"missing", ""}, {"wrong", "hys_not-a-real-token"}, {"not ours", "0b79bab50daca910b000d4f1a2b675d604257e42"}, {"revoked", e.revoked}} {
			var errs apiErrors
			if code := e.get(t, c.token, path, &errs); code != 401 || len(errs.Errors) != 1 || errs.Errors[0].Status != "401" || errs.Errors[0].Detail == "" {
				t.Errorf("%s token on %s: %d %+v", c.name, path, code, errs)
			}
		}
		staffOnly := strings.Contains(path, "conversations") || strings.HasSuffix(path, "/responses")
		var errs apiErrors
		code := e.get(t, e.viewer, path, &errs)
		if staffOnly && (code != 403 || !strings.Contains(errs.Errors[0].Detail, "viewer token")) {
			t.Errorf("viewer on %s: %d %+v", path, code, errs)
		}
		if !staffOnly && code != 200 {
			t.Errorf("viewer on %s: %d", path, code)
		}
		if code := e.get(t, e.staff, path, nil); code != 200 {
			t.Errorf("staff on %s: %d", path, code)
		}
	}
	// A token sent another way than Bearer is no token.
	req, _ := http.NewRequest(http.MethodGet, e.url+"/api/v1/surveys", nil)
	req.SetBasicAuth("x", e.staff)
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 401 || res.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("basic auth: %v %v", res.StatusCode, err)
	}
}

func TestNotFoundAndBadParameters(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 3)
	var pkgs struct{ Data []struct{ ID string } }
	e.get(t, e.staff, "/api/v1/flow-results/packages", &pkgs)
	pkg := "/api/v1/flow-results/packages/" + pkgs.Data[0].ID
	for _, path := range []string{"/api/v1/surveys/nope/conversations", "/api/v1/conversations/nope",
		"/api/v1/flow-results/packages/0c364ee1-0305-42ad-9fc9-2ec5a80c55fa", "/api/v1/flow-results/packages/not-a-uuid/responses",
		"/api/v1/nothing-here"} {
		var errs apiErrors
		if code := e.get(t, e.staff, path, &errs); code != 404 || errs.Errors[0].Status != "404" {
			t.Errorf("%s: %d %+v", path, code, errs)
		}
	}
	for _, c := range []struct{ path, param string }{
		{pkg + "/responses?page[size]=0", "page[size]"},
		{pkg + "/responses?page[size]=lots", "page[size]"},
		{pkg + "/responses?page[size]=1001", "page[size]"},
		{pkg + "/responses?filter[start-timestamp]=yesterday", "filter[start-timestamp]"},
		{pkg + "/responses?filter[end-timestamp]=2026-13-01T00:00:00Z", "filter[end-timestamp]"},
		{pkg + "/responses?page[afterCursor]=abc", "page[afterCursor]"},
		{pkg + "/responses?page[afterCursor]=999999999", "page[afterCursor]"},
		{pkg + "/responses?page[afterCursor]=1&page[beforeCursor]=2", "page[beforeCursor]"},
		{pkg + "/responses?filter[colour]=red", "filter[colour]"},
		{"/api/v1/surveys/day-service/conversations?page[after]=xyz", "page[after]"},
		{"/api/v1/surveys/day-service/conversations?page[size]=-1", "page[size]"},
	} {
		var errs apiErrors
		code := e.get(t, e.staff, strings.NewReplacer("[", "%5B", "]", "%5D").Replace(c.path), &errs)
		if code != 400 || len(errs.Errors) != 1 || errs.Errors[0].Source == nil || errs.Errors[0].Source.Parameter != c.param ||
			!strings.Contains(errs.Errors[0].Detail, c.param) {
			t.Errorf("%s: %d %+v, want 400 naming %s", c.path, code, errs, c.param)
		}
	}
}

var uuid4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

type responsesDoc struct {
	Links map[string]*string
	Data  struct {
		Type       string
		ID         string
		Attributes struct{ Responses [][]any }
	}
}

func TestFlowResultsAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 10)
	var pkgs struct{ Data []struct{ ID string } }
	e.get(t, e.viewer, "/api/v1/flow-results/packages", &pkgs)
	var d struct {
		Data struct {
			Type, ID   string
			Attributes map[string]any
		}
	}
	if code := e.get(t, e.viewer, "/api/v1/flow-results/packages/"+pkgs.Data[0].ID, &d); code != 200 {
		t.Fatal(code)
	}
	a := d.Data.Attributes
	if d.Data.Type != "packages" || !uuid4.MatchString(d.Data.ID) || a["id"] != d.Data.ID || a["profile"] != "flow-results-package" {
		t.Errorf("descriptor %+v", d.Data)
	}
	res := a["resources"].([]any)[0].(map[string]any)
	if res["api-data-url"] != "https://feedback.example.org/api/v1/flow-results/packages/"+d.Data.ID+"/responses" {
		t.Errorf("api-data-url %v", res["api-data-url"])
	}
	questions := res["schema"].(map[string]any)["questions"].(map[string]any)
	for _, q := range []string{"feel", "better", "staff", "days"} {
		if questions[q] == nil {
			t.Errorf("question %s missing", q)
		}
	}

	// Rows are served once every transaction older than theirs has
	// finished, anywhere on the Postgres server: a test in another
	// package may hold one open for a moment.
	waitForRows(t, e, "/api/v1/flow-results/packages/"+d.Data.ID+"/responses?page%5Bsize%5D=1000", 40)

	// Page through every response, five at a time, then back.
	var all []string
	next := "/api/v1/flow-results/packages/" + d.Data.ID + "/responses?page%5Bsize%5D=5"
	var pages []responsesDoc
	for next != "" {
		var doc responsesDoc
		if code := e.get(t, e.staff, next, &doc); code != 200 {
			t.Fatalf("%s: %d", next, code)
		}
		if doc.Data.Type != "flow-results-data" || doc.Data.ID != d.Data.ID {
			t.Fatalf("data %+v", doc.Data)
		}
		for _, row := range doc.Data.Attributes.Responses {
			if len(row) != 6 || !strings.HasSuffix(row[0].(string), "+00:00") || questions[row[3].(string)] == nil {
				t.Errorf("row %v", row)
			}
			all = append(all, fmt.Sprint(row[1]))
		}
		pages = append(pages, doc)
		next = ""
		if doc.Links["next"] != nil {
			next = *doc.Links["next"]
		}
	}
	if len(all) != 40 || len(pages) != 8 {
		t.Errorf("%d rows in %d pages, want 40 in 8", len(all), len(pages))
	}
	// The last page's previous link gives the page before it.
	var prev responsesDoc
	e.get(t, e.staff, *pages[len(pages)-1].Links["previous"], &prev)
	if got := prev.Data.Attributes.Responses; len(got) != 5 || fmt.Sprint(got[0][1]) != all[30] {
		t.Errorf("previous page %v", got)
	}
	// Time filters: start exclusive, end inclusive.
	var first responsesDoc
	e.get(t, e.staff, "/api/v1/flow-results/packages/"+d.Data.ID+"/responses?page%5Bsize%5D=1000", &first)
	rows := first.Data.Attributes.Responses
	at := rows[0][0].(string)
	var only responsesDoc
	e.get(t, e.staff, "/api/v1/flow-results/packages/"+d.Data.ID+"/responses?filter%5Bend-timestamp%5D="+url.QueryEscape(at)+
		"&filter%5Bstart-timestamp%5D="+url.QueryEscape(at), &only)
	if len(only.Data.Attributes.Responses) != 0 {
		t.Errorf("start is exclusive: %v", only.Data.Attributes.Responses)
	}
	e.get(t, e.staff, "/api/v1/flow-results/packages/"+d.Data.ID+"/responses?filter%5Bend-timestamp%5D="+url.QueryEscape(at), &only)
	for _, r := range only.Data.Attributes.Responses {
		if r[0].(string) > at {
			t.Errorf("a response at %s is after the end %s", r[0], at)
		}
	}
	if len(only.Data.Attributes.Responses) == 0 {
		t.Error("end is inclusive: the response at the end time is missing")
	}
	// Every read of answers is in the audit log, as the token.
	log, err := e.db.AuditLog(context.Background(), store.SurveySubject("day-service"), 50)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) < 10 || log[0].Actor != "token:case-system" || log[0].Action != store.AuditExport || log[0].Detail["via"] != "api" {
		t.Errorf("audit log %d lines, newest %+v", len(log), log[0])
	}
}

// waitForRows polls a responses address until it has n rows.
func waitForRows(t *testing.T, e *env, path string, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var doc responsesDoc
		e.get(t, e.staff, path, &doc)
		if len(doc.Data.Attributes.Responses) == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d rows after 30 s, want %d", path, len(doc.Data.Attributes.Responses), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// insertAnswers adds n answers to a seeded conversation, each in its own
// transaction, from several goroutines at once.
func insertAnswers(t *testing.T, pool *pgxpool.Pool, prefix string, n int) {
	t.Helper()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := g; i < n; i += 4 {
				if _, err := pool.Exec(context.Background(), `INSERT INTO answers (conversation_id, question_id, value, raw, via, dedupe_key)
					SELECT id, 'feel', 'good', '1', 'digits', $1 FROM conversations ORDER BY id LIMIT 1`, fmt.Sprintf("%s-%d", prefix, i)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestPagesReturnEveryRowOnceWhileAnswersArrive: a client paging through
// responses and conversations while answers and conversations are written
// (some by a transaction that took its id first but commits last) gets
// every row exactly once.
//
// Not parallel: its slow transaction holds back what the other tests of
// this package see, as any open writing transaction on the server does.
func TestPagesReturnEveryRowOnceWhileAnswersArrive(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, 20)
	var pkgs struct{ Data []struct{ ID string } }
	e.get(t, e.staff, "/api/v1/flow-results/packages", &pkgs)
	base := "/api/v1/flow-results/packages/" + pkgs.Data[0].ID + "/responses?page%5Bsize%5D=7"

	// A slow writer: takes an answer id now, commits at the end.
	slow, err := e.sql.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Rollback(ctx)
	if _, err := slow.Exec(ctx, `INSERT INTO answers (conversation_id, question_id, value, raw, via, dedupe_key)
		SELECT id, 'feel', 'ok', '2', 'digits', 'slow' FROM conversations ORDER BY id LIMIT 1`); err != nil {
		t.Fatal(err)
	}
	// A slow new conversation too.
	if _, err := slow.Exec(ctx, `INSERT INTO conversations (id, participant_id, survey_id, survey_version, channel)
		SELECT 'slow-conv', participant_id, survey_id, 1, 'sms' FROM conversations LIMIT 1`); err != nil {
		t.Fatal(err)
	}

	seen := map[string]int{}
	convSeen := map[string]int{}
	cursor := ""     // the last row id, to carry on from
	convNext := ""   // the conversations' cursor
	poll := func() { // read every page there is now
		for {
			path := base
			if cursor != "" {
				path += "&page%5BafterCursor%5D=" + cursor
			}
			var doc responsesDoc
			if code := e.get(t, e.staff, path, &doc); code != 200 {
				t.Fatalf("%s: %d", path, code)
			}
			for _, row := range doc.Data.Attributes.Responses {
				id := fmt.Sprint(row[1])
				seen[id]++
				cursor = id
			}
			if doc.Links["next"] == nil {
				break
			}
		}
		for {
			path := "/api/v1/surveys/day-service/conversations?page%5Bsize%5D=6"
			if convNext != "" {
				path += "&page%5Bafter%5D=" + url.QueryEscape(convNext)
			}
			var doc struct {
				Links map[string]*string
				Meta  struct{ Cursor string }
				Data  []struct{ ID string }
			}
			if code := e.get(t, e.staff, path, &doc); code != 200 {
				t.Fatalf("%s: %d", path, code)
			}
			for _, c := range doc.Data {
				convSeen[c.ID]++
			}
			convNext = doc.Meta.Cursor
			if doc.Links["next"] == nil {
				break
			}
		}
	}

	done := make(chan struct{})
	go func() {
		defer close(done)
		insertAnswers(t, e.sql, "during", 60)
	}()
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		poll()
	}
	poll()
	if convSeen["slow-conv"] != 0 {
		t.Error("a conversation not yet committed was returned")
	}
	if err := slow.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	insertAnswers(t, e.sql, "after", 10)
	const total = 20*4 + 1 + 60 + 10
	for deadline := time.Now().Add(30 * time.Second); len(seen) < total && time.Now().Before(deadline); {
		poll()
		time.Sleep(20 * time.Millisecond)
	}

	// Every answer in the database, each exactly once.
	rows, err := e.sql.Query(ctx, `SELECT a.id::text FROM answers a JOIN conversations c ON c.id = a.conversation_id
		WHERE c.survey_id = 'day-service' AND NOT a.skipped AND NOT a.no_answer`)
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		want++
		if seen[id] != 1 {
			t.Errorf("answer %s returned %d times", id, seen[id])
		}
	}
	if want != total || len(seen) != want {
		t.Errorf("%d answers in the database, %d returned", want, len(seen))
	}
	for id, n := range convSeen {
		if n != 1 {
			t.Errorf("conversation %s returned %d times", id, n)
		}
	}
	for deadline := time.Now().Add(30 * time.Second); len(convSeen) < 21 && time.Now().Before(deadline); {
		poll()
	}
	if len(convSeen) != 21 {
		t.Errorf("%d conversations returned, want 21", len(convSeen))
	}
}
