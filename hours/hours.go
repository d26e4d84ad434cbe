// Package hours reads and answers questions about the times of day that
// matter to the service: quiet hours, when no invitation or reminder is
// texted, and office hours, when a caller who presses 0 can be put through
// to a person. config parses them once; sms and ivr use the parsed values.
package hours

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Quiet is when we never start a text (by default 21:00 to 08:00 in the
// organisation's time zone). Start and End are times of day as durations
// since midnight; a window that crosses midnight has Start after End.
// Start equal to End means no quiet hours. Its fields are those of
// sms.QuietHours, so one converts to the other.
type Quiet struct {
	Start, End time.Duration
	Loc        *time.Location
}

// DefaultQuiet is 21:00 to 08:00 in loc.
func DefaultQuiet(loc *time.Location) Quiet {
	return Quiet{Start: 21 * time.Hour, End: 8 * time.Hour, Loc: loc}
}

// ErrSameStartAndEnd means quiet hours that start and end at one moment:
// most likely a typing mistake, since "off" says "no quiet hours".
var ErrSameStartAndEnd = errors.New("quiet hours start and end at the same moment")

// ParseQuiet reads "21:00-08:00" (or "off", or "none") in the time zone loc.
func ParseQuiet(s string, loc *time.Location) (Quiet, error) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "off") || strings.EqualFold(s, "none") {
		return Quiet{Loc: loc}, nil
	}
	bad := fmt.Errorf("quiet hours %q should look like 21:00-08:00, or off", s)
	from, to, ok := strings.Cut(s, "-")
	if !ok {
		return Quiet{}, bad
	}
	start, ok1 := clock(from)
	end, ok2 := clock(to)
	if !ok1 || !ok2 {
		return Quiet{}, bad
	}
	if start == end {
		return Quiet{}, ErrSameStartAndEnd
	}
	return Quiet{Start: start, End: end, Loc: loc}, nil
}

// Off reports whether there are no quiet hours.
func (q Quiet) Off() bool { return q.Start == q.End }

// String shows the window as "21:00-08:00 Europe/London", or "off".
func (q Quiet) String() string {
	if q.Off() {
		return "off"
	}
	return hm(q.Start) + "-" + hm(q.End) + " " + location(q.Loc).String()
}

// Until reports whether t is in quiet hours and, if so, when they end.
func (q Quiet) Until(t time.Time) (time.Time, bool) {
	if q.Off() {
		return time.Time{}, false
	}
	loc := location(q.Loc)
	lt := t.In(loc)
	tod := sinceMidnight(lt)
	if q.Start < q.End { // e.g. 01:00-06:00, within one day
		if tod >= q.Start && tod < q.End {
			return at(lt, q.End, loc), true
		}
		return time.Time{}, false
	}
	switch {
	case tod >= q.Start: // evening: quiet until tomorrow morning
		return at(lt.AddDate(0, 0, 1), q.End, loc), true
	case tod < q.End: // small hours: quiet until this morning
		return at(lt, q.End, loc), true
	}
	return time.Time{}, false
}

// Office are when a person can take a call. The zero value is never. Its
// fields are those of ivr.OfficeHours, so one converts to the other.
type Office struct {
	Days        [7]bool       // by time.Weekday
	Open, Close time.Duration // since local midnight
	Location    *time.Location
}

var dayNames = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday,
	"wed": time.Wednesday, "thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

// ParseOffice reads hours like "Mon-Fri 09:00-17:00" or "Mon,Wed
// 10:00-16:30" in the given time zone (nil: UTC). "" is never.
func ParseOffice(s string, loc *time.Location) (Office, error) {
	o := Office{Location: loc}
	if strings.TrimSpace(s) == "" {
		return o, nil
	}
	bad := fmt.Errorf("office hours %q do not look right: write them like Mon-Fri 09:00-17:00", s)
	days, times, ok := strings.Cut(strings.TrimSpace(s), " ")
	if !ok {
		return o, bad
	}
	for _, part := range strings.Split(days, ",") {
		from, to, isRange := strings.Cut(strings.ToLower(strings.TrimSpace(part)), "-")
		a, ok1 := dayNames[from[:min(3, len(from))]]
		b := a
		ok2 := true
		if isRange {
			b, ok2 = dayNames[to[:min(3, len(to))]]
		}
		if !ok1 || !ok2 {
			return o, bad
		}
		for d := a; ; d = (d + 1) % 7 {
			o.Days[d] = true
			if d == b {
				break
			}
		}
	}
	open, close, ok := strings.Cut(strings.TrimSpace(times), "-")
	if !ok {
		return o, bad
	}
	var ok1, ok2 bool
	o.Open, ok1 = clock(open)
	o.Close, ok2 = clock(close)
	if !ok1 || !ok2 || o.Close <= o.Open {
		return o, bad
	}
	return o, nil
}

// Contains reports whether t is within office hours.
func (o Office) Contains(t time.Time) bool {
	if o.Location != nil {
		t = t.In(o.Location)
	}
	if !o.Days[t.Weekday()] {
		return false
	}
	since := sinceMidnight(t)
	return since >= o.Open && since < o.Close
}

// clock reads "21:00" or "9:05" as the time since midnight.
func clock(v string) (time.Duration, bool) {
	t, err := time.Parse("15:04", strings.TrimSpace(v))
	if err != nil {
		return 0, false
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, true
}

func hm(d time.Duration) string {
	return fmt.Sprintf("%02d:%02d", int(d.Hours()), int(d.Minutes())%60)
}

func sinceMidnight(t time.Time) time.Duration {
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute +
		time.Duration(t.Second())*time.Second + time.Duration(t.Nanosecond())
}

// at returns the instant of time of day d on t's local date.
func at(t time.Time, d time.Duration, loc *time.Location) time.Time {
	y, m, dd := t.Date()
	// time.Date normalises a wall time skipped by a clock change forward.
	return time.Date(y, m, dd, int(d.Hours()), int(d.Minutes())%60, 0, 0, loc)
}

func location(l *time.Location) *time.Location {
	if l == nil {
		return time.UTC
	}
	return l
}
