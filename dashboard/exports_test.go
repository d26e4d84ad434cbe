package dashboard

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"html"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/haveyoursay/haveyoursay/export"
	"github.com/haveyoursay/haveyoursay/store"
)

// withDownloads gives the test dashboard its exporter, as server.New does.
func withDownloads(t *testing.T) func(*Deps) {
	return func(d *Deps) {
		members, err := export.NewMembers("a-test-secret-that-is-long-enough-for-hys")
		if err != nil {
			t.Fatal(err)
		}
		d.Exporter = &export.Exporter{DB: d.DB, Phones: d.Phones, Members: members, PublicURL: d.Config.PublicURL}
	}
}

func TestDownloads(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t, withDownloads(t))
	ta.addMember(t, memberNumber)
	ta.addMember(t, "+447700900462")

	for _, role := range Roles {
		b := ta.signedIn(t, role)
		res := b.get("/exports")
		if !role.CanExport() {
			if res.status != 403 {
				t.Errorf("%s: /exports = %d, want 403", role, res.status)
			}
			if res := b.get("/surveys/day-service/export.csv"); res.status != 403 {
				t.Errorf("%s: a download = %d, want 403", role, res.status)
			}
			continue
		}
		body := html.UnescapeString(res.body)
		if res.status != 200 || !strings.Contains(body, `href="/surveys/day-service/export.csv"`) ||
			!strings.Contains(body, `href="/surveys/day-service/export.zip"`) || !strings.Contains(body, `href="/surveys/day-service/export.json"`) {
			t.Errorf("%s: /exports = %d %s", role, res.status, res.body)
		}
		if hasNumbers := strings.Contains(body, "numbers=1"); hasNumbers != (role == Admin) {
			t.Errorf("%s: the page offers numbers: %v", role, hasNumbers)
		}

		// CSV: a file with a BOM, one row per conversation, no number.
		res = b.get("/surveys/day-service/export.csv")
		if res.status != 200 || res.header.Get("Content-Type") != "text/csv; charset=utf-8" ||
			!strings.HasPrefix(res.header.Get("Content-Disposition"), `attachment; filename="day-service-`) {
			t.Fatalf("%s: csv %d %v", role, res.status, res.header)
		}
		rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(res.body, "\uFEFF"))).ReadAll()
		if err != nil || len(rows) != 3 || rows[0][0] != "conversation_id" {
			t.Fatalf("%s: csv rows %q %v", role, rows, err)
		}
		if strings.Contains(res.body, "7700900") {
			t.Errorf("%s: the CSV holds a phone number", role)
		}
		// Numbers: refused to everyone but an admin.
		res = b.get("/surveys/day-service/export.csv?numbers=1")
		switch {
		case role == Admin && (res.status != 200 || !strings.Contains(res.body, "'"+memberNumber)):
			t.Errorf("admin with numbers: %d %q", res.status, res.body)
		case role != Admin && (res.status != 403 || !strings.Contains(res.body, "Only an admin can download phone numbers")):
			t.Errorf("%s with numbers: %d, want 403", role, res.status)
		}
	}

	b := ta.signedIn(t, Staff)
	res := b.get("/surveys/day-service/export.json")
	var doc export.Document
	if err := json.Unmarshal([]byte(res.body), &doc); err != nil || len(doc.Conversations) != 2 || res.header.Get("Content-Type") != "application/json" {
		t.Errorf("json: %v %d", err, len(doc.Conversations))
	}
	res = b.get("/surveys/day-service/export.zip")
	zr, err := zip.NewReader(bytes.NewReader([]byte(res.body)), int64(len(res.body)))
	if err != nil || len(zr.File) != 2 || zr.File[0].Name != "datapackage.json" {
		t.Errorf("zip: %v", err)
	}
	for path, want := range map[string]int{
		"/surveys/nope/export.csv":                                          404,
		"/surveys/day-service/export.xlsx":                                  404,
		"/surveys/day-service/export.csv?since=last+monday":                 400,
		"/surveys/day-service/export.csv?since=2026-11-30&until=2026-11-01": 400,
		"/exports?since=yesterday":                                          400,
	} {
		if res := b.get(path); res.status != want {
			t.Errorf("GET %s = %d, want %d", path, res.status, want)
		}
	}
	// Dates: nothing before the day the conversations were had.
	day := ta.Clock.Now().Local().AddDate(0, 0, -1).Format("2006-01-02")
	res = b.get("/surveys/day-service/export.csv?until=" + day)
	if rows, _ := csv.NewReader(strings.NewReader(strings.TrimPrefix(res.body, "\uFEFF"))).ReadAll(); len(rows) != 1 {
		t.Errorf("until yesterday: %d rows, want only the header", len(rows))
	}

	// Every download is in the audit log: who, which format, how many rows.
	log, err := ta.DB.AuditLog(context.Background(), store.SurveySubject("day-service"), 100)
	if err != nil {
		t.Fatal(err)
	}
	var formats []string
	numbers := 0
	for _, e := range log {
		if e.Action != store.AuditExport || e.Detail["via"] != "dashboard" || !strings.HasSuffix(e.Actor, "@example.org") {
			t.Errorf("audit line %+v", e)
			continue
		}
		formats = append(formats, e.Detail["format"].(string))
		if e.Detail["with_numbers"] == true {
			numbers++
			if !strings.HasPrefix(e.Actor, "admin-") || e.Detail["rows"] != float64(2) {
				t.Errorf("download with numbers logged as %+v", e)
			}
		}
	}
	if numbers != 1 || !slices.Contains(formats, "floip") || !slices.Contains(formats, "json") {
		t.Errorf("audit log formats %q, %d with numbers", formats, numbers)
	}
}

// TestBrowserDownloadsPage checks the downloads page with axe-core, as an
// admin (who also sees the downloads with numbers).
func TestBrowserDownloadsPage(t *testing.T) {
	ta := newTestApp(t, withDownloads(t))
	c := ta.chromeAs(t, Admin)
	c.open("/exports")
	if txt := c.text(); !strings.Contains(txt, "Download answers") || !strings.Contains(txt, "Your day service") {
		t.Fatalf("page: %s", txt)
	}
	c.run(chromedp.Click(chromedp.CSS("details summary")))
	c.check("downloads")
}
