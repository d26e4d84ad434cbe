package dashboard

import (
	"context"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/haveyoursay/haveyoursay/export"
	"github.com/haveyoursay/haveyoursay/store"
)

// Deps is what the dashboard is built from.
type Deps struct {
	DB     *store.DB
	Redis  *store.Redis
	Phones *store.Phones    // decrypts a number an admin reveals
	Log    *slog.Logger     // nil: discard
	Now    func() time.Time // nil: time.Now; tests pass a clock
	Config Config
	// Prompts are the recorded prompts' page's own needs (prompts.go).
	Prompts PromptDeps
	Teller  Teller // texts members about done actions; nil: no sending
	// Forget keeps a request to erase everything about a member and
	// queues its job (privacy.Requester.ForgetMember). nil: staff cannot.
	Forget func(ctx context.Context, memberID int64, by string, confirm bool) (int64, error)
	// Exporter makes the downloads (exports.go); nil: no downloads.
	Exporter *export.Exporter
}

// Config is the dashboard's settings.
type Config struct {
	PublicURL    string        // the site's own address; https makes cookies Secure
	StaffNumber  string        // HYS_STAFF_NUMBER: who is texted about call-backs
	SessionIdle  time.Duration // a session ends after this long without a request (default 2 hours)
	LockAfter    int           // wrong passwords in a row that lock an account (default 5)
	LockFor      time.Duration // how long the lock lasts (default 15 minutes)
	MaxFormBytes int64         // a larger form is refused (default 64 KiB)
	Dev          bool          // `haveyoursay dev`: links to the Try-it phone
	Review       ReviewConfig  // the review pages' own settings (review_routes.go)
}

// App is the staff dashboard: every page, and what they share.
type App struct {
	db     *store.DB
	redis  *store.Redis
	phones *store.Phones
	log    *slog.Logger
	now    func() time.Time
	cfg    Config
	views  map[string]*template.Template
	cop    *http.CrossOriginProtection
	secure bool // cookies only over https
	review reviewState

	prompts PromptDeps // the recorded prompts' page (prompts.go)
	teller  Teller
	forget  func(ctx context.Context, memberID int64, by string, confirm bool) (int64, error)
	dl      *export.Exporter // the downloads (exports.go)
}

// New builds the dashboard. It parses every template now, so a broken page
// stops the server starting rather than failing a visit.
func New(d Deps) (*App, error) {
	if d.DB == nil || d.Redis == nil {
		return nil, errors.New("the dashboard needs Postgres and Redis")
	}
	a := &App{db: d.DB, redis: d.Redis, phones: d.Phones, log: d.Log, now: d.Now, cfg: d.Config, teller: d.Teller, forget: d.Forget}
	a.prompts = d.Prompts
	a.dl = d.Exporter
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.cfg.SessionIdle <= 0 {
		a.cfg.SessionIdle = 2 * time.Hour
	}
	if a.cfg.LockAfter <= 0 {
		a.cfg.LockAfter = 5
	}
	if a.cfg.LockFor <= 0 {
		a.cfg.LockFor = 15 * time.Minute
	}
	if a.cfg.MaxFormBytes <= 0 {
		a.cfg.MaxFormBytes = 64 << 10
	}
	var err error
	if a.views, err = parseViews(); err != nil {
		return nil, err
	}
	a.cop = http.NewCrossOriginProtection()
	if u, err := url.Parse(a.cfg.PublicURL); err == nil && u.Host != "" {
		a.secure = u.Scheme == "https"
		// Behind a proxy that rewrites Host, the browser's Origin is the
		// public address.
		if err := a.cop.AddTrustedOrigin(u.Scheme + "://" + u.Host); err != nil {
			return nil, err
		}
	}
	a.cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.fail(w, r, http.StatusForbidden, "This form was sent from another website, so nothing was changed. Open the dashboard and try again from there.")
	}))
	return a, nil
}

// Routes registers every dashboard page on r.
//
// Adding a page: a file NAME.go with its handler (a method of App, whose
// doc comment names its route) calling a.render(w, r, "NAME", title,
// data); templates/NAME.html defining "content" (it reads .Data, .User,
// .Can and .EasyRead); one line here (or in reviewRoutes) with the Role
// method that says who may use it. Errors go through a.fail, a.notFound
// or a.serverError; forms through a.form; personal data views through
// a.audit. Each line says who may use
// it: a Role method (see auth.go). Every request goes through the same
// checks: same-site for anything that changes something, a size limit on
// forms, a session, and the role.
func (a *App) Routes(r *mux.Router) {
	// Signing in and out: open to everyone.
	r.Handle("/login", a.open(a.showLogin)).Methods(http.MethodGet, http.MethodHead) // the sign-in form
	r.Handle("/login", a.open(a.signIn)).Methods(http.MethodPost)                    // email and password
	r.Handle("/logout", a.open(a.signOut)).Methods(http.MethodPost)                  // end this session

	// Home: what needs attention since my last visit.
	a.get(r, "/", Role.Valid, a.showHome)

	// Users (admin).
	a.get(r, "/users", Role.CanManageUsers, a.showUsers)             // everyone who signs in
	a.post(r, "/users", Role.CanManageUsers, a.addUser)              // add one
	a.post(r, "/users/{id}/role", Role.CanManageUsers, a.setRole)    // change what they may do
	a.post(r, "/users/{id}/disable", Role.CanManageUsers, a.disable) // stop them signing in
	a.post(r, "/users/{id}/enable", Role.CanManageUsers, a.enable)   // let them sign in again

	// A member: masked number, language, communication needs, conversations.
	a.get(r, "/people/{id}", Role.SeesPeople, a.showPerson)
	a.post(r, "/people/{id}/needs", Role.CanEdit, a.setNeeds)  // communication needs both channels use
	a.post(r, "/people/{id}/reveal", Role.CanReveal, a.reveal) // the full number, on purpose, audit-logged

	// Safeguarding: the Worries queue (admins and the safeguarding lead).
	a.get(r, "/worries", Role.SeesWorries, a.showWorries)                  // open worries, longest waiting first
	a.get(r, "/worries/{id}", Role.SeesWorries, a.showWorry)               // one worry; kept as "looked"; audited
	a.post(r, "/worries/{id}/actions", Role.SeesWorries, a.addWorryAction) // what I did, who I told, close
	a.get(r, "/worries/{id}/record", Role.SeesWorries, a.exportWorry)      // the incident record; audited
	// Erase everything about a member (their request, made by phone).
	a.post(r, "/people/{id}/forget", Role.CanErase, a.forgetMember)

	// The audit log (admin): who did what, filterable; nobody can change it.
	a.get(r, "/audit", Role.CanAudit, a.showAudit)
	// Downloads: each survey's answers as CSV, JSON or Flow Results (exports.go).
	a.get(r, "/exports", Role.CanExport, a.showExports)                         // a button per survey and format
	a.get(r, "/surveys/{id}/export.{format}", Role.CanExport, a.downloadExport) // the file, streamed; audit-logged

	// ---- The review pages (conversations, one conversation, call-backs)
	// are listed in review_routes.go.
	a.reviewRoutes(r)

	// ---- Recorded prompts of a survey: listed in prompts.go.
	a.promptRoutes(r)
	// "You said, we did": surveys' overviews, themes, actions, reports.
	a.get(r, "/surveys/{id}", Role.CanReview, a.showSurvey)              // charts, themes, quotes, actions
	a.get(r, "/surveys/{id}/report", Role.CanReview, a.showSurveyReport) // printable easy-read report
	a.post(r, "/surveys/{id}/quotes", Role.CanEdit, a.chooseQuote)       // "use this quote" (or not)
	a.get(r, "/themes", Role.CanReview, a.showThemes)                    // every theme across surveys
	a.get(r, "/themes/report", Role.CanReview, a.showThemesReport)       // printable easy-read report
	a.post(r, "/actions", Role.CanEdit, a.addAction)                     // a new action
	a.get(r, "/actions/{id:[0-9]+}", Role.CanReview, a.showAction)       // one action
	a.post(r, "/actions/{id:[0-9]+}", Role.CanEdit, a.changeAction)      // change it, or how it stands
	a.post(r, "/actions/{id:[0-9]+}/tell", Role.CanEdit, a.tellAction)   // text the members who asked; audited
	a.post(r, "/findings", Role.CanTag, a.addFinding)                    // a member reviewer's finding
}

// get registers a page that only reads.
func (a *App) get(r *mux.Router, path string, allow func(Role) bool, h http.HandlerFunc) {
	r.Handle(path, a.page(allow, h)).Methods(http.MethodGet, http.MethodHead)
}

// post registers a form that changes something.
func (a *App) post(r *mux.Router, path string, allow func(Role) bool, h http.HandlerFunc) {
	r.Handle(path, a.page(allow, h)).Methods(http.MethodPost)
}

// open wraps a page anyone may reach (the sign-in form): same-site checks
// and the size limit, no session needed.
func (a *App) open(h http.HandlerFunc) http.Handler {
	return a.cop.Handler(a.limit(a.headers(h)))
}

// page wraps a signed-in page: same-site checks, the size limit, a
// session, and the role.
func (a *App) page(allow func(Role) bool, h http.HandlerFunc) http.Handler {
	return a.cop.Handler(a.limit(a.headers(a.signedIn(a.require(allow)(h)))))
}

// limit refuses forms larger than MaxFormBytes (parsing them fails, and
// the handler says so in a sentence: see form).
func (a *App) limit(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, a.cfg.MaxFormBytes)
		}
		h.ServeHTTP(w, r)
	})
}

// headers sets what every dashboard answer carries: pages hold personal
// data, so they are never cached, framed or sniffed.
func (a *App) headers(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("Referrer-Policy", "same-origin")
		h.ServeHTTP(w, r)
	})
}

// form parses a POSTed form, answering a sentence (and false) when it is
// too large or unreadable.
func (a *App) form(w http.ResponseWriter, r *http.Request) bool {
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			a.fail(w, r, http.StatusRequestEntityTooLarge, "That form was too large to accept, so nothing was changed. Please make it shorter and try again.")
			return false
		}
		a.fail(w, r, http.StatusBadRequest, "That form could not be read, so nothing was changed. Please try again.")
		return false
	}
	return true
}

// localPath returns next when it is a path on this site, else "/": after
// signing in we never send anyone to another website.
func localPath(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n\t") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	if strings.HasPrefix(u.Path, "/login") || strings.HasPrefix(u.Path, "/logout") {
		return "/"
	}
	return next
}
