package sms

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/haveyoursay/haveyoursay/store"
)

// StaffAlert texts the staff number when members are waiting for a call
// back, so a request for a person reaches someone. The text says how many
// are waiting and where to look, never who they are or what they said. It
// goes only in office hours, and at most once every Every: a busy day
// brings a few texts, not one per call-back. Call-backs booked outside
// office hours are counted in the first text of the next working day.
type StaffAlert struct {
	DB     *store.DB
	Texter *Texter
	// From is the number (or Messaging Service SID) the text comes from.
	From string
	// To is the staff number (HYS_STAFF_NUMBER).
	To string
	// InHours says whether staff are at work (ivr.OfficeHours.Contains).
	InHours func(time.Time) bool
	// Link is where staff see the call-backs (PUBLIC_URL + "/callbacks").
	Link string
	// Every is the least time between two texts. Default 1 hour.
	Every time.Duration
	// Check is how often to look for new call-backs. Default 1 minute.
	Check time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	Log *slog.Logger
}

func (a *StaffAlert) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// Run looks for new call-backs every Check until ctx ends.
func (a *StaffAlert) Run(ctx context.Context) {
	check := a.Check
	if check <= 0 {
		check = time.Minute
	}
	log := a.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := time.NewTicker(check)
	defer t.Stop()
	for {
		if _, err := a.Once(ctx); err != nil && ctx.Err() == nil {
			log.Warn("texting staff about call-backs failed; will try again", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Once sends the text if it is due, and says whether it sent one.
func (a *StaffAlert) Once(ctx context.Context) (bool, error) {
	if a.To == "" || a.From == "" {
		return false, errors.New("no staff number or no number to send from")
	}
	now := a.now()
	if a.InHours == nil || !a.InHours(now) {
		return false, nil
	}
	every := a.Every
	if every <= 0 {
		every = time.Hour
	}
	ids, waiting, err := a.DB.ClaimCallbacksToText(ctx, now, every)
	if err != nil || len(ids) == 0 {
		return false, err
	}
	if _, err := a.Texter.Send(a.From, a.To, a.body(len(ids), waiting)); err != nil {
		var se *SendError
		if errors.As(err, &se) && se.Outcome == Unknown {
			// Twilio may have taken it: better no second text than two.
			return false, err
		}
		if uerr := a.DB.UnclaimCallbacks(context.WithoutCancel(ctx), ids); uerr != nil {
			return false, errors.Join(err, uerr)
		}
		return false, err
	}
	return true, nil
}

// body is the text: counts and a link, nothing about the members.
func (a *StaffAlert) body(fresh, waiting int) string {
	var b strings.Builder
	b.WriteString("Have Your Say: ")
	switch {
	case waiting == 1:
		b.WriteString("1 person is waiting for a call back.")
	case fresh == waiting:
		fmt.Fprintf(&b, "%d people are waiting for a call back.", waiting)
	default:
		fmt.Fprintf(&b, "%d people are waiting for a call back (%d new).", waiting, fresh)
	}
	if a.Link != "" {
		b.WriteString(" See " + a.Link)
	}
	return b.String()
}
