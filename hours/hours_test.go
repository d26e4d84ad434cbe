package hours_test

import (
	"errors"
	"testing"
	"time"

	"github.com/haveyoursay/haveyoursay/hours"
)

var london, _ = time.LoadLocation("Europe/London")

func TestQuiet(t *testing.T) {
	q := hours.DefaultQuiet(london)
	day := func(m time.Month, d, h, min int) time.Time { return time.Date(2026, m, d, h, min, 0, 0, london) }
	for _, tc := range []struct {
		at    time.Time
		quiet bool
		until time.Time
	}{
		{day(3, 10, 11, 0), false, time.Time{}},
		{day(3, 10, 20, 59), false, time.Time{}},
		{day(3, 10, 21, 0), true, day(3, 11, 8, 0)},
		{day(3, 11, 7, 59), true, day(3, 11, 8, 0)},
		{day(3, 11, 8, 0), false, time.Time{}},
		// The clocks go forward at 01:00 on 29 March 2026: 08:00 is still 08:00.
		{day(3, 28, 22, 0), true, day(3, 29, 8, 0)},
		{day(12, 31, 22, 0), true, time.Date(2027, 1, 1, 8, 0, 0, 0, london)},
	} {
		until, quiet := q.Until(tc.at)
		if quiet != tc.quiet || !until.Equal(tc.until) {
			t.Errorf("Until(%v) = %v, %v; want %v, %v", tc.at, until, quiet, tc.until, tc.quiet)
		}
	}
	short, err := hours.ParseQuiet(" 1:00 - 06:30 ", london)
	if err != nil {
		t.Fatal(err)
	}
	if until, quiet := short.Until(day(3, 10, 2, 0)); !quiet || !until.Equal(day(3, 10, 6, 30)) {
		t.Errorf("01:00-06:30 at 02:00: %v %v", until, quiet)
	}
	if _, quiet := short.Until(day(3, 10, 22, 0)); quiet {
		t.Error("01:00-06:30 at 22:00 is not quiet")
	}
	for _, s := range []string{"off", "Off", "none"} {
		off, err := hours.ParseQuiet(s, london)
		if err != nil || !off.Off() || off.String() != "off" {
			t.Errorf("ParseQuiet(%q) = %v, %v; want off", s, off, err)
		}
		if _, quiet := off.Until(day(3, 10, 23, 0)); quiet {
			t.Errorf("%q: 23:00 was quiet", s)
		}
	}
	for _, bad := range []string{"", "21-08", "9pm-8am", "25:00-08:00", "21:00-08:60"} {
		if _, err := hours.ParseQuiet(bad, london); err == nil {
			t.Errorf("ParseQuiet(%q) accepted", bad)
		}
	}
	if _, err := hours.ParseQuiet("08:00-8:00", london); !errors.Is(err, hours.ErrSameStartAndEnd) {
		t.Errorf("the same start and end: %v", err)
	}
	if got := q.String(); got != "21:00-08:00 Europe/London" {
		t.Errorf("String() = %q", got)
	}
}

func TestOffice(t *testing.T) {
	o, err := hours.ParseOffice("Mon-Fri 09:00-17:00", london)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		at   time.Time
		want bool
	}{
		{time.Date(2026, 3, 2, 9, 0, 0, 0, london), true},    // Monday
		{time.Date(2026, 3, 2, 8, 59, 0, 0, london), false},  // too early
		{time.Date(2026, 3, 6, 16, 59, 0, 0, london), true},  // Friday
		{time.Date(2026, 3, 6, 17, 0, 0, 0, london), false},  // closed
		{time.Date(2026, 3, 7, 12, 0, 0, 0, london), false},  // Saturday
		{time.Date(2026, 7, 1, 8, 30, 0, 0, time.UTC), true}, // 09:30 summer time
	} {
		if got := o.Contains(tc.at); got != tc.want {
			t.Errorf("%v: %v, want %v", tc.at, got, tc.want)
		}
	}
	w, err := hours.ParseOffice("Sat,Sun 10:00-12:30", nil)
	if err != nil || !w.Contains(time.Date(2026, 3, 8, 12, 29, 0, 0, time.UTC)) || w.Contains(time.Date(2026, 3, 9, 11, 0, 0, 0, time.UTC)) {
		t.Errorf("weekend hours: %+v %v", w, err)
	}
	for _, bad := range []string{"Mon-Fri", "Funday 09:00-17:00", "Mon 17:00-09:00", "Mon 9-5", "whenever"} {
		if _, err := hours.ParseOffice(bad, nil); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	never, err := hours.ParseOffice("", london)
	if err != nil || never.Contains(time.Date(2026, 3, 2, 12, 0, 0, 0, london)) {
		t.Errorf("no office hours: %v %v", never, err)
	}
}
