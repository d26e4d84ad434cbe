// Package export writes what members said in the formats other tools read:
// CSV for spreadsheets, JSON for programs, and Flow Results (the open
// FLOIP standard) for other survey platforms. Each writer streams from an
// iterator of conversations, so memory stays flat however many there are.
//
// Phone numbers never appear unless an admin asks (Options.Numbers): a
// member is a keyed pseudonym (Members), stable across exports and
// meaningless without HYS_SECRET_KEY.
package export

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"iter"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/hkdf"

	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/survey"
)

// Formats are the export formats, as --format and the dashboard name them.
var Formats = []string{"csv", "json", "floip"}

// Conversations is what every writer reads: conversations in the order to
// write them, or an error that stops the export.
type Conversations = iter.Seq2[store.ExportConversation, error]

// Options is what every writer needs besides the conversations.
type Options struct {
	Survey store.ExportSurvey
	// Def is the survey's current version, parsed; Older are earlier
	// versions (oldest first) whose questions answers may still name.
	Def   *survey.Survey
	Older []*survey.Survey
	// Members turns a participant into a pseudonymous member id.
	Members *Members
	// Numbers, when set, opens sealed phone numbers: the export then has
	// a phone column. Only for admins, and audit-logged by the caller.
	Numbers func(sealed []byte) (string, error)
	// PublicURL is the dashboard's address, for links to recordings
	// (staff sign in to play them). "" gives paths without a host.
	PublicURL string
	// Now is when the export was made (default time.Now).
	Now time.Time
	// Progress, if set, is told how many conversations are written so far.
	Progress func(conversations int)

	byID map[string]*survey.Question
}

// Stats is how much an export wrote.
type Stats struct {
	Conversations int
	Answers       int
}

// Rows is what the audit log records: answers for Flow Results, else
// conversations (one CSV row or JSON object each).
func (s Stats) Rows(format string) int {
	if format == "floip" {
		return s.Answers
	}
	return s.Conversations
}

func (o *Options) now() time.Time {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	return o.Now
}

// questions returns every question answers may name: the current
// version's in order, then any that only older versions had.
func (o *Options) questions() []*survey.Question {
	var out []*survey.Question
	seen := map[string]bool{}
	add := func(s *survey.Survey) {
		if s == nil {
			return
		}
		for i := range s.Questions {
			q := &s.Questions[i]
			if !seen[q.ID] {
				seen[q.ID] = true
				out = append(out, q)
			}
		}
	}
	add(o.Def)
	for i := len(o.Older) - 1; i >= 0; i-- {
		add(o.Older[i])
	}
	return out
}

// question returns the question with this id, or nil.
func (o *Options) question(id string) *survey.Question {
	if o.byID == nil {
		o.byID = map[string]*survey.Question{}
		for _, q := range o.questions() {
			o.byID[q.ID] = q
		}
	}
	return o.byID[id]
}

// recordingURL is where staff play a recording in the dashboard.
func (o *Options) recordingURL(conversationID, sid string) string {
	return strings.TrimRight(o.PublicURL, "/") + "/conversations/" + conversationID + "/recordings/" + sid
}

func (o *Options) phone(c store.ExportConversation) (string, error) {
	if o.Numbers == nil {
		return "", nil
	}
	if len(c.PhoneEnc) == 0 {
		return "", errors.New("the export asked for numbers, but they were not read")
	}
	return o.Numbers(c.PhoneEnc)
}

// Members makes pseudonymous member ids: a keyed hash of the participant,
// the same in every export made with the same HYS_SECRET_KEY, and unlike
// any phone number.
type Members struct{ key []byte }

// NewMembers derives the pseudonym key from HYS_SECRET_KEY.
func NewMembers(secret string) (*Members, error) {
	if len(secret) < 32 {
		return nil, errors.New("HYS_SECRET_KEY must be at least 32 characters")
	}
	k := make([]byte, 32)
	if _, err := io.ReadFull(hkdf.New(sha256.New, []byte(secret), nil, []byte("haveyoursay member pseudonym v1")), k); err != nil {
		return nil, err
	}
	return &Members{key: k}, nil
}

var memberEncoding = base32.NewEncoding("abcdefghijkmnpqrstuvwxyz23456789").WithPadding(base32.NoPadding)

// ID is the member id of a participant: "m-" and 16 letters and digits.
func (m *Members) ID(participantID int64) string {
	h := hmac.New(sha256.New, m.key)
	h.Write([]byte(strconv.FormatInt(participantID, 10)))
	return "m-" + memberEncoding.EncodeToString(h.Sum(nil)[:10])
}

// utc formats a time as RFC 3339 in UTC with "+00:00", as Flow Results
// asks (never "Z"), to the microsecond.
func utc(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.999999-07:00")
}

// Check makes sure a format name is one of Formats.
func Check(format string) error {
	for _, f := range Formats {
		if f == format {
			return nil
		}
	}
	return fmt.Errorf("%q is not an export format: use csv, json or floip", format)
}

// Timestamp formats a time as every export and the API do: RFC 3339 in
// UTC with "+00:00".
func Timestamp(t time.Time) string { return utc(t) }
