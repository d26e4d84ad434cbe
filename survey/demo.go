package survey

import _ "embed"

// DemoYAML is the demo survey shipped with Have Your Say: easy-read
// questions about a day service, started by texting DAYS.
//
//go:embed demo/day-service.yaml
var DemoYAML []byte

// Demo returns a freshly parsed copy of the demo survey.
func Demo() *Survey {
	return MustParse("day-service.yaml", DemoYAML)
}

// EasyReadYAML is a second demo survey, "Your activities", in easy read in
// English and Welsh: `survey lint` gives it no warnings.
//
//go:embed demo/easy-read.yaml
var EasyReadYAML []byte

// EasyRead returns a freshly parsed copy of the easy-read demo survey.
func EasyRead() *Survey {
	return MustParse("easy-read.yaml", EasyReadYAML)
}
