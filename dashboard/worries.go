package dashboard

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gorilla/mux"

	"github.com/haveyoursay/haveyoursay/store"
)

// The Worries queue (/worries): every worry about a member's safety, the
// ones nobody has closed first, longest waiting first. Only admins and the
// safeguarding lead (Role.SeesWorries) see it. Opening a worry is kept in
// its log ("looked") and in the audit log; what staff did and who they
// told are added to the log, never edited; the original record exports as
// an incident record for a trustees' serious-incident report.

// worriesPage is what templates/worries.html shows.
type worriesPage struct {
	Open   []worryRow
	Closed []worryRow
}

type worryRow struct {
	store.Worry
	Waited string // how long it has waited since it was raised, in words
	Long   bool   // nobody has looked for over an hour
}

// worryPage is what templates/worry.html shows.
type worryPage struct {
	W       store.Worry
	Actions []store.WorryAction
	Alerts  []store.WorryAlert
	Waited  string
	Notice  string
	Problem string
	Did     string // the form, kept when it is sent back
	Told    string
}

// SourceLabel says where a worry's words came from.
func (worryPage) SourceLabel(s string) string { return worrySource(s) }

// SourceLabel says where a worry's words came from.
func (worriesPage) SourceLabel(s string) string { return worrySource(s) }

func worrySource(s string) string {
	switch s {
	case store.WorryText:
		return "a text"
	case store.WorrySpeech:
		return "words said on a call"
	case store.WorryNotUnderstood:
		return "words said on a call that the menu did not understand"
	case store.WorryTranscript:
		return "the transcript of a recorded answer"
	case store.WorryHand:
		return "flagged by staff"
	}
	return s
}

// KindLabel says what a log entry is.
func (worryPage) KindLabel(k string) string {
	switch k {
	case "looked":
		return "Looked at it"
	case "acted":
		return "Did something"
	case "closed":
		return "Closed it"
	case "reopened":
		return "Opened it again"
	}
	return k
}

// maxWorryText is the longest "what I did" or "who I told".
const maxWorryText = 4000

var worryDone = map[string]string{
	"saved":    "Thank you. What you did is in the worry's record.",
	"closed":   "Thank you. The worry is closed. Its record is kept.",
	"reopened": "The worry is open again.",
}

// showWorries answers GET /worries: open worries, longest waiting first,
// then the latest closed ones.
func (a *App) showWorries(w http.ResponseWriter, r *http.Request) {
	ws, err := a.db.Worries(r.Context(), 50)
	if err != nil {
		a.serverError(w, r, fmt.Errorf("listing worries: %w", err))
		return
	}
	now := a.now()
	var p worriesPage
	for _, wo := range ws {
		row := worryRow{Worry: wo, Waited: waited(now.Sub(wo.CreatedAt))}
		row.Long = wo.FirstLook.IsZero() && now.Sub(wo.CreatedAt) > time.Hour
		if wo.Closed {
			p.Closed = append(p.Closed, row)
		} else {
			p.Open = append(p.Open, row)
		}
	}
	a.render(w, r, "worries", "Worries", p)
}

// worryID reads {id}, answering 404 for one that is not a number.
func (a *App) worryID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
	if err != nil || id <= 0 {
		a.notFound(w, r, "worry")
		return 0, false
	}
	return id, true
}

// showWorry answers GET /worries/{id}: the original record, who looked and
// what they did, the alert texts, and the form to add to the record.
// Opening it is written in its log and the audit log.
func (a *App) showWorry(w http.ResponseWriter, r *http.Request) {
	id, ok := a.worryID(w, r)
	if !ok {
		return
	}
	if err := a.db.AddWorryAction(r.Context(), id, actor(r), "looked", "", ""); errors.Is(err, store.ErrNotFound) {
		a.notFound(w, r, "worry")
		return
	} else if err != nil {
		a.serverError(w, r, fmt.Errorf("keeping who looked at a worry: %w", err))
		return
	}
	a.audit(r, store.AuditViewWorry, store.WorrySubject(id), nil)
	a.worryPage(w, r, id, http.StatusOK, worryPage{Notice: worryDone[r.URL.Query().Get("done")]})
}

func (a *App) worryPage(w http.ResponseWriter, r *http.Request, id int64, status int, p worryPage) {
	wo, actions, alerts, err := a.db.GetWorry(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		a.notFound(w, r, "worry")
		return
	}
	if err != nil {
		a.serverError(w, r, fmt.Errorf("reading a worry: %w", err))
		return
	}
	p.W, p.Actions, p.Alerts, p.Waited = wo, actions, alerts, waited(a.now().Sub(wo.CreatedAt))
	a.renderStatus(w, r, status, "worry", fmt.Sprintf("Worry %d", id), p)
}

// addWorryAction answers POST /worries/{id}/actions: what I did and who I
// told, and whether the worry is now closed (or open again).
func (a *App) addWorryAction(w http.ResponseWriter, r *http.Request) {
	id, ok := a.worryID(w, r)
	if !ok || !a.form(w, r) {
		return
	}
	did := strings.TrimSpace(r.PostForm.Get("did"))
	told := strings.TrimSpace(r.PostForm.Get("told"))
	next := r.PostForm.Get("next") // "", "close" or "reopen"
	back := worryPage{Did: did, Told: told}
	switch {
	case next != "" && next != "close" && next != "reopen":
		back.Problem = "Choose whether the worry stays open, then press the button."
	case did == "" && told == "" && next == "":
		back.Problem = "Write what you did, or who you told, then press the button."
	case utf8.RuneCountInString(did) > maxWorryText || utf8.RuneCountInString(told) > maxWorryText:
		back.Problem = fmt.Sprintf("Each box can hold up to %d letters. Please make it shorter.", maxWorryText)
	}
	if back.Problem != "" {
		a.worryPage(w, r, id, http.StatusBadRequest, back)
		return
	}
	who := actor(r)
	done := "saved"
	if did != "" || told != "" {
		if err := a.db.AddWorryAction(r.Context(), id, who, "acted", did, told); errors.Is(err, store.ErrNotFound) {
			a.notFound(w, r, "worry")
			return
		} else if err != nil {
			a.serverError(w, r, fmt.Errorf("adding to a worry's record: %w", err))
			return
		}
	}
	if next != "" {
		kind := map[string]string{"close": "closed", "reopen": "reopened"}[next]
		if err := a.db.AddWorryAction(r.Context(), id, who, kind, "", ""); errors.Is(err, store.ErrNotFound) {
			a.notFound(w, r, "worry")
			return
		} else if err != nil {
			a.serverError(w, r, fmt.Errorf("closing a worry: %w", err))
			return
		}
		done = kind
	}
	a.audit(r, store.AuditWorryAction, store.WorrySubject(id), map[string]any{"next": next})
	http.Redirect(w, r, fmt.Sprintf("/worries/%d?done=%s", id, done), http.StatusSeeOther)
}

// exportWorry answers GET /worries/{id}/record: the incident record as a
// plain text file, for a trustees' serious-incident report. Audit-logged.
func (a *App) exportWorry(w http.ResponseWriter, r *http.Request) {
	id, ok := a.worryID(w, r)
	if !ok {
		return
	}
	wo, actions, alerts, err := a.db.GetWorry(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		a.notFound(w, r, "worry")
		return
	}
	if err != nil {
		a.serverError(w, r, fmt.Errorf("reading a worry: %w", err))
		return
	}
	a.audit(r, store.AuditExportWorry, store.WorrySubject(id), nil)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="incident-record-worry-%d.txt"`, id))
	w.Write([]byte(incidentRecord(wo, actions, alerts, actor(r), a.now())))
}

// incidentRecord is a worry's record in plain words.
func incidentRecord(wo store.Worry, actions []store.WorryAction, alerts []store.WorryAlert, by string, now time.Time) string {
	var b strings.Builder
	line := func(label, value string) {
		if value != "" {
			fmt.Fprintf(&b, "%-22s %s\n", label+":", value)
		}
	}
	stamp := func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }
	fmt.Fprintf(&b, "INCIDENT RECORD: WORRY %d\n\n", wo.ID)
	b.WriteString("The original record below cannot be changed: the database refuses any edit.\n\n")
	line("Said or raised at", stamp(wo.SaidAt))
	line("Recorded at", stamp(wo.CreatedAt))
	channel := "text message"
	if wo.Channel == "voice" {
		channel = "phone call"
	}
	line("Channel", channel)
	line("Where the words came from", worrySource(wo.Source))
	line("Risk phrase found", wo.Phrase)
	line("Flagged by", wo.RaisedBy)
	line("Reason given", wo.Reason)
	line("Member", wo.PhoneMasked)
	line("Conversation", wo.ConversationID)
	line("Recording", wo.RecordingSID)
	if wo.Words != "" {
		b.WriteString("\nThe member's words, exactly as they came:\n")
		for _, l := range strings.Split(wo.Words, "\n") {
			b.WriteString("  | " + l + "\n")
		}
	}
	b.WriteString("\nWho looked, what they did and who they told:\n")
	if len(actions) == 0 {
		b.WriteString("  Nobody yet.\n")
	}
	for _, ac := range actions {
		fmt.Fprintf(&b, "  %s  %s: %s", stamp(ac.At), ac.Actor, (worryPage{}).KindLabel(ac.Kind))
		if ac.Did != "" {
			fmt.Fprintf(&b, ". Did: %s", ac.Did)
		}
		if ac.Told != "" {
			fmt.Fprintf(&b, ". Told: %s", ac.Told)
		}
		b.WriteString("\n")
	}
	b.WriteString("\nAlert texts to the safeguarding lead and deputy:\n")
	if len(alerts) == 0 {
		b.WriteString("  None recorded.\n")
	}
	for _, al := range alerts {
		status := "not sent yet"
		if al.Status == "sent" {
			status = "sent (Twilio took it)"
		}
		fmt.Fprintf(&b, "  %s  to %s: %s after %d tries\n", stamp(al.UpdatedAt), al.SentTo, status, al.Attempts)
	}
	fmt.Fprintf(&b, "\nExported by %s at %s.\n", by, stamp(now))
	return b.String()
}
