package api

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/haveyoursay/haveyoursay/export"
	"github.com/haveyoursay/haveyoursay/store"
)

// The Flow Results API (FLOIP api-specification.md, the "pull" side):
// one package per survey, whose id is the survey's package UUID.

func (h *Handler) packagesURL(r *http.Request) string {
	return h.base(r) + "/api/v1/flow-results/packages"
}

type packageSummary struct {
	Title    string `json:"title"`
	Name     string `json:"name"`
	Created  string `json:"created"`
	Modified string `json:"modified"`
}

// ServePackages lists every survey as a Flow Results package:
// GET /api/v1/flow-results/packages.
func (h *Handler) ServePackages(w http.ResponseWriter, r *http.Request) {
	surveys, err := h.db.ExportSurveys(r.Context())
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	data := []resource{}
	for _, s := range surveys {
		o := export.Options{Survey: s}
		d := o.Descriptor("", true)
		data = append(data, resource{Type: "packages", ID: s.PackageID,
			Attributes: packageSummary{Title: d.Title, Name: d.Name, Created: d.Created, Modified: d.Modified},
			Links:      map[string]any{"self": h.packagesURL(r) + "/" + s.PackageID}})
	}
	h.write(w, http.StatusOK, document{Links: map[string]any{"self": h.packagesURL(r), "next": nil, "previous": nil}, Data: data})
}

// surveyOf finds the survey of a package id, answering 404 when there is
// none.
func (h *Handler) surveyOf(w http.ResponseWriter, r *http.Request) (export.Options, bool) {
	id := mux.Vars(r)["id"]
	s, err := h.db.ExportSurveyByPackage(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		h.fail(w, http.StatusNotFound, "Unknown package", "There is no Flow Results package "+strconv.Quote(id)+". GET /api/v1/flow-results/packages lists them.", "")
		return export.Options{}, false
	}
	if err != nil {
		h.serverError(w, r, err)
		return export.Options{}, false
	}
	o, err := h.exporter.Prepare(r.Context(), s)
	if err != nil {
		h.serverError(w, r, err)
		return o, false
	}
	o.PublicURL = h.base(r)
	return o, true
}

// ServePackage returns a package's descriptor:
// GET /api/v1/flow-results/packages/{id}.
func (h *Handler) ServePackage(w http.ResponseWriter, r *http.Request) {
	o, ok := h.surveyOf(w, r)
	if !ok {
		return
	}
	self := h.packagesURL(r) + "/" + o.Survey.PackageID
	d := o.Descriptor(self+"/responses", true)
	h.write(w, http.StatusOK, struct {
		Links         map[string]any `json:"links"`
		Data          resource       `json:"data"`
		Relationships map[string]any `json:"relationships"`
	}{
		Links: map[string]any{"self": self},
		Data:  resource{Type: "packages", ID: d.ID, Attributes: d},
		// Where the specification's example puts it: beside data.
		Relationships: map[string]any{"responses": map[string]any{"links": map[string]any{"related": self + "/responses"}}},
	})
}

// parseTimestamp reads an RFC 3339 date-time; the specification's own
// examples also write a space for the T.
func parseTimestamp(s string) (time.Time, error) {
	if len(s) > 10 && s[10] == ' ' {
		s = s[:10] + "T" + s[11:]
	}
	// A + in a query string that was not escaped arrives as a space.
	if i := strings.LastIndexByte(s, ' '); i > 10 {
		s = s[:i] + "+" + s[i+1:]
	}
	return time.Parse(time.RFC3339Nano, s)
}

// ServeResponses returns a page of a package's responses:
// GET /api/v1/flow-results/packages/{id}/responses with filter[start-timestamp]
// (exclusive), filter[end-timestamp] (inclusive), filter[min-version],
// filter[max-version], page[size] (default 100, at most 1000),
// page[afterCursor] and page[beforeCursor] (row ids).
func (h *Handler) ServeResponses(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if !h.known(w, q, "filter[start-timestamp]", "filter[end-timestamp]", "filter[min-version]", "filter[max-version]",
		"page[size]", "page[afterCursor]", "page[beforeCursor]") {
		return
	}
	var p store.FlowPage
	var ok bool
	if p.Size, ok = h.pageSize(w, q, 100); !ok {
		return
	}
	for _, t := range []struct {
		name string
		to   *time.Time
	}{{"filter[start-timestamp]", &p.Start}, {"filter[end-timestamp]", &p.End}, {"filter[min-version]", &p.MinVersion}, {"filter[max-version]", &p.MaxVersion}} {
		v := q.Get(t.name)
		if v == "" {
			continue
		}
		at, err := parseTimestamp(v)
		if err != nil {
			h.badParameter(w, t.name, t.name+" must be an RFC 3339 date-time, like 2026-11-30T14:05:00+00:00.")
			return
		}
		*t.to = at
	}
	for _, c := range []struct {
		name string
		to   *int64
	}{{"page[afterCursor]", &p.After}, {"page[beforeCursor]", &p.Before}} {
		v := q.Get(c.name)
		if v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			h.badParameter(w, c.name, c.name+" must be the row_id of a response in this package.")
			return
		}
		*c.to = n
	}
	if p.After != 0 && p.Before != 0 {
		h.badParameter(w, "page[beforeCursor]", "Give page[afterCursor] or page[beforeCursor], not both.")
		return
	}
	o, ok := h.surveyOf(w, r)
	if !ok {
		return
	}
	rows, more, err := h.db.FlowResponses(r.Context(), o.Survey.ID, p)
	if errors.Is(err, store.ErrNotFound) {
		name := "page[afterCursor]"
		if p.Before != 0 {
			name = "page[beforeCursor]"
		}
		h.badParameter(w, name, name+" is not the row_id of a response in this package.")
		return
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	responses := make([]export.FlowRow, 0, len(rows))
	for _, f := range rows {
		if row, ok := o.Row(f.ConversationID, f.ParticipantID, f.Language, f.ExportAnswer); ok {
			responses = append(responses, row)
		}
	}
	self := h.packagesURL(r) + "/" + o.Survey.PackageID
	link := func(cursor string, id int64) string {
		v := url.Values{}
		for _, k := range []string{"filter[start-timestamp]", "filter[end-timestamp]", "filter[min-version]", "filter[max-version]"} {
			if q.Get(k) != "" {
				v.Set(k, q.Get(k))
			}
		}
		v.Set("page[size]", strconv.Itoa(p.Size))
		if cursor != "" {
			v.Set(cursor, strconv.FormatInt(id, 10))
		}
		return self + "/responses?" + v.Encode()
	}
	selfURL := h.base(r) + r.URL.Path
	if enc := q.Encode(); enc != "" {
		selfURL += "?" + enc
	}
	links := map[string]any{"self": selfURL, "next": nil, "previous": nil}
	if n := len(rows); n > 0 {
		first, last := rows[0].ID, rows[n-1].ID
		back := p.Before != 0 && p.After == 0
		// Forward: next when there are more now. Back: previous when there are more before.
		if (!back && more) || back {
			links["next"] = link("page[afterCursor]", last)
		}
		if (back && more) || (!back && p.After != 0) {
			links["previous"] = link("page[beforeCursor]", first)
		}
	}
	h.audit(r, o.Survey.ID, "api-flow-results", len(responses), nil)
	h.write(w, http.StatusOK, document{
		Links: links,
		Data: resource{Type: "flow-results-data", ID: o.Survey.PackageID,
			Attributes: map[string]any{"responses": responses},
			Relationships: map[string]any{
				"descriptor": map[string]any{"links": map[string]any{"self": self}},
				"links":      links,
			}},
	})
}
