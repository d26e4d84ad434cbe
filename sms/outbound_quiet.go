package sms

import "github.com/haveyoursay/haveyoursay/hours"

// QuietHours is when we never start a text (HYS_QUIET_HOURS; by default
// 21:00 to 08:00 in the organisation's time zone). One parser, in package
// hours, reads them.
type QuietHours = hours.Quiet
