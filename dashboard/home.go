package dashboard

import (
	"fmt"
	"net/http"
	"time"

	"github.com/haveyoursay/haveyoursay/store"
)

// homePage is what the home page shows.
type homePage struct {
	Since     time.Time // the person's last visit (zero: never; then the last week)
	FirstTime bool
	store.Attention
	// OpenWorries counts worries nobody has closed, for those who see them.
	OpenWorries int
}

// showHome answers GET /: what needs attention since my last visit.
func (a *App) showHome(w http.ResponseWriter, r *http.Request) {
	u := userFrom(r.Context())
	p := homePage{Since: u.LastVisit}
	if p.Since.IsZero() {
		p.FirstTime = true
		p.Since = a.now().Add(-7 * 24 * time.Hour)
	}
	var err error
	if p.Attention, err = a.db.Attention(r.Context(), p.Since); err != nil {
		a.serverError(w, r, fmt.Errorf("counting what needs attention: %w", err))
		return
	}
	if u.Role.SeesWorries() {
		if p.OpenWorries, err = a.db.OpenWorries(r.Context()); err != nil {
			a.serverError(w, r, fmt.Errorf("counting open worries: %w", err))
			return
		}
	}
	a.render(w, r, "home", "What needs attention", p)
}
