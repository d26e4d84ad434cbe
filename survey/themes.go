package survey

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Theme is one of the charity's themes, in its own words: a statement of
// its members' charter ("To be listened to"), used to tag answers and to
// report what was said and done. Surveys' questions name themes by ID.
type Theme struct {
	ID          string // letters, digits and dashes: what surveys' "themes:" name
	Title       string // a short easy-read title
	Description string // optional: a longer explanation
	Emoji       string // optional: one emoji that stands for it
	Line        int
}

// MaxThemeTitleWords is the longest easy-read theme title.
const MaxThemeTitleWords = 8

var themeKeys = []string{"id", "title", "description", "emoji"}

// ParseThemes reads a themes file: a list of themes, or a mapping with a
// "themes:" list. Structural problems are errors; easy-read advice (a long
// title, hard words) is a warning. Themes are returned only when there are
// no errors.
func ParseThemes(filename string, data []byte) ([]Theme, Diagnostics) {
	p := &parser{file: filename}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		line, msg := 1, strings.TrimPrefix(err.Error(), "yaml: ")
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = m[2]
		}
		p.errf(line, "this line does not look right to the YAML reader: %s (check the spaces at the start of the line, colons and quotes)", msg)
		return nil, p.diags
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		p.errf(1, "the file is empty: list the themes, each with an id and a title")
		return nil, p.diags
	}
	n := deref(doc.Content[0])
	if n.Kind == yaml.MappingNode {
		var list *yaml.Node
		for _, e := range p.mapping(n, "the themes file", []string{"themes"}) {
			list = e.v
		}
		if list == nil {
			p.errf(n.Line, `the file should have a "themes:" list`)
			return nil, p.diags
		}
		n = deref(list)
	}
	if n.Kind != yaml.SequenceNode {
		p.errf(n.Line, "the themes should be a list, each with an id and a title")
		return nil, p.diags
	}
	var out []Theme
	seen := map[string]int{}
	for i, c := range n.Content {
		t := Theme{Line: deref(c).Line}
		what := fmt.Sprintf("theme %d", i+1)
		for _, e := range p.mapping(c, what, themeKeys) {
			switch e.k.Value {
			case "id":
				t.ID = p.str(e.v, what+`'s "id"`)
			case "title":
				t.Title = p.str(e.v, what+`'s "title"`)
			case "description":
				t.Description = p.str(e.v, what+`'s "description"`)
			case "emoji":
				t.Emoji = p.str(e.v, what+`'s "emoji"`)
			}
		}
		switch {
		case t.ID == "":
			p.errf(t.Line, `%s has no "id": give it one, like "listened-to"`, what)
		case !idPattern.MatchString(t.ID):
			p.errf(t.Line, "theme id %q can only have letters, digits and dashes (try %q)", t.ID, slug(t.ID))
		case seen[t.ID] > 0:
			p.errf(t.Line, "theme id %q is used twice (lines %d and %d): each theme needs its own id", t.ID, seen[t.ID], t.Line)
		}
		if t.ID != "" {
			seen[t.ID] = t.Line
			what = fmt.Sprintf("theme %q", t.ID)
		}
		if t.Title == "" {
			p.errf(t.Line, `%s has no "title": write a few easy words, like "To be listened to"`, what)
		} else if n := len(strings.Fields(t.Title)); n > MaxThemeTitleWords {
			p.warnf(t.Line, "%s has a title of %d words: a short title (%d words or fewer) is easier to read", what, n, MaxThemeTitleWords)
		}
		if utf8.RuneCountInString(t.Emoji) > 4 {
			p.errf(t.Line, `%s's "emoji" should be one emoji, not %q`, what, t.Emoji)
		}
		out = append(out, t)
	}
	if len(out) == 0 {
		p.errf(n.Line, "the file lists no themes")
	}
	p.diags.sort()
	if p.diags.HasErrors() {
		return nil, p.diags
	}
	return out, p.diags
}

// lintThemes warns about questions naming a theme the charity has not
// written (known is the set of theme ids; nil means "not checked").
func lintThemes(p *parser, s *Survey, known map[string]bool, line func(string, int) int) {
	if known == nil {
		return
	}
	ids := make([]string, 0, len(known))
	for id := range known {
		ids = append(ids, id)
	}
	for _, q := range s.Questions {
		for _, t := range q.Themes {
			if known[t] {
				continue
			}
			msg := fmt.Sprintf("question %q names the theme %q, which is not in the themes file", q.ID, t)
			if try := didYouMean(t, ids); try != "" {
				msg += try
			} else {
				msg += ": add it there (haveyoursay themes import), or fix the name"
			}
			p.warnf(line("q:"+q.ID+":themes", q.Line), "%s", msg)
		}
	}
}
