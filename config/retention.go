package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Default retention times (docs/privacy.md explains them).
const (
	DefaultRetainAnswers    = 730 * 24 * time.Hour     // 2 years
	DefaultRetainRecordings = 183 * 24 * time.Hour     // 6 months
	DefaultRetainWorries    = 7 * 365 * 24 * time.Hour // 7 years
)

// retention reads HYS_RETAIN_ANSWERS, HYS_RETAIN_RECORDINGS and
// HYS_RETAIN_WORRIES.
func retention(p *Problems, getenv func(string) string, c *Config) {
	for _, s := range []struct {
		name, what string
		dst        *time.Duration
	}{
		{"HYS_RETAIN_ANSWERS", "how long answers are kept", &c.RetainAnswers},
		{"HYS_RETAIN_RECORDINGS", "how long recordings are kept", &c.RetainRecordings},
		{"HYS_RETAIN_WORRIES", "how long a conversation with a worry is kept", &c.RetainWorries},
	} {
		v := getenv(s.name)
		if v == "" {
			continue
		}
		d, err := ParseAge(v)
		if err != nil {
			*p = append(*p, fmt.Sprintf("%s does not look right: %q should be %s, like 2y, 6mo or 90d.", s.name, v, s.what))
			continue
		}
		*s.dst = d
	}
}

// ParseAge reads a length of time for keeping data: a whole number of
// days (d), weeks (w), months (mo, 30.5 days, rounded up) or years (y, 365
// days), like 2y, 6mo, 90d. A month is counted generously so that "6mo"
// never deletes anything a day early.
func ParseAge(s string) (time.Duration, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	units := []struct {
		suffix string
		days   float64
	}{{"mo", 30.5}, {"d", 1}, {"w", 7}, {"y", 365}}
	for _, u := range units {
		num, ok := strings.CutSuffix(s, u.suffix)
		if !ok {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(num))
		if err != nil || n <= 0 || n > 100*365 {
			break
		}
		days := int(float64(n)*u.days + 0.999)
		return time.Duration(days) * 24 * time.Hour, nil
	}
	return 0, fmt.Errorf("%q is not a length of time like 2y, 6mo, 8w or 90d", s)
}
