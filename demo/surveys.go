package demo

import (
	_ "embed"

	"github.com/haveyoursay/haveyoursay/survey"
)

// HomeYAML is a second demo survey, "Your home", in English and Welsh:
// calls and texts to HomeNumber start it. With the day-service survey
// (survey.DemoYAML) it must be imported before Load.
//
//go:embed surveys/your-home.yaml
var HomeYAML []byte

// Home returns a freshly parsed copy of the "Your home" survey.
func Home() *survey.Survey {
	return survey.MustParse("your-home.yaml", HomeYAML)
}

// ThemesYAML is the demo themes file: charter statements in easy words,
// the ids the demo surveys' questions name.
//
//go:embed themes.yaml
var ThemesYAML []byte
