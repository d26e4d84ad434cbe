package dashboard

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gorilla/mux"

	"github.com/haveyoursay/haveyoursay/store"
)

// usersPage is what the users page shows.
type usersPage struct {
	Users   []store.StaffUser
	Roles   []Role
	Notice  string
	Problem string
	Form    NewUser // what was typed into "Add someone", kept after a problem
}

// done says what the last change did (the address carries a word, never a
// name or an e-mail address).
var usersDone = map[string]string{
	"added":    "The account was added. Tell them their password in person or by phone, not by e-mail.",
	"role":     "Their role was changed. It applies from their next click.",
	"disabled": "The account was switched off and signed out everywhere.",
	"enabled":  "The account can sign in again.",
}

// showUsers answers GET /users: everyone who signs in.
func (a *App) showUsers(w http.ResponseWriter, r *http.Request) {
	a.usersPage(w, r, http.StatusOK, usersPage{Notice: usersDone[r.URL.Query().Get("done")], Form: NewUser{Role: Staff}})
}

func (a *App) usersPage(w http.ResponseWriter, r *http.Request, status int, p usersPage) {
	var err error
	if p.Users, err = a.db.StaffUsers(r.Context()); err != nil {
		a.serverError(w, r, fmt.Errorf("listing users: %w", err))
		return
	}
	p.Roles = Roles
	a.renderStatus(w, r, status, "users", "Users", p)
}

// addUser answers POST /users (email, name, role, password).
func (a *App) addUser(w http.ResponseWriter, r *http.Request) {
	if !a.form(w, r) {
		return
	}
	nu := NewUser{Email: r.PostForm.Get("email"), Name: r.PostForm.Get("name"), Password: r.PostForm.Get("password")}
	role, err := ParseRole(r.PostForm.Get("role"))
	if err == nil {
		nu.Role = role
		var su store.StaffUser
		su, err = AddUser(r.Context(), a.db, nu)
		if err == nil {
			a.audit(r, "user-added", fmt.Sprintf("staff:%d", su.ID), map[string]any{"role": su.Role})
			http.Redirect(w, r, "/users?done=added", http.StatusSeeOther)
			return
		}
	}
	nu.Password = ""
	a.usersPage(w, r, http.StatusBadRequest, usersPage{Problem: err.Error(), Form: nu})
}

// target reads the {id} of a users route; the signed-in admin may not
// change their own account here, so there is always an admin.
func (a *App) target(w http.ResponseWriter, r *http.Request) (store.StaffUser, bool) {
	if !a.form(w, r) {
		return store.StaffUser{}, false
	}
	id, _ := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
	su, err := a.db.StaffUserByID(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		a.notFound(w, r, "account")
		return su, false
	}
	if err != nil {
		a.serverError(w, r, err)
		return su, false
	}
	if su.ID == userFrom(r.Context()).ID {
		a.usersPage(w, r, http.StatusBadRequest, usersPage{Form: NewUser{Role: Staff},
			Problem: "You cannot change your own account here, so there is always an admin. Ask another admin, or use haveyoursay user on the server."})
		return su, false
	}
	return su, true
}

// setRole answers POST /users/{id}/role (role).
func (a *App) setRole(w http.ResponseWriter, r *http.Request) {
	su, ok := a.target(w, r)
	if !ok {
		return
	}
	role, err := ParseRole(r.PostForm.Get("role"))
	if err != nil {
		a.usersPage(w, r, http.StatusBadRequest, usersPage{Problem: err.Error(), Form: NewUser{Role: Staff}})
		return
	}
	if err := a.db.SetStaffRole(r.Context(), su.ID, string(role)); err != nil {
		a.serverError(w, r, err)
		return
	}
	a.audit(r, "user-role-changed", fmt.Sprintf("staff:%d", su.ID), map[string]any{"from": su.Role, "to": string(role)})
	http.Redirect(w, r, "/users?done=role", http.StatusSeeOther)
}

// disable answers POST /users/{id}/disable: they cannot sign in, and
// their sessions end.
func (a *App) disable(w http.ResponseWriter, r *http.Request) {
	su, ok := a.target(w, r)
	if !ok {
		return
	}
	if _, err := DisableUser(r.Context(), a.db, a.redis, su.Email); err != nil {
		a.serverError(w, r, err)
		return
	}
	a.audit(r, "user-disabled", fmt.Sprintf("staff:%d", su.ID), nil)
	http.Redirect(w, r, "/users?done=disabled", http.StatusSeeOther)
}

// enable answers POST /users/{id}/enable.
func (a *App) enable(w http.ResponseWriter, r *http.Request) {
	su, ok := a.target(w, r)
	if !ok {
		return
	}
	if err := a.db.EnableStaffUser(r.Context(), su.ID); err != nil {
		a.serverError(w, r, err)
		return
	}
	a.audit(r, "user-enabled", fmt.Sprintf("staff:%d", su.ID), nil)
	http.Redirect(w, r, "/users?done=enabled", http.StatusSeeOther)
}
