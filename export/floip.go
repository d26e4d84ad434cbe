package export

import (
	"archive/zip"
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

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

// Row is one answer as a Flow Results row of exactly six columns; ok is
// false for a question skipped or not answered (not a response).
func (o *Options) Row(conversationID string, participantID int64, language string, a store.ExportAnswer) (row [6]any, ok bool) {
	if a.Skipped || a.NoAnswer {
		return row, false
	}
	meta := map[string]any{}
	var response any = a.Value
	q := o.question(a.QuestionID)
	switch {
	case q != nil && (q.Answer == survey.Scale || q.Answer == survey.Number):
		if n, err := strconv.ParseInt(a.Value, 10, 64); err == nil {
			response = n
		} else if f, err := strconv.ParseFloat(a.Value, 64); err == nil {
			response = f
		}
	case q != nil && q.Answer == survey.Words || q == nil:
		if a.RecordingSID != "" {
			response = o.recordingURL(conversationID, a.RecordingSID)
			meta["type"] = "audio"
			meta["type_options"] = map[string]any{}
			if a.RecordingType != "" {
				meta["format"] = a.RecordingType
			}
			if a.Transcript != "" {
				meta["transcript"] = a.Transcript
			}
		} else {
			response = a.Words()
			meta["type"] = "text"
			meta["type_options"] = map[string]any{}
		}
		if l := iso6393(language); l != "" {
			meta["language"] = l
		}
	}
	if a.Via != "" {
		meta["via"] = a.Via
	}
	return [6]any{utc(a.CreatedAt), a.ID, o.Members.ID(participantID), a.QuestionID, response, meta}, true
}

// writeRows writes the responses file: a JSON array of rows.
func (o *Options) writeRows(w io.Writer, convs Conversations) (Stats, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	bw.WriteByte('[')
	var st Stats
	rows := 0
	for c, err := range convs {
		if err != nil {
			return st, err
		}
		for _, a := range c.Answers {
			row, ok := o.Row(c.ID, c.ParticipantID, c.Language, a)
			if !ok {
				continue
			}
			if rows > 0 {
				bw.WriteByte(',')
			}
			bw.WriteByte('\n')
			if err := enc.Encode(row); err != nil {
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
	bw.WriteString("]\n")
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
