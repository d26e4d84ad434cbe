// Package api is the JSON API other systems read (case-management systems,
// other survey platforms): surveys, their conversations, and the Flow
// Results API (FLOIP api-specification.md), all in the JSON:API shape.
//
// Every request carries a bearer token made with `haveyoursay token add`.
// A viewer token reads surveys and package descriptors; a staff token
// also reads conversations and answers. Every read of answers is written
// to the audit log, as an export. Errors are JSON:API error objects with a
// sentence a person can act on: 401 without a working token, 403 for the
// wrong role, 404 for an unknown survey or conversation, 400 naming a bad
// parameter.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/haveyoursay/haveyoursay/export"
	"github.com/haveyoursay/haveyoursay/store"
)

// Deps is what the API is built from.
type Deps struct {
	DB        *store.DB
	Members   *export.Members // member pseudonyms (from HYS_SECRET_KEY)
	PublicURL string          // the base of the links in answers; "" uses the request's host
	Log       *slog.Logger
}

// Handler serves the API.
type Handler struct {
	db        *store.DB
	exporter  *export.Exporter
	publicURL string
	log       *slog.Logger
}

// New builds the API.
func New(d Deps) *Handler {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	return &Handler{db: d.DB, publicURL: strings.TrimRight(d.PublicURL, "/"), log: d.Log,
		exporter: &export.Exporter{DB: d.DB, Members: d.Members, PublicURL: d.PublicURL}}
}

// MediaType is JSON:API's media type, which every answer has.
const MediaType = "application/vnd.api+json"

// Roles of API tokens.
const (
	RoleViewer = "viewer" // surveys and package descriptors
	RoleStaff  = "staff"  // also conversations and answers
)

type tokenKey struct{}

func tokenFrom(ctx context.Context) store.APIToken {
	t, _ := ctx.Value(tokenKey{}).(store.APIToken)
	return t
}

// Viewer lets through a request with any working token.
func (h *Handler) Viewer(f http.HandlerFunc) http.Handler { return h.auth(RoleViewer, f) }

// Staff lets through a request with a working staff token.
func (h *Handler) Staff(f http.HandlerFunc) http.Handler { return h.auth(RoleStaff, f) }

func (h *Handler) auth(need string, f http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		scheme, secret, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		secret = strings.TrimSpace(secret)
		if !strings.EqualFold(scheme, "Bearer") || secret == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="haveyoursay"`)
			h.fail(w, http.StatusUnauthorized, "No API token", "Send a token as the header 'Authorization: Bearer TOKEN'. An admin makes one with 'haveyoursay token add'.", "")
			return
		}
		t, err := h.db.APITokenFor(r.Context(), secret)
		if errors.Is(err, store.ErrNotFound) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="haveyoursay", error="invalid_token"`)
			h.fail(w, http.StatusUnauthorized, "Token not accepted", "This API token is wrong or has been revoked. Ask an admin for a new one.", "")
			return
		}
		if err != nil {
			h.serverError(w, r, err)
			return
		}
		if need == RoleStaff && t.Role != RoleStaff {
			h.fail(w, http.StatusForbidden, "Not allowed", "This token is a viewer token: it reads surveys, not members' answers. Ask an admin for a staff token.", "")
			return
		}
		f(w, r.WithContext(context.WithValue(r.Context(), tokenKey{}, t)))
	})
}

// errorDoc is a JSON:API error document.
type errorDoc struct {
	Errors []apiError `json:"errors"`
}

type apiError struct {
	Status string       `json:"status"`
	Title  string       `json:"title"`
	Detail string       `json:"detail"`
	Source *errorSource `json:"source,omitempty"`
}

type errorSource struct {
	Parameter string `json:"parameter"`
}

// fail is the one place an API request ends in an error: a JSON:API error
// with a title, a sentence, and the query parameter at fault, if any.
func (h *Handler) fail(w http.ResponseWriter, status int, title, detail, parameter string) {
	e := apiError{Status: strconv.Itoa(status), Title: title, Detail: detail}
	if parameter != "" {
		e.Source = &errorSource{Parameter: parameter}
	}
	h.write(w, status, errorDoc{Errors: []apiError{e}})
}

func (h *Handler) badParameter(w http.ResponseWriter, name, detail string) {
	h.fail(w, http.StatusBadRequest, "Bad parameter "+name, detail, name)
}

// serverError logs what went wrong (never personal data) and answers 500.
func (h *Handler) serverError(w http.ResponseWriter, r *http.Request, err error) {
	h.log.Error("api", "path", r.URL.Path, "err", err)
	h.fail(w, http.StatusInternalServerError, "Server error", "Something went wrong on our side. Please try again in a minute.", "")
}

// NotFound answers an address under /api/ that does not exist.
func (h *Handler) NotFound(w http.ResponseWriter, r *http.Request) {
	h.fail(w, http.StatusNotFound, "Not found", "There is nothing at this address. docs/export.md lists the API's addresses.", "")
}

func (h *Handler) write(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", MediaType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		h.log.Warn("api: writing an answer", "err", err)
	}
}

// base is the address links start with.
func (h *Handler) base(r *http.Request) string {
	if h.publicURL != "" {
		return h.publicURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// audit records a read of members' answers as an export through the API.
func (h *Handler) audit(r *http.Request, surveyID, format string, rows int, extra map[string]any) {
	detail := map[string]any{"format": format, "rows": rows, "via": "api", "with_numbers": false}
	for k, v := range extra {
		detail[k] = v
	}
	t := tokenFrom(r.Context())
	if err := h.db.Audit(context.WithoutCancel(r.Context()), "token:"+t.Name, store.AuditExport, store.SurveySubject(surveyID), detail); err != nil {
		h.log.Error("writing the audit log", "err", err)
	}
}
