package survey

import (
	"strings"
	"testing"
)

func TestParseThemes(t *testing.T) {
	src := `themes:
  - id: listened-to
    title: To be listened to
    emoji: "👂"
  - id: travel
    title: To get around
    description: I can get to the places I want to go.
`
	themes, diags := ParseThemes("t.yaml", []byte(src))
	if len(diags) != 0 || len(themes) != 2 {
		t.Fatalf("got %v, %v", themes, diags)
	}
	if themes[0].ID != "listened-to" || themes[0].Emoji != "👂" || themes[1].Description != "I can get to the places I want to go." {
		t.Fatalf("themes read wrongly: %+v", themes)
	}
	// A bare list works too.
	if themes, diags := ParseThemes("t.yaml", []byte("- {id: a, title: A}\n")); diags.HasErrors() || len(themes) != 1 {
		t.Fatalf("a bare list: %v %v", themes, diags)
	}
}

func TestParseThemesProblems(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"empty", "", "the file is empty"},
		{"not yaml", "themes: [\n", "does not look right"},
		{"no id", "- {title: A}\n", `has no "id"`},
		{"bad id", "- {id: two words, title: A}\n", `can only have letters, digits and dashes (try "two-words")`},
		{"twice", "- {id: a, title: A}\n- {id: a, title: B}\n", `"a" is used twice (lines 1 and 2)`},
		{"no title", "- {id: a}\n", `has no "title"`},
		{"unknown key", "- {id: a, title: A, colour: red}\n", "colour"},
		{"not a list", "themes: hello\n", "should be a list"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			themes, diags := ParseThemes("t.yaml", []byte(tc.src))
			if !diags.HasErrors() || themes != nil || !strings.Contains(diags.Error(), tc.want) {
				t.Fatalf("want an error with %q, got %v / %v", tc.want, themes, diags)
			}
		})
	}
	// A long title is advice, not an error.
	themes, diags := ParseThemes("t.yaml", []byte("- {id: a, title: To have a say in every single thing that happens at the centre}\n"))
	if diags.HasErrors() || len(themes) != 1 || len(diags.Warnings()) != 1 || !strings.Contains(diags[0].Message, "short title") {
		t.Fatalf("a long title: %v", diags)
	}
}

func TestLintWarnsOnUnknownTheme(t *testing.T) {
	known := []string{"day-service", "ideas", "staff", "choice-and-control"}
	if d := Lint("day.yaml", DemoYAML, LintOptions{Themes: known}); len(d) != 0 {
		t.Fatalf("the demo's themes are all known, got %v", d)
	}
	d := Lint("day.yaml", DemoYAML, LintOptions{Themes: []string{"day-service", "idea", "staff"}})
	var got []string
	for _, x := range d {
		got = append(got, x.String())
	}
	all := strings.Join(got, "\n")
	for _, want := range []string{
		`day.yaml:28: warning: question "better" names the theme "ideas", which is not in the themes file (did you mean "idea"?)`,
		`day.yaml:46: warning: question "days" names the theme "choice-and-control", which is not in the themes file: add it there`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("lint lacks\n%s\ngot:\n%s", want, all)
		}
	}
	// Without a themes file nothing is said about themes.
	if d := Lint("day.yaml", DemoYAML, LintOptions{}); len(d) != 0 {
		t.Fatalf("no themes file: %v", d)
	}
}
