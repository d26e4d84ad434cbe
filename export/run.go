package export

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/survey"
)

// ErrUnknownSurvey means there is no survey with the id asked for.
var ErrUnknownSurvey = errors.New("there is no survey with that id")

// Request is one export, from the command line, the dashboard or the API.
type Request struct {
	SurveyID    string
	Format      string    // csv, json or floip
	Since       time.Time // conversations started at or after (zero: from the first)
	Until       time.Time // conversations started before (zero: to the last)
	WithNumbers bool      // phone numbers too: the caller has checked the person is an admin
	Actor       string    // who, for the audit log: "cli", a staff e-mail, "token:NAME"
	Via         string    // cli, dashboard, api
	Out         string    // floip from the command line: a folder or a .zip file ("" writes a zip to w)
}

// Exporter runs exports against the store.
type Exporter struct {
	DB        *store.DB
	Phones    *store.Phones // opens numbers for WithNumbers
	Members   *Members
	PublicURL string
	Progress  func(conversations int)
	BatchSize int // conversations a query reads (default 2500)
}

// Prepare loads what a survey's export needs: its record and its parsed
// versions. ErrUnknownSurvey when there is no such survey.
func (e *Exporter) Prepare(ctx context.Context, s store.ExportSurvey) (Options, error) {
	o := Options{Survey: s, Members: e.Members, PublicURL: e.PublicURL, Progress: e.Progress}
	def, err := survey.Parse(s.FileName, []byte(s.Source))
	if err != nil {
		return o, fmt.Errorf("survey %q no longer loads, so its questions cannot be listed: %w", s.ID, err)
	}
	o.Def = def
	older, err := e.DB.OlderSurveySources(ctx, s)
	if err != nil {
		return o, err
	}
	for _, v := range older {
		if d, err := survey.Parse(v.FileName, []byte(v.Source)); err == nil {
			o.Older = append(o.Older, d)
		}
	}
	return o, nil
}

// Survey finds a survey by id (ErrUnknownSurvey when there is none) and
// prepares its export.
func (e *Exporter) Survey(ctx context.Context, id string) (Options, error) {
	s, err := e.DB.ExportSurveyByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return Options{}, ErrUnknownSurvey
	}
	if err != nil {
		return Options{}, err
	}
	return e.Prepare(ctx, s)
}

// Run writes the export to w (or to r.Out for floip) and records it in the
// audit log: who, which survey, which format, how many rows, and whether
// numbers were in it. A failed export is logged too.
func (e *Exporter) Run(ctx context.Context, r Request, w io.Writer) (Stats, error) {
	if err := Check(r.Format); err != nil {
		return Stats{}, err
	}
	o, err := e.Survey(ctx, r.SurveyID)
	if err != nil {
		return Stats{}, err
	}
	if r.WithNumbers {
		if e.Phones == nil {
			return Stats{}, errors.New("phone numbers cannot be read without HYS_SECRET_KEY")
		}
		o.Numbers = e.Phones.Decrypt
	}
	convs := e.DB.ExportConversations(ctx, store.ExportFilter{SurveyID: r.SurveyID, Since: r.Since, Until: r.Until,
		WithNumbers: r.WithNumbers, BatchSize: e.BatchSize})
	var st Stats
	switch r.Format {
	case "csv":
		st, err = CSV(w, o, convs)
	case "json":
		st, err = JSON(w, o, convs)
	default:
		st, err = FlowResults(r.Out, w, o, convs)
	}
	detail := map[string]any{"format": r.Format, "rows": st.Rows(r.Format), "conversations": st.Conversations,
		"with_numbers": r.WithNumbers, "via": r.Via}
	if !r.Since.IsZero() {
		detail["since"] = r.Since.UTC().Format(time.RFC3339)
	}
	if !r.Until.IsZero() {
		detail["until"] = r.Until.UTC().Format(time.RFC3339)
	}
	if err != nil {
		detail["failed"] = true
	}
	if aerr := e.DB.Audit(context.WithoutCancel(ctx), r.Actor, store.AuditExport, store.SurveySubject(r.SurveyID), detail); aerr != nil && err == nil {
		err = fmt.Errorf("the export was written, but the audit log could not be: %w", aerr)
	}
	return st, err
}
