package ivr

import "github.com/haveyoursay/haveyoursay/hours"

// OfficeHours are when a person can take a call (HYS_OFFICE_HOURS); the
// zero value is never. One parser, in package hours, reads them.
type OfficeHours = hours.Office
