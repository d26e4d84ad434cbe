package ivr

import (
	"fmt"
	"strings"
	"time"
)

// OfficeHours are when a person can take a call. The zero value is never.
type OfficeHours struct {
	Days        [7]bool       // by time.Weekday
	Open, Close time.Duration // since local midnight
	Location    *time.Location
}

var dayNames = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday,
	"wed": time.Wednesday, "thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

// ParseOfficeHours reads hours like "Mon-Fri 09:00-17:00" or
// "Mon,Wed 10:00-16:30" in the given time zone (nil: UTC).
func ParseOfficeHours(s string, loc *time.Location) (OfficeHours, error) {
	o := OfficeHours{Location: loc}
	bad := fmt.Errorf("office hours %q do not look right: write them like Mon-Fri 09:00-17:00", s)
	days, hours, ok := strings.Cut(strings.TrimSpace(s), " ")
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
	open, close, ok := strings.Cut(strings.TrimSpace(hours), "-")
	if !ok {
		return o, bad
	}
	clock := func(v string) (time.Duration, bool) {
		t, err := time.Parse("15:04", strings.TrimSpace(v))
		if err != nil {
			return 0, false
		}
		return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, true
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
func (o OfficeHours) Contains(t time.Time) bool {
	if o.Location != nil {
		t = t.In(o.Location)
	}
	if !o.Days[t.Weekday()] {
		return false
	}
	since := time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute + time.Duration(t.Second())*time.Second
	return since >= o.Open && since < o.Close
}
