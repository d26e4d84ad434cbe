package api

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/gorilla/mux"

	"github.com/haveyoursay/haveyoursay/export"
	"github.com/haveyoursay/haveyoursay/store"
)

// resource is a JSON:API resource object.
type resource struct {
	Type          string         `json:"type"`
	ID            string         `json:"id"`
	Attributes    any            `json:"attributes"`
	Links         map[string]any `json:"links,omitempty"`
	Relationships map[string]any `json:"relationships,omitempty"`
}

// document is a JSON:API document.
type document struct {
	Links map[string]any `json:"links,omitempty"`
	Meta  map[string]any `json:"meta,omitempty"`
	Data  any            `json:"data"`
}

type surveyAttributes struct {
	Title                string `json:"title"`
	Version              int    `json:"version"`
	Created              string `json:"created"`
	Modified             string `json:"modified"`
	FlowResultsPackageID string `json:"flow_results_package_id"`
}

// ServeSurveys lists every survey: GET /api/v1/surveys.
func (h *Handler) ServeSurveys(w http.ResponseWriter, r *http.Request) {
	surveys, err := h.db.ExportSurveys(r.Context())
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	base := h.base(r) + "/api/v1"
	data := []resource{}
	for _, s := range surveys {
		data = append(data, resource{Type: "surveys", ID: s.ID,
			Attributes: surveyAttributes{Title: s.Title, Version: s.Version, Created: export.Timestamp(s.CreatedAt), Modified: export.Timestamp(s.UpdatedAt),
				FlowResultsPackageID: s.PackageID},
			Links: map[string]any{
				"conversations": base + "/surveys/" + url.PathEscape(s.ID) + "/conversations",
				"flow-results":  base + "/flow-results/packages/" + s.PackageID,
			}})
	}
	h.write(w, http.StatusOK, document{Links: map[string]any{"self": base + "/surveys"}, Data: data})
}

// maxPage is the most rows a page holds.
const maxPage = 1000

// pageSize reads page[size] (default def, at most maxPage).
func (h *Handler) pageSize(w http.ResponseWriter, q url.Values, def int) (int, bool) {
	v := q.Get("page[size]")
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxPage {
		h.badParameter(w, "page[size]", "page[size] must be a whole number from 1 to 1000.")
		return 0, false
	}
	return n, true
}

// known refuses page[...] and filter[...] parameters the route does not
// read, naming the first: a typo must not silently return everything.
func (h *Handler) known(w http.ResponseWriter, q url.Values, names ...string) bool {
	for k := range q {
		if len(k) < 5 || (k[:5] != "page[" && (len(k) < 7 || k[:7] != "filter[")) {
			continue
		}
		ok := false
		for _, n := range names {
			ok = ok || k == n
		}
		if !ok {
			h.badParameter(w, k, k+" is not a parameter of this address. It reads: "+joinNames(names)+".")
			return false
		}
	}
	return true
}

func joinNames(names []string) string {
	s := ""
	for i, n := range names {
		if i > 0 {
			s += ", "
		}
		s += n
	}
	return s
}

// ServeConversations returns a page of a survey's conversations, every
// answer in each, in the order they were written:
// GET /api/v1/surveys/{id}/conversations?page[size]=N&page[after]=CURSOR.
// links.next continues; meta.cursor is where to carry on later, when new
// conversations have come (each is returned exactly once).
func (h *Handler) ServeConversations(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	q := r.URL.Query()
	if !h.known(w, q, "page[size]", "page[after]") {
		return
	}
	size, ok := h.pageSize(w, q, 100)
	if !ok {
		return
	}
	var after store.Cursor
	if v := q.Get("page[after]"); v != "" {
		var err error
		if after, err = store.ParseCursor(v); err != nil {
			h.badParameter(w, "page[after]", "page[after] must be a cursor from a links.next or meta.cursor of this API.")
			return
		}
	}
	o, err := h.exporter.Survey(r.Context(), id)
	if errors.Is(err, export.ErrUnknownSurvey) {
		h.fail(w, http.StatusNotFound, "Unknown survey", "There is no survey "+strconv.Quote(id)+". GET /api/v1/surveys lists them.", "")
		return
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	o.PublicURL = h.base(r)
	convs, next, err := h.db.ConversationsPage(r.Context(), id, after, size)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	data := make([]resource, 0, len(convs))
	answers := 0
	for _, c := range convs {
		jc, err := o.Conversation(c)
		if err != nil {
			h.serverError(w, r, err)
			return
		}
		answers += len(c.Answers)
		data = append(data, resource{Type: "conversations", ID: c.ID, Attributes: jc})
	}
	self := h.base(r) + "/api/v1/surveys/" + url.PathEscape(id) + "/conversations"
	page := func(c store.Cursor) string {
		v := url.Values{"page[size]": {strconv.Itoa(size)}}
		if !c.IsZero() {
			v.Set("page[after]", c.String())
		}
		return self + "?" + v.Encode()
	}
	links := map[string]any{"self": page(after), "next": nil}
	if len(convs) == size {
		links["next"] = page(next)
	}
	if next.IsZero() {
		next = after
	}
	h.audit(r, id, "api-conversations", len(convs), map[string]any{"answers": answers})
	h.write(w, http.StatusOK, document{Links: links, Meta: map[string]any{"cursor": next.String()}, Data: data})
}

// ServeConversation returns one conversation with every answer:
// GET /api/v1/conversations/{id}.
func (h *Handler) ServeConversation(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	c, err := h.db.ExportConversation(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		h.fail(w, http.StatusNotFound, "Unknown conversation", "There is no conversation "+strconv.Quote(id)+".", "")
		return
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	o, err := h.exporter.Survey(r.Context(), c.SurveyID)
	if err != nil && !errors.Is(err, export.ErrUnknownSurvey) {
		h.serverError(w, r, err)
		return
	}
	o.Members = h.exporter.Members
	o.PublicURL = h.base(r)
	jc, err := o.Conversation(c)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	h.audit(r, c.SurveyID, "api-conversation", 1, map[string]any{"conversation": c.ID, "answers": len(c.Answers)})
	h.write(w, http.StatusOK, document{Links: map[string]any{"self": h.base(r) + "/api/v1/conversations/" + url.PathEscape(id)},
		Data: resource{Type: "conversations", ID: c.ID, Attributes: jc}})
}
