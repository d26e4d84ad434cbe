package survey

import (
	"fmt"
	"sort"
	"strings"
)

// Severity is how serious a Diagnostic is.
type Severity int

// Severities. An Error stops a survey from loading; a Warning is advice.
const (
	Error Severity = iota
	Warning
)

func (s Severity) String() string {
	if s == Warning {
		return "warning"
	}
	return "error"
}

// Diagnostic is one problem found in a survey file, written for the person
// who wrote the survey.
type Diagnostic struct {
	File     string
	Line     int
	Severity Severity
	Message  string
}

// String formats the diagnostic as "file:line: error: message".
func (d Diagnostic) String() string {
	return fmt.Sprintf("%s:%d: %s: %s", d.File, d.Line, d.Severity, d.Message)
}

// Diagnostics is a list of problems. It implements error.
type Diagnostics []Diagnostic

// Error joins the diagnostics one a line.
func (ds Diagnostics) Error() string {
	lines := make([]string, len(ds))
	for i, d := range ds {
		lines[i] = d.String()
	}
	return strings.Join(lines, "\n")
}

// HasErrors reports whether any diagnostic is an Error.
func (ds Diagnostics) HasErrors() bool {
	for _, d := range ds {
		if d.Severity == Error {
			return true
		}
	}
	return false
}

// Errors returns only the errors.
func (ds Diagnostics) Errors() Diagnostics { return ds.filter(Error) }

// Warnings returns only the warnings.
func (ds Diagnostics) Warnings() Diagnostics { return ds.filter(Warning) }

func (ds Diagnostics) filter(sev Severity) Diagnostics {
	var out Diagnostics
	for _, d := range ds {
		if d.Severity == sev {
			out = append(out, d)
		}
	}
	return out
}

func (ds Diagnostics) sort() {
	sort.SliceStable(ds, func(i, j int) bool {
		if ds[i].Line != ds[j].Line {
			return ds[i].Line < ds[j].Line
		}
		return ds[i].Severity < ds[j].Severity
	})
}

// suggest returns the candidate closest to s (a likely typo), or "".
func suggest(s string, candidates []string) string {
	norm := func(x string) string {
		x = strings.ToLower(x)
		return strings.NewReplacer("-", "", "_", "", " ", "").Replace(x)
	}
	ns := norm(s)
	best, bestD := "", 3
	for _, c := range candidates {
		if c == s {
			continue
		}
		if norm(c) == ns {
			return c
		}
		d := osa([]rune(strings.ToLower(s)), []rune(strings.ToLower(c)))
		limit := 2
		if len([]rune(s)) <= 4 {
			limit = 1
		}
		if d <= limit && d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// didYouMean formats " (did you mean "x"?)" or "".
func didYouMean(s string, candidates []string) string {
	if c := suggest(s, candidates); c != "" {
		return fmt.Sprintf(" (did you mean %q?)", c)
	}
	return ""
}

// osa is the optimal string alignment (restricted Damerau–Levenshtein)
// distance between a and b.
func osa(a, b []rune) int {
	if len(a) == 0 {
		return len(b)
	}
	if len(b) == 0 {
		return len(a)
	}
	// three rows are enough for OSA
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
