package store

import (
	"context"
	"log/slog"
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
	log       *slog.Logger
	broken    []BrokenSurvey                    // current versions that do not load, by id
	current   map[string]int                    // survey id -> current version
	versions  map[string]map[int]*survey.Survey // id -> version -> survey
	byKeyword map[string]string                 // upper-case keyword -> survey id
	byNumber  map[string][]string               // E.164 number -> survey ids, sorted
}

// BrokenSurvey is a survey whose current stored version no longer loads
// (say, a newer Have Your Say reads survey files more strictly): nobody can
// start it until it is fixed and imported again. The other surveys work.
type BrokenSurvey struct {
	ID      string
	Version int
	Reason  string // the loader's own words, naming the line to fix
}

// NewCatalog makes an empty catalog; call Reload to fill it. It logs
// surveys that do not load with slog's default logger (see SetLog).
func NewCatalog(db *DB) *Catalog {
	return &Catalog{db: db, current: map[string]int{}, versions: map[string]map[int]*survey.Survey{},
		byKeyword: map[string]string{}, byNumber: map[string][]string{}}
}

// SetLog says where to log surveys that do not load; nil is slog's default.
func (c *Catalog) SetLog(log *slog.Logger) {
	c.mu.Lock()
	c.log = log
	c.mu.Unlock()
}

// Reload reads the current version of every survey. A version that no
// longer loads is skipped, logged once and listed by Broken; the survey's
// keywords and numbers then start nothing, and every other survey works.
func (c *Catalog) Reload(ctx context.Context) error {
	rows, err := c.db.CurrentSurveys(ctx)
	if err != nil {
		return err
	}
	current := map[string]int{}
	byKeyword := map[string]string{}
	byNumber := map[string][]string{}
	parsed := map[string]*survey.Survey{}
	var broken []BrokenSurvey
	for _, r := range rows {
		s, err := survey.Parse(r.FileName, []byte(r.Source))
		if err != nil {
			broken = append(broken, BrokenSurvey{ID: r.SurveyID, Version: r.Version, Reason: err.Error()})
			continue
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
	log := c.log
	if log == nil {
		log = slog.Default()
	}
	for _, b := range broken {
		// Once per version, not at every reload.
		if !slices.Contains(c.broken, b) {
			log.Error("a stored survey no longer loads, so nobody can start it; the other surveys work. Fix its file and import it again",
				"survey", b.ID, "version", b.Version, "reason", b.Reason)
		}
	}
	c.broken = broken
	c.current, c.byKeyword, c.byNumber = current, byKeyword, byNumber
	for id, s := range parsed {
		if c.versions[id] == nil {
			c.versions[id] = map[int]*survey.Survey{}
		}
		c.versions[id][current[id]] = s
	}
	return nil
}

// Broken lists the surveys whose current version did not load at the last
// Reload, by id.
func (c *Catalog) Broken() []BrokenSurvey {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return slices.Clone(c.broken)
}

// BrokenIDs lists the ids of the surveys Broken lists.
func (c *Catalog) BrokenIDs() []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	ids := make([]string, 0, len(c.broken))
	for _, b := range c.broken {
		ids = append(ids, b.ID)
	}
	return ids
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
