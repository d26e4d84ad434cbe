package dashboard

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/haveyoursay/haveyoursay/store"
)

// loginPage is what the sign-in form shows.
type loginPage struct {
	Email   string
	Next    string
	Problem string // why the last try did not work
	Notice  string // e.g. "You have signed out."
}

// showLogin answers GET /login: the sign-in form. Someone already signed
// in goes straight on.
func (a *App) showLogin(w http.ResponseWriter, r *http.Request) {
	next := localPath(r.URL.Query().Get("next"))
	if u, err := a.sessionUser(r); err == nil && u != nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	p := loginPage{Next: next}
	if r.URL.Query().Get("out") != "" {
		p.Notice = "You have signed out."
	}
	a.render(w, r, "login", "Sign in", p)
}

// signIn answers POST /login (fields email, password).
func (a *App) signIn(w http.ResponseWriter, r *http.Request) {
	if !a.form(w, r) {
		return
	}
	ctx := r.Context()
	email := strings.TrimSpace(r.PostForm.Get("email"))
	password := r.PostForm.Get("password")
	p := loginPage{Email: email, Next: localPath(r.PostForm.Get("next"))}
	again := func(problem string) {
		p.Problem = problem
		a.renderStatus(w, r, http.StatusUnauthorized, "login", "Sign in", p)
	}
	if email == "" || password == "" {
		again("Please type your e-mail address and your password.")
		return
	}
	if len(email) > 254 {
		again("That e-mail address is too long. Please check it.")
		return
	}
	failures, wait, err := a.redis.FailedSignIns(ctx, email)
	if err != nil {
		a.serverError(w, r, fmt.Errorf("reading failed sign-ins: %w", err))
		return
	}
	if failures >= a.cfg.LockAfter {
		a.auditAs(ctx, email, "sign-in-locked", "", nil)
		again(a.lockedSentence(wait))
		return
	}
	su, err := a.db.StaffUserByEmail(ctx, email)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		a.serverError(w, r, fmt.Errorf("finding the account: %w", err))
		return
	}
	hash := su.PasswordHash
	if err != nil {
		hash = dummyHash
	}
	if !CheckPassword(hash, password) || err != nil {
		n, ferr := a.redis.FailSignIn(ctx, email, a.cfg.LockFor)
		if ferr != nil {
			a.serverError(w, r, fmt.Errorf("counting a failed sign-in: %w", ferr))
			return
		}
		a.auditAs(ctx, email, "sign-in-failed", "", map[string]any{"known_account": err == nil, "failures": n})
		if n >= a.cfg.LockAfter {
			again(a.lockedSentence(a.cfg.LockFor))
			return
		}
		again("That e-mail address and password do not match an account. Please check them and try again.")
		return
	}
	if su.Disabled() {
		a.auditAs(ctx, su.Email, "sign-in-refused", fmt.Sprintf("staff:%d", su.ID), map[string]any{"reason": "disabled"})
		again("This account has been switched off, so it cannot sign in. Ask an admin if you still need it.")
		return
	}
	if err := a.redis.ClearFailedSignIns(ctx, email); err != nil {
		a.log.Warn("clearing failed sign-ins", "err", err)
	}
	if err := a.db.StartStaffVisit(ctx, su.ID, a.now()); err != nil {
		a.serverError(w, r, fmt.Errorf("noting the visit: %w", err))
		return
	}
	token, err := a.redis.NewStaffSession(ctx, store.StaffSession{UserID: su.ID, Started: a.now()}, a.cfg.SessionIdle)
	if err != nil {
		a.serverError(w, r, fmt.Errorf("starting a session: %w", err))
		return
	}
	// Any session the browser had before is ended: a new sign-in, a new token.
	if old := a.sessionToken(r); old != "" {
		a.redis.EndStaffSession(ctx, old)
	}
	a.setSessionCookie(w, token, 0)
	a.auditAs(ctx, su.Email, "sign-in", fmt.Sprintf("staff:%d", su.ID), nil)
	http.Redirect(w, r, p.Next, http.StatusSeeOther)
}

func (a *App) lockedSentence(wait time.Duration) string {
	minutes := max(1, int((wait+time.Minute-1)/time.Minute))
	return fmt.Sprintf("There have been too many wrong passwords for this account, so it is locked for %s. "+
		"Please try again after that, or ask an admin to set a new password.", plural(minutes, "minute"))
}

// signOut answers POST /logout: this browser's session ends.
func (a *App) signOut(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	token := a.sessionToken(r)
	if u, err := a.sessionUser(r); err == nil && u != nil {
		a.auditAs(ctx, u.Email, "sign-out", fmt.Sprintf("staff:%d", u.ID), nil)
	}
	if err := a.redis.EndStaffSession(ctx, token); err != nil {
		a.serverError(w, r, fmt.Errorf("ending a session: %w", err))
		return
	}
	a.setSessionCookie(w, "", -1)
	http.Redirect(w, r, "/login?out=1", http.StatusSeeOther)
}
