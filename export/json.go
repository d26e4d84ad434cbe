package export

import (
	"bufio"
	"encoding/json"
	"io"

	"github.com/haveyoursay/haveyoursay/store"
)

// Document is the JSON export: the survey, when it was exported, and its
// conversations. Programs reading an export can decode into it.
type Document struct {
	Survey        SurveyInfo     `json:"survey"`
	ExportedAt    string         `json:"exported_at"`
	Conversations []Conversation `json:"conversations"`
}

// SurveyInfo names the survey an export is of.
type SurveyInfo struct {
	ID        string `json:"id"`
	Title     string `json:"title"`
	Version   int    `json:"version"`
	PackageID string `json:"flow_results_package_id"`
}

// Conversation is one conversation in the JSON export and the API.
type Conversation struct {
	ID            string   `json:"id"`
	MemberID      string   `json:"member_id"`
	Phone         string   `json:"phone,omitempty"` // only when an admin asked for numbers
	SurveyID      string   `json:"survey_id"`
	SurveyVersion int      `json:"survey_version"`
	Channel       string   `json:"channel"`
	Status        string   `json:"status"`
	Consent       string   `json:"consent"`
	Language      string   `json:"language"`
	StartedAt     string   `json:"started_at"`
	EndedAt       *string  `json:"ended_at"`
	Answers       []Answer `json:"answers"`
}

// Answer is one answer in the JSON export and the API.
type Answer struct {
	ID         int64       `json:"id"`
	QuestionID string      `json:"question_id"`
	Question   string      `json:"question"` // the question's words, in the survey's language
	Value      string      `json:"value"`    // what we understood
	Raw        string      `json:"raw"`      // what was typed, pressed or said
	Via        string      `json:"via"`
	NoAnswer   bool        `json:"no_answer"`
	Skipped    bool        `json:"skipped"`
	Themes     []string    `json:"themes"`
	Transcript *Transcript `json:"transcript,omitempty"`
	Recording  *Recording  `json:"recording,omitempty"`
	At         string      `json:"at"`
}

// Transcript is a recording's words: the first machine transcript and the
// current one (a staff correction, when there is one).
type Transcript struct {
	Original string `json:"original"`
	Current  string `json:"current"`
}

// Recording refers to a member's recorded answer: staff play it in the
// dashboard at URL.
type Recording struct {
	SID         string `json:"sid"`
	Seconds     int    `json:"seconds"`
	ContentType string `json:"content_type"`
	URL         string `json:"url"`
}

// Conversation turns a stored conversation into its JSON shape.
func (o *Options) Conversation(c store.ExportConversation) (Conversation, error) {
	phone, err := o.phone(c)
	if err != nil {
		return Conversation{}, err
	}
	out := Conversation{ID: c.ID, MemberID: o.Members.ID(c.ParticipantID), Phone: phone, SurveyID: c.SurveyID,
		SurveyVersion: c.SurveyVersion, Channel: c.Channel, Status: c.Status, Consent: c.Consent, Language: c.Language,
		StartedAt: utc(c.StartedAt), Answers: make([]Answer, 0, len(c.Answers))}
	if c.EndedAt != nil {
		e := utc(*c.EndedAt)
		out.EndedAt = &e
	}
	for _, a := range c.Answers {
		ja := Answer{ID: a.ID, QuestionID: a.QuestionID, Value: a.Value, Raw: a.Raw, Via: a.Via, NoAnswer: a.NoAnswer,
			Skipped: a.Skipped, Themes: a.Themes, At: utc(a.CreatedAt)}
		if q := o.question(a.QuestionID); q != nil {
			ja.Question = q.Ask
		}
		if a.Via == "recording" || a.Transcript != "" || a.OriginalTranscript != "" {
			ja.Transcript = &Transcript{Original: a.OriginalTranscript, Current: a.Transcript}
		}
		if a.RecordingSID != "" {
			ja.Recording = &Recording{SID: a.RecordingSID, Seconds: a.RecordingSeconds, ContentType: a.RecordingType,
				URL: o.recordingURL(c.ID, a.RecordingSID)}
		}
		out.Answers = append(out.Answers, ja)
	}
	return out, nil
}

// Info is the survey as the JSON export names it.
func (o *Options) Info() SurveyInfo {
	return SurveyInfo{ID: o.Survey.ID, Title: o.Survey.Title, Version: o.Survey.Version, PackageID: o.Survey.PackageID}
}

// JSON writes a Document, one conversation at a time.
func JSON(w io.Writer, o Options, convs Conversations) (Stats, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	head, err := json.Marshal(struct {
		Survey     SurveyInfo `json:"survey"`
		ExportedAt string     `json:"exported_at"`
	}{o.Info(), utc(o.now())})
	if err != nil {
		return Stats{}, err
	}
	bw.Write(head[:len(head)-1])
	bw.WriteString(`,"conversations":[`)
	var st Stats
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for c, err := range convs {
		if err != nil {
			return st, err
		}
		jc, err := o.Conversation(c)
		if err != nil {
			return st, err
		}
		if st.Conversations > 0 {
			bw.WriteByte(',')
		}
		bw.WriteByte('\n')
		if err := enc.Encode(jc); err != nil {
			return st, err
		}
		st.Conversations++
		st.Answers += len(c.Answers)
		if o.Progress != nil && st.Conversations%1000 == 0 {
			o.Progress(st.Conversations)
		}
	}
	bw.WriteString("]}\n")
	if o.Progress != nil {
		o.Progress(st.Conversations)
	}
	return st, bw.Flush()
}
