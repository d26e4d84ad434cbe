package main

import (
	"fmt"
	"time"

	"github.com/haveyoursay/haveyoursay/config"
	"github.com/haveyoursay/haveyoursay/ivr"
	"github.com/haveyoursay/haveyoursay/sms"
)

// schedules are the settings read with the organisation's time zone. They
// are read before anything is started, so a mistake in one is reported at
// once, in a sentence naming the setting, like every other setting.
type schedules struct {
	loc    *time.Location
	quiet  sms.QuietHours
	office ivr.OfficeHours // zero: nobody is put through by phone
}

func readSchedules(cfg config.Config) (schedules, error) {
	var s schedules
	var p config.Problems
	var err error
	if s.loc, err = time.LoadLocation(cfg.TimeZone); err != nil {
		p = append(p, "HYS_TIME_ZONE does not look right: it should be a time zone name like Europe/London.")
		s.loc = time.UTC
	}
	if s.quiet, err = sms.ParseQuietHours(cfg.QuietHours, s.loc); err != nil {
		p = append(p, fmt.Sprintf("HYS_QUIET_HOURS does not look right: %q should be a time range like 21:00-08:00, or off.", cfg.QuietHours))
	}
	if cfg.OfficeHours != "" {
		if s.office, err = ivr.ParseOfficeHours(cfg.OfficeHours, s.loc); err != nil {
			p = append(p, fmt.Sprintf("HYS_OFFICE_HOURS does not look right: %q should be days and opening hours like Mon-Fri 09:00-17:00.", cfg.OfficeHours))
		}
	}
	if len(p) > 0 {
		return s, p
	}
	return s, nil
}
