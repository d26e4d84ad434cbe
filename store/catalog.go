package store

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/haveyoursay/haveyoursay/survey"
)

// Catalog keeps the surveys in memory, parsed, so a webhook finds a survey
// by keyword or number without a database round trip. Older versions are
// loaded on demand: a conversation finishes on the version it started on.
type Catalog struct {
	db *DB

	mu        sync.RWMutex
	current   map[string]int                    // survey id -> current version
	versions  map[string]map[int]*survey.Survey // id -> version -> survey
	byKeyword map[string]string                 // upper-case keyword -> survey id
	byNumber  map[string][]string               // E.164 number -> survey ids, sorted
}

// NewCatalog makes an empty catalog; call Reload to fill it.
func NewCatalog(db *DB) *Catalog {
	return &Catalog{db: db, current: map[string]int{}, versions: map[string]map[int]*survey.Survey{},
		byKeyword: map[string]string{}, byNumber: map[string][]string{}}
}

// Reload reads the current version of every survey.
func (c *Catalog) Reload(ctx context.Context) error {
	rows, err := c.db.CurrentSurveys(ctx)
	if err != nil {
		return err
	}
	current := map[string]int{}
	byKeyword := map[string]string{}
	byNumber := map[string][]string{}
	parsed := map[string]*survey.Survey{}
	for _, r := range rows {
		s, err := survey.Parse(r.FileName, []byte(r.Source))
		if err != nil {
			return fmt.Errorf("survey %q version %d no longer loads: %w", r.SurveyID, r.Version, err)
		}
		parsed[r.SurveyID] = s
		current[r.SurveyID] = r.Version
		// rows come sorted by survey id: where two surveys claim one
		// keyword (import refuses that, but older data may have it) the
		// first keeps it, the same on every instance and every reload.
		for _, k := range s.Keywords {
			if _, taken := byKeyword[strings.ToUpper(k)]; !taken {
				byKeyword[strings.ToUpper(k)] = r.SurveyID
			}
		}
		for _, n := range s.Numbers {
			if !slices.Contains(byNumber[n], r.SurveyID) {
				byNumber[n] = append(byNumber[n], r.SurveyID)
			}
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.current, c.byKeyword, c.byNumber = current, byKeyword, byNumber
	for id, s := range parsed {
		if c.versions[id] == nil {
			c.versions[id] = map[int]*survey.Survey{}
		}
		c.versions[id][current[id]] = s
	}
	return nil
}

// Current returns the current version of a survey.
func (c *Catalog) Current(id string) (*survey.Survey, int, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	v, ok := c.current[id]
	if !ok {
		return nil, 0, false
	}
	return c.versions[id][v], v, true
}

// ByKeyword finds the survey an SMS keyword starts (any case).
func (c *Catalog) ByKeyword(word string) (*survey.Survey, int, bool) {
	c.mu.RLock()
	id, ok := c.byKeyword[strings.ToUpper(strings.TrimSpace(word))]
	c.mu.RUnlock()
	if !ok {
		return nil, 0, false
	}
	return c.Current(id)
}

// ByNumber finds the survey that calls or texts to number start, when
// exactly one survey has that number (see OnNumber for several).
func (c *Catalog) ByNumber(number string) (*survey.Survey, int, bool) {
	c.mu.RLock()
	ids := c.byNumber[number]
	c.mu.RUnlock()
	if len(ids) != 1 {
		return nil, 0, false
	}
	return c.Current(ids[0])
}

// OnNumber lists the ids of the surveys that have number in their
// start.numbers, sorted: a caller to a number several surveys share
// chooses one on the keypad.
func (c *Catalog) OnNumber(number string) []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return slices.Clone(c.byNumber[number])
}

// Keywords lists every survey keyword with its survey, for "what can I
// text?" replies.
func (c *Catalog) Keywords() []KeywordEntry {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []KeywordEntry
	for id, v := range c.current {
		s := c.versions[id][v]
		if len(s.Keywords) > 0 {
			out = append(out, KeywordEntry{Keyword: strings.ToUpper(s.Keywords[0]), Title: s.Title, SurveyID: id})
		}
	}
	sortKeywords(out)
	return out
}

// KeywordEntry is a survey's first keyword and title.
type KeywordEntry struct {
	Keyword, Title, SurveyID string
}

func sortKeywords(k []KeywordEntry) {
	sort.Slice(k, func(i, j int) bool { return k[i].Keyword < k[j].Keyword })
}

// Version returns a given version of a survey, loading it if needed.
func (c *Catalog) Version(ctx context.Context, id string, version int) (*survey.Survey, error) {
	c.mu.RLock()
	s := c.versions[id][version]
	c.mu.RUnlock()
	if s != nil {
		return s, nil
	}
	row, err := c.db.Survey(ctx, id, version)
	if err != nil {
		return nil, err
	}
	s, err = survey.Parse(row.FileName, []byte(row.Source))
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.versions[id] == nil {
		c.versions[id] = map[int]*survey.Survey{}
	}
	c.versions[id][version] = s
	c.mu.Unlock()
	return s, nil
}
