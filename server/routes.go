package server

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/gorilla/mux"

	"github.com/haveyoursay/haveyoursay/api"
	"github.com/haveyoursay/haveyoursay/audio"
	"github.com/haveyoursay/haveyoursay/dashboard"
	"github.com/haveyoursay/haveyoursay/ivr"
	"github.com/haveyoursay/haveyoursay/ops"
	"github.com/haveyoursay/haveyoursay/sms"
)

// handlers are the parts the routes send requests to.
type handlers struct {
	metrics *ops.Metrics
	log     *slog.Logger
	texts   *sms.Handler
	calls   *ivr.Handler
	prompts *audio.Library
	staff   *dashboard.App
	try     *dashboard.TryIt // nil: not a dev server
	api     *api.Handler
	ready   ops.Readiness
	limits  *limiter // nil: no rate limits
}

// routes lists every URL the service answers, one comment per route.
func routes(h handlers) http.Handler {
	r := mux.NewRouter()
	r.Use(h.metrics.Middleware(h.log))
	r.Use(h.limits.Middleware) // unsigned webhooks and wrong passwords, per source (limits.go)

	// Twilio webhooks (paste these into the Twilio console; see README).
	r.HandleFunc("/twilio/sms", h.texts.ServeInbound).Methods(http.MethodPost)       // a member's text
	r.HandleFunc("/twilio/sms/status", h.texts.ServeStatus).Methods(http.MethodPost) // delivery of a text we sent
	r.HandleFunc(ivr.PathIncoming, h.calls.ServeIncoming).Methods(http.MethodPost)   // a member calls
	r.HandleFunc(ivr.PathStatus, h.calls.ServeStatus).Methods(http.MethodPost)       // a call ends

	// Later steps of a call: URLs our own TwiML hands Twilio.
	r.HandleFunc(ivr.PathStep, h.calls.ServeStep).Methods(http.MethodPost)                   // a key, a word, or silence
	r.HandleFunc(ivr.PathRecord, h.calls.ServeRecorded).Methods(http.MethodPost)             // a spoken answer was recorded
	r.HandleFunc(ivr.PathRecording, h.calls.ServeRecordingStatus).Methods(http.MethodPost)   // the recording is ready to fetch
	r.HandleFunc(ivr.PathTranscription, h.calls.ServeTranscription).Methods(http.MethodPost) // Twilio's transcript of it
	r.HandleFunc(ivr.PathRecordPrompts, h.calls.ServeRecordPrompts).Methods(http.MethodPost) // a member records prompts by phone

	// Recorded prompts for Twilio's <Play>: public, with unguessable names.
	r.PathPrefix("/audio/").Handler(h.prompts).Methods(http.MethodGet, http.MethodHead)

	// Dashboard assets (CSS, JavaScript).
	r.PathPrefix("/static/").Handler(dashboard.Static()).Methods(http.MethodGet, http.MethodHead)

	// The staff dashboard: sign-in, home, members, users, the review pages.
	h.staff.Routes(r)

	// The API for other systems: bearer tokens (haveyoursay token add), JSON:API (docs/export.md).
	r.Handle("/api/v1/surveys", h.api.Viewer(h.api.ServeSurveys)).Methods(http.MethodGet)                               // every survey
	r.Handle("/api/v1/surveys/{id}/conversations", h.api.Staff(h.api.ServeConversations)).Methods(http.MethodGet)       // a page of conversations, by cursor
	r.Handle("/api/v1/conversations/{id}", h.api.Staff(h.api.ServeConversation)).Methods(http.MethodGet)                // one conversation
	r.Handle("/api/v1/flow-results/packages", h.api.Viewer(h.api.ServePackages)).Methods(http.MethodGet)                // Flow Results: every package
	r.Handle("/api/v1/flow-results/packages/{id}", h.api.Viewer(h.api.ServePackage)).Methods(http.MethodGet)            // a package's descriptor
	r.Handle("/api/v1/flow-results/packages/{id}/responses", h.api.Staff(h.api.ServeResponses)).Methods(http.MethodGet) // its responses, filtered and paged
	r.PathPrefix("/api/").HandlerFunc(h.api.NotFound)                                                                   // anything else under /api: a JSON 404

	// The Try-it phone: dev only (it signs webhooks with our own token).
	if try := h.try; try != nil {
		r.HandleFunc("/try", try.ServePage).Methods(http.MethodGet)                               // the page
		r.HandleFunc("/try/api/sms", try.ServeSMS).Methods(http.MethodPost)                       // send a text
		r.HandleFunc("/try/api/call", try.ServeCallStart).Methods(http.MethodPost)                // start a call
		r.HandleFunc("/try/api/call/{id}", try.ServeCall).Methods(http.MethodGet)                 // what the call is doing
		r.HandleFunc("/try/api/call/{id}/press", try.ServeCallPress).Methods(http.MethodPost)     // keys
		r.HandleFunc("/try/api/call/{id}/speak", try.ServeCallSpeak).Methods(http.MethodPost)     // typed speech
		r.HandleFunc("/try/api/call/{id}/silence", try.ServeCallSilence).Methods(http.MethodPost) // say nothing
		r.HandleFunc("/try/api/call/{id}/record", try.ServeCallRecord).Methods(http.MethodPost)   // a recorded answer
		r.HandleFunc("/try/api/call/{id}/hangup", try.ServeCallHangup).Methods(http.MethodPost)   // put the phone down
	}

	// Operations.
	r.HandleFunc("/healthz", ops.Healthz).Methods(http.MethodGet, http.MethodHead) // the process is up
	r.Handle("/readyz", h.ready).Methods(http.MethodGet)                           // Postgres and Redis answer; surveys that do not load
	r.Handle("/metrics", h.metrics.Handler()).Methods(http.MethodGet)              // Prometheus

	r.MethodNotAllowedHandler = methodNotAllowed(r)
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "There is nothing at this address.", http.StatusNotFound)
	})
	return r
}

// methodNotAllowed answers a request with the wrong method (a browser
// opening a webhook address, say) with the methods that work and a
// sentence.
func methodNotAllowed(r *mux.Router) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var allowed []string
		for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete} {
			probe := req.Clone(req.Context())
			probe.Method = m
			var match mux.RouteMatch
			if r.Match(probe, &match) && match.MatchErr == nil {
				allowed = append(allowed, m)
			}
		}
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		msg := "This address does not answer " + req.Method + " requests."
		if len(allowed) == 1 && allowed[0] == http.MethodPost {
			msg += " It is for Twilio, which sends POST requests."
		} else if len(allowed) > 0 {
			msg += " Use " + strings.Join(allowed, " or ") + "."
		}
		http.Error(w, msg, http.StatusMethodNotAllowed)
	})
}
