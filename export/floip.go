package export

import (
	"archive/zip"
	"bufio"
	"compress/flate"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/survey"
)

// Flow Results (FLOIP, github.com/FLOIP/flow-results): a Data Package
// descriptor (datapackage.json) with one resource, whose rows are answers
// as arrays of six columns: timestamp, row id, contact id, question id,
// response, response metadata.

// FlowResultsVersion is the version of the specification we follow.
const FlowResultsVersion = "1.0.0-rc1"

// DataFile is the name of the responses file in a package.
const DataFile = "flow-results-data.json"

// Descriptor is a Flow Results package descriptor.
type Descriptor struct {
	Profile                         string     `json:"profile"`
	FlowResultsSpecificationVersion string     `json:"flow_results_specification_version"`
	ID                              string     `json:"id"`
	Name                            string     `json:"name"`
	Title                           string     `json:"title"`
	Created                         string     `json:"created"`
	Modified                        string     `json:"modified"`
	Resources                       []Resource `json:"resources"`
}

// Resource is the descriptor's one resource: where the responses are, and
// their schema.
type Resource struct {
	Name       string `json:"name"`
	Path       string `json:"path,omitempty"`
	APIDataURL string `json:"api-data-url,omitempty"`
	MediaType  string `json:"mediatype"`
	Encoding   string `json:"encoding"`
	Schema     Schema `json:"schema"`
}

// Schema lists the six fields and every question.
type Schema struct {
	Language  string                  `json:"language,omitempty"`
	Fields    []Field                 `json:"fields"`
	Questions map[string]FlowQuestion `json:"questions"`
}

// Field is one of the six columns.
type Field struct {
	Name  string `json:"name"`
	Title string `json:"title"`
	Type  string `json:"type"`
}

// FlowQuestion describes a question: its type, label and type options.
type FlowQuestion struct {
	Type        string         `json:"type"`
	Label       string         `json:"label"`
	TypeOptions map[string]any `json:"type_options"`
}

// Fields are the six columns every Flow Results package has.
var Fields = []Field{
	{"timestamp", "Timestamp", "datetime"},
	{"row_id", "Row ID", "string"},
	{"contact_id", "Contact ID", "string"},
	{"question_id", "Question ID", "string"},
	{"response", "Response", "any"},
	{"response_metadata", "Response Metadata", "object"},
}

// FlowQuestionOf describes a survey question in Flow Results terms:
// choice and yes/no are select_one with their choices, scale and number
// numeric (with their range), words open.
func FlowQuestionOf(q *survey.Question) FlowQuestion {
	fq := FlowQuestion{Label: q.Ask, TypeOptions: map[string]any{}}
	switch q.Answer {
	case survey.Choice, survey.YesNo:
		fq.Type = "select_one"
		choices := []string{}
		for _, o := range q.AllOptions() {
			choices = append(choices, o.Value)
		}
		fq.TypeOptions["choices"] = choices
	case survey.Scale, survey.Number:
		fq.Type = "numeric"
		if lo, hi, hasLo, hasHi := q.Range(); hasLo && hasHi {
			fq.TypeOptions["range"] = []int{lo, hi}
		}
	default:
		fq.Type = "open"
	}
	return fq
}

// Descriptor describes the survey as a Flow Results package. dataURL is
// where the responses are: a file name in a package on disk, or the API's
// address (apiURL true).
func (o *Options) Descriptor(data string, apiURL bool) Descriptor {
	qs := map[string]FlowQuestion{}
	for _, q := range o.questions() {
		qs[q.ID] = FlowQuestionOf(q)
	}
	r := Resource{Name: "responses", MediaType: "application/json", Encoding: "utf-8",
		Schema: Schema{Fields: Fields, Questions: qs}}
	if o.Def != nil {
		r.Schema.Language = iso6393(o.Def.Language)
	}
	if apiURL {
		r.APIDataURL = data
	} else {
		r.Path = data
	}
	return Descriptor{Profile: "flow-results-package", FlowResultsSpecificationVersion: FlowResultsVersion,
		ID: o.Survey.PackageID, Name: packageName(o.Survey.ID), Title: o.Survey.Title,
		Created: utc(o.Survey.CreatedAt), Modified: utc(o.Survey.UpdatedAt), Resources: []Resource{r}}
}

// packageName is a survey id as a Data Package name: lower case letters,
// digits, ".", "_" and "-".
func packageName(id string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(id) {
		if (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' {
			b.WriteRune(c)
		} else {
			b.WriteByte('-')
		}
	}
	return b.String()
}

// iso6393 is the ISO 639-3 code Flow Results asks for, of a language tag
// like "en-GB"; "" when we do not know it.
func iso6393(tag string) string {
	base, _, _ := strings.Cut(strings.ToLower(tag), "-")
	return map[string]string{
		"en": "eng", "cy": "cym", "gd": "gla", "ga": "gle", "pl": "pol", "ur": "urd", "pa": "pan", "bn": "ben",
		"ar": "ara", "so": "som", "fr": "fra", "es": "spa", "pt": "por", "ro": "ron", "it": "ita", "de": "deu",
		"zh": "zho", "hi": "hin", "gu": "guj", "ta": "tam", "tr": "tur", "uk": "ukr", "ru": "rus", "fa": "fas",
	}[base]
}

// FlowRow is one answer as a Flow Results row: written as a JSON array
// of exactly six columns (timestamp, row id, contact id, question id,
// response, response metadata).
type FlowRow struct {
	Timestamp  string
	RowID      int64
	ContactID  string
	QuestionID string
	Response   any // a string, an int64 or a float64
	Meta       RowMeta
}

// RowMeta is a row's response metadata. Open questions say what the
// response is (text, or audio with its transcript).
type RowMeta struct {
	Type        string    `json:"type,omitempty"`
	TypeOptions *struct{} `json:"type_options,omitempty"`
	Format      string    `json:"format,omitempty"`
	Language    string    `json:"language,omitempty"`
	Transcript  string    `json:"transcript,omitempty"`
	Via         string    `json:"via,omitempty"` // how it was given: digits, text, speech, recording...
}

// Row is one answer as a Flow Results row; ok is false for a question
// skipped or not answered (not a response).
func (o *Options) Row(conversationID string, participantID int64, language string, a store.ExportAnswer) (row FlowRow, ok bool) {
	if a.Skipped || a.NoAnswer {
		return row, false
	}
	row = FlowRow{Timestamp: utc(a.CreatedAt), RowID: a.ID, ContactID: o.Members.ID(participantID), QuestionID: a.QuestionID,
		Response: a.Value, Meta: RowMeta{Via: a.Via}}
	q := o.question(a.QuestionID)
	switch {
	case q != nil && (q.Answer == survey.Scale || q.Answer == survey.Number):
		if n, err := strconv.ParseInt(a.Value, 10, 64); err == nil {
			row.Response = n
		} else if f, err := strconv.ParseFloat(a.Value, 64); err == nil {
			row.Response = f
		}
	case q == nil || q.Answer == survey.Words:
		row.Meta.TypeOptions = &struct{}{}
		if a.RecordingSID != "" {
			row.Response = o.recordingURL(conversationID, a.RecordingSID)
			row.Meta.Type, row.Meta.Format, row.Meta.Transcript = "audio", a.RecordingType, a.Transcript
		} else {
			row.Response = a.Words()
			row.Meta.Type = "text"
		}
		row.Meta.Language = iso6393(language)
	}
	return row, true
}

// MarshalJSON writes the row as an array of six.
func (r FlowRow) MarshalJSON() ([]byte, error) { return r.appendJSON(nil), nil }

func (r FlowRow) appendJSON(b []byte) []byte {
	b = append(b, '[')
	b = appendJSONString(b, r.Timestamp)
	b = append(b, ',')
	b = strconv.AppendInt(b, r.RowID, 10)
	b = append(b, ',')
	b = appendJSONString(b, r.ContactID)
	b = append(b, ',')
	b = appendJSONString(b, r.QuestionID)
	b = append(b, ',')
	switch v := r.Response.(type) {
	case int64:
		b = strconv.AppendInt(b, v, 10)
	case float64:
		b = strconv.AppendFloat(b, v, 'g', -1, 64)
	case string:
		b = appendJSONString(b, v)
	default:
		b = append(b, "null"...)
	}
	b = append(b, ',', '{')
	n := 0
	field := func(k, v string) {
		if v == "" {
			return
		}
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = appendJSONString(b, k)
		b = append(b, ':')
		b = appendJSONString(b, v)
	}
	field("type", r.Meta.Type)
	if r.Meta.TypeOptions != nil {
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = append(b, `"type_options":{}`...)
	}
	field("format", r.Meta.Format)
	field("language", r.Meta.Language)
	field("transcript", r.Meta.Transcript)
	field("via", r.Meta.Via)
	return append(b, '}', ']')
}

// appendJSONString appends s as a JSON string, as encoding/json would
// (invalid UTF-8 becomes U+FFFD), without its escaping of <, > and &.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, "\\ufffd"...)
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// writeRows writes the responses file: a JSON array of rows.
func (o *Options) writeRows(w io.Writer, convs Conversations) (Stats, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteByte('[')
	var st Stats
	rows := 0
	var buf []byte
	for c, err := range convs {
		if err != nil {
			return st, err
		}
		for _, a := range c.Answers {
			row, ok := o.Row(c.ID, c.ParticipantID, c.Language, a)
			if !ok {
				continue
			}
			buf = buf[:0]
			if rows > 0 {
				buf = append(buf, ',')
			}
			buf = append(buf, '\n')
			buf = row.appendJSON(buf)
			if _, err := bw.Write(buf); err != nil {
				return st, err
			}
			rows++
		}
		st.Conversations++
		st.Answers += len(c.Answers)
		if o.Progress != nil && st.Conversations%1000 == 0 {
			o.Progress(st.Conversations)
		}
	}
	bw.WriteString("\n]\n")
	st.Answers = rows
	if o.Progress != nil {
		o.Progress(st.Conversations)
	}
	return st, bw.Flush()
}

func (o *Options) descriptorJSON() ([]byte, error) {
	b, err := json.MarshalIndent(o.Descriptor(DataFile, false), "", "  ")
	return append(b, '\n'), err
}

// FlowZip writes a Flow Results package as a zip: datapackage.json and
// the responses file beside it.
func FlowZip(w io.Writer, o Options, convs Conversations) (Stats, error) {
	zw := zip.NewWriter(w)
	// The fastest compression: a responses file shrinks about tenfold
	// even so, and the export stays as fast as Postgres can read.
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, flate.BestSpeed)
	})
	d, err := o.descriptorJSON()
	if err != nil {
		return Stats{}, err
	}
	f, err := zw.Create("datapackage.json")
	if err != nil {
		return Stats{}, err
	}
	if _, err := f.Write(d); err != nil {
		return Stats{}, err
	}
	f, err = zw.Create(DataFile)
	if err != nil {
		return Stats{}, err
	}
	st, err := o.writeRows(f, convs)
	if err != nil {
		return st, err
	}
	return st, zw.Close()
}

// FlowDir writes a Flow Results package into a folder (made if missing):
// datapackage.json and the responses file.
func FlowDir(dir string, o Options, convs Conversations) (Stats, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return Stats{}, err
	}
	d, err := o.descriptorJSON()
	if err != nil {
		return Stats{}, err
	}
	if err := os.WriteFile(filepath.Join(dir, "datapackage.json"), d, 0o640); err != nil {
		return Stats{}, err
	}
	f, err := os.OpenFile(filepath.Join(dir, DataFile), os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o640)
	if err != nil {
		return Stats{}, err
	}
	st, err := o.writeRows(f, convs)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return st, err
}

// FlowResults writes a package where the CLI's --out says: a .zip file,
// or else a folder. "" or "-" writes a zip to w.
func FlowResults(out string, w io.Writer, o Options, convs Conversations) (Stats, error) {
	switch {
	case out == "" || out == "-":
		return FlowZip(w, o, convs)
	case strings.HasSuffix(strings.ToLower(out), ".zip"):
		f, err := os.OpenFile(out, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o640)
		if err != nil {
			return Stats{}, err
		}
		st, err := FlowZip(f, o, convs)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return st, err
	}
	if fi, err := os.Stat(out); err == nil && !fi.IsDir() {
		return Stats{}, errors.New(out + " is a file: give a folder, or a name ending in .zip")
	}
	return FlowDir(out, o, convs)
}
