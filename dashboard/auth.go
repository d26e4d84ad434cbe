package dashboard

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/haveyoursay/haveyoursay/store"
)

// Role is what a person may do in the dashboard.
type Role string

// The roles. What each may do is in the methods below, never in a
// handler: pages ask the role ("may you edit?"), not its name.
const (
	Admin        Role = "admin"        // everything, and users
	Staff        Role = "staff"        // review, tag, note, flag, call-backs, listen, members' needs
	Reviewer     Role = "reviewer"     // a member reviewer: easy-read review pages; never a number or a name
	Viewer       Role = "viewer"       // reads; changes nothing
	Safeguarding Role = "safeguarding" // staff, plus the worries queue
)

// Roles lists every role, in the order forms offer them.
var Roles = []Role{Admin, Staff, Safeguarding, Reviewer, Viewer}

// ParseRole reads a role name, answering a sentence for an unknown one.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	if !r.Valid() {
		return "", fmt.Errorf("%q is not a role. Use one of: admin, staff, safeguarding, reviewer, viewer.", s)
	}
	return r, nil
}

// Valid reports whether r is a known role: anyone signed in.
func (r Role) Valid() bool {
	switch r {
	case Admin, Staff, Reviewer, Viewer, Safeguarding:
		return true
	}
	return false
}

// Describe says in a sentence what the role may do (the users page and
// the README say the same).
func (r Role) Describe() string {
	switch r {
	case Admin:
		return "Everything, including adding people, changing roles and seeing a member's full number."
	case Staff:
		return "Read and listen to every answer, tag, note, flag, call members back, set members' needs."
	case Safeguarding:
		return "What staff can do, and the queue of worries."
	case Reviewer:
		return "A member reviewer: reads, listens, tags and notes in the easy-read view. Never sees a number or a name."
	case Viewer:
		return "Reads everything a staff member reads, and changes nothing."
	}
	return ""
}

// CanReview: read conversations and listen to recordings. Every role.
func (r Role) CanReview() bool { return r.Valid() }

// CanTag: tag answers, add a note, mark "this matters". Reviewers do this
// too; viewers do not.
func (r Role) CanTag() bool { return r.CanEdit() || r == Reviewer }

// CanEdit: change things about members and their answers (transcripts,
// flags, call-backs, communication needs).
func (r Role) CanEdit() bool { return r == Admin || r == Staff || r == Safeguarding }

// SeesPeople: member pages, masked numbers and names. Not reviewers.
func (r Role) SeesPeople() bool { return r.Valid() && r != Reviewer }

// SeesPhoneNumbers: masked numbers (…1234). Not reviewers.
func (r Role) SeesPhoneNumbers() bool { return r.SeesPeople() }

// CanReveal: see a member's full number, on purpose, audit-logged.
func (r Role) CanReveal() bool { return r == Admin }

// CanManageUsers: add people, change roles, disable accounts.
func (r Role) CanManageUsers() bool { return r == Admin }

// SeesWorries: the safeguarding queue.
func (r Role) SeesWorries() bool { return r == Admin || r == Safeguarding }

// EasyRead: pages in plain words, large type and targets, icons with text.
func (r Role) EasyRead() bool { return r == Reviewer }

// User is the person signed in to this request.
type User struct {
	ID        int64
	Email     string
	Name      string
	Role      Role
	LastVisit time.Time // when they last used the dashboard before this sign-in (zero: never)
}

// Label is how the person is named on pages: their name, or their e-mail.
func (u *User) Label() string {
	if u.Name != "" {
		return u.Name
	}
	return u.Email
}

type userKey struct{}

// userFrom returns the signed-in person; nil on pages anyone may open.
func userFrom(ctx context.Context) *User {
	u, _ := ctx.Value(userKey{}).(*User)
	return u
}

func withUser(ctx context.Context, u *User) context.Context {
	return context.WithValue(ctx, userKey{}, u)
}

func (a *App) cookieName() string {
	if a.secure {
		return "__Host-hys_session" // only ever set by this host, over https
	}
	return "hys_session"
}

func (a *App) setSessionCookie(w http.ResponseWriter, token string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: a.cookieName(), Value: token, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: a.secure, SameSite: http.SameSiteLaxMode,
	})
}

func (a *App) sessionToken(r *http.Request) string {
	if c, err := r.Cookie(a.cookieName()); err == nil {
		return c.Value
	}
	return ""
}

// signedIn finds the session and its user, or sends the browser to the
// sign-in page (coming back here afterwards). A disabled account's
// sessions end at its next request.
func (a *App) signedIn(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, err := a.sessionUser(r)
		if err != nil {
			a.serverError(w, r, fmt.Errorf("reading the session: %w", err))
			return
		}
		if u == nil {
			a.setSessionCookie(w, "", -1)
			next := r.URL.RequestURI()
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				next = r.Referer()
				if ref, err := url.Parse(next); err == nil {
					next = ref.RequestURI()
				}
			}
			http.Redirect(w, r, "/login?next="+url.QueryEscape(localPath(next)), http.StatusSeeOther)
			return
		}
		if err := a.db.SeeStaff(r.Context(), u.ID, a.now()); err != nil {
			a.log.Warn("noting a staff visit", "err", err)
		}
		h.ServeHTTP(w, r.WithContext(withUser(r.Context(), u)))
	})
}

// sessionUser returns the user of the request's session, or nil when
// there is none (or it has ended, or the account is disabled).
func (a *App) sessionUser(r *http.Request) (*User, error) {
	ctx := r.Context()
	token := a.sessionToken(r)
	s, found, err := a.redis.StaffSessionFor(ctx, token, a.cfg.SessionIdle)
	if err != nil || !found {
		return nil, err
	}
	su, err := a.db.StaffUserByID(ctx, s.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, a.redis.EndStaffSession(ctx, token)
	}
	if err != nil {
		return nil, err
	}
	if su.Disabled() {
		return nil, a.redis.EndStaffSessions(ctx, su.ID)
	}
	u := &User{ID: su.ID, Email: su.Email, Name: su.Name, Role: Role(su.Role)}
	if su.PreviousSeen != nil {
		u.LastVisit = *su.PreviousSeen
	}
	return u, nil
}

// require lets through only a signed-in person whose role allow accepts
// (a Role method such as Role.CanEdit); anyone else gets the 403 page.
func (a *App) require(allow func(Role) bool) func(http.Handler) http.Handler {
	return func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u := userFrom(r.Context())
			if u == nil || !allow(u.Role) {
				a.fail(w, r, http.StatusForbidden, "Your account cannot use this page. Ask an admin if you need to.")
				return
			}
			h.ServeHTTP(w, r)
		})
	}
}

// audit writes a line to the audit log as the signed-in person. A failure
// is logged, not shown: the page itself has already been allowed.
func (a *App) audit(r *http.Request, action, subject string, detail map[string]any) {
	actor := "anonymous"
	if u := userFrom(r.Context()); u != nil {
		actor = u.Email
	}
	a.auditAs(r.Context(), actor, action, subject, detail)
}

func (a *App) auditAs(ctx context.Context, actor, action, subject string, detail map[string]any) {
	if err := a.db.Audit(context.WithoutCancel(ctx), actor, action, subject, detail); err != nil {
		a.log.Error("writing the audit log", "action", action, "err", err)
	}
}
