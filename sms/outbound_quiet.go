package sms

import (
	"fmt"
	"strings"
	"time"
)

// QuietHours is when we never start a text (by default 21:00 to 08:00 in
// the organisation's time zone). Start and End are times of day as
// durations since midnight; a window that crosses midnight has Start after
// End. Start equal to End means no quiet hours.
type QuietHours struct {
	Start, End time.Duration
	Loc        *time.Location
}

// DefaultQuietHours is 21:00 to 08:00 in loc.
func DefaultQuietHours(loc *time.Location) QuietHours {
	return QuietHours{Start: 21 * time.Hour, End: 8 * time.Hour, Loc: loc}
}

// ParseQuietHours reads "21:00-08:00" (or "off") in the time zone loc.
func ParseQuietHours(s string, loc *time.Location) (QuietHours, error) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "off") || strings.EqualFold(s, "none") {
		return QuietHours{Loc: loc}, nil
	}
	from, to, ok := strings.Cut(s, "-")
	if !ok {
		return QuietHours{}, fmt.Errorf("quiet hours %q should look like 21:00-08:00, or off", s)
	}
	start, err1 := time.Parse("15:04", strings.TrimSpace(from))
	end, err2 := time.Parse("15:04", strings.TrimSpace(to))
	if err1 != nil || err2 != nil {
		return QuietHours{}, fmt.Errorf("quiet hours %q should look like 21:00-08:00, or off", s)
	}
	day := func(t time.Time) time.Duration {
		return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute
	}
	return QuietHours{Start: day(start), End: day(end), Loc: loc}, nil
}

// String shows the window as "21:00-08:00 Europe/London".
func (q QuietHours) String() string {
	if q.Start == q.End {
		return "off"
	}
	hm := func(d time.Duration) string { return fmt.Sprintf("%02d:%02d", int(d.Hours()), int(d.Minutes())%60) }
	return hm(q.Start) + "-" + hm(q.End) + " " + q.loc().String()
}

func (q QuietHours) loc() *time.Location {
	if q.Loc == nil {
		return time.UTC
	}
	return q.Loc
}

// at returns the instant of time of day d on t's local date.
func (q QuietHours) at(t time.Time, d time.Duration) time.Time {
	y, m, dd := t.Date()
	// time.Date normalises a wall time skipped by a clock change forward.
	return time.Date(y, m, dd, int(d.Hours()), int(d.Minutes())%60, 0, 0, q.loc())
}

// Until reports whether t is in quiet hours and, if so, when they end.
func (q QuietHours) Until(t time.Time) (time.Time, bool) {
	if q.Start == q.End {
		return time.Time{}, false
	}
	lt := t.In(q.loc())
	tod := time.Duration(lt.Hour())*time.Hour + time.Duration(lt.Minute())*time.Minute +
		time.Duration(lt.Second())*time.Second + time.Duration(lt.Nanosecond())
	if q.Start < q.End { // e.g. 01:00-06:00, within one day
		if tod >= q.Start && tod < q.End {
			return q.at(lt, q.End), true
		}
		return time.Time{}, false
	}
	switch {
	case tod >= q.Start: // evening: quiet until tomorrow morning
		return q.at(lt.AddDate(0, 0, 1), q.End), true
	case tod < q.End: // small hours: quiet until this morning
		return q.at(lt, q.End), true
	}
	return time.Time{}, false
}
