package sms

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/survey"
)

// Safeguarding by text. Every text a member sends is checked against the
// risk phrases (Handler.Risk) as it arrives, whatever it answers. A match
// raises a worry (kept with the text, through the journal) whose alert
// texts go to the safeguarding lead and deputy as durable jobs; and the
// member gets, at once and instead of the next question, a kind reply with
// our number and crisis lines. We never ask about what they told us: we
// offer a person, and the survey waits until they text AGAIN to carry on.

// safeguard raises a worry about a text with a risk phrase and answers it
// with the crisis reply. Someone who texted STOP is not answered (rule 4),
// but the worry is still raised.
func (h *Handler) safeguard(in inbound, optedOut bool, p *plan) {
	phrase, ok := h.Risk.Match(in.body)
	if !ok {
		return
	}
	p.record(store.Event{Worry: &store.WorryRaised{DedupeKey: in.sid + ":worry", ConversationID: p.conv, Person: in.person,
		Channel: string(survey.SMS), Source: store.WorryText, Phrase: phrase, Words: in.body}})
	if optedOut {
		return
	}
	p.replies = []string{h.crisisText()}
	if p.paused {
		p.reply(survey.DefaultPhrases["crisis-carry-on"])
	}
}

// pauseIfWorrying makes the survey wait after a text with a risk phrase,
// unless it has just ended.
func (h *Handler) pauseIfWorrying(in inbound, sess *session, done bool, p *plan) {
	if _, ok := h.Risk.Match(in.body); ok && !done {
		sess.Paused, p.paused = true, true
	}
}

// resumeWords carry on a paused survey.
var resumeWords = map[string]bool{"again": true, "yes": true, "ok": true, "okay": true, "continue": true, "next": true,
	"carry on": true, "go on": true, "carry on please": true, "yes please": true, "*": true}

// whilePaused answers a text while the survey waits after a worrying one.
// It reports whether the survey still waits; when the member asked to
// carry on, it has unpaused the session.
func (h *Handler) whilePaused(in inbound, sess *session, sv *survey.Survey, p *plan) (waiting bool) {
	words, _ := phraseWords(in.body)
	if resumeWords[strings.Join(words, " ")] || strings.TrimSpace(in.body) == "*" {
		sess.Paused = false
		return false
	}
	p.paused = true
	// "0" or "help me" books a call back, as at any question; nothing
	// else they send is taken as an answer.
	if reply, _ := survey.Step(sv, sess.Survey, survey.Input{Text: in.body}); reply.Handoff() {
		var asked []survey.Event
		if e, ok := survey.Find[survey.PersonAsked](reply.Events); ok {
			asked = append(asked, e)
		}
		conv := store.ConversationRef{ID: sess.Conversation, Person: in.person, Channel: string(survey.SMS)}
		p.record(conv.Events(in.sid, in.body, asked)...)
		p.reply(survey.DefaultPhrases["help-sms"])
		return true
	}
	p.reply(survey.DefaultPhrases["crisis-waiting"])
	return true
}

// crisisText is the reply to a text with a risk phrase.
func (h *Handler) crisisText() string {
	lines := h.CrisisLines
	if lines == "" {
		lines = survey.DefaultPhrases["crisis-lines"]
	}
	org := ""
	if h.Org.Phone != "" {
		org = strings.ReplaceAll(survey.DefaultPhrases["crisis-org"], "{phone}", h.Org.Phone)
	}
	text := strings.NewReplacer("{org-line}", org, "{lines}", lines).Replace(survey.DefaultPhrases["crisis-sms"])
	text += " " + survey.DefaultPhrases["crisis-person"]
	return strings.Join(strings.Fields(text), " ")
}

// ---- alerts ----

// alertQueue is the River queue of safeguarding alerts: its own, so a long
// list of invitations never holds one up.
const alertQueue = "safeguarding"

// alertAttempts is how often an alert is tried: at the longest wait
// between tries (5 minutes), about three and a half days.
const alertAttempts = 1000

// AlertConfig says who is texted about a new worry, and how.
type AlertConfig struct {
	// To are the numbers texted (HYS_SAFEGUARDING_ALERT_TO): the
	// safeguarding lead and deputy. None: no alerts.
	To []string
	// From sends them; default SenderConfig.From (TWILIO_SMS_FROM).
	From string
	// Link is where staff look (PUBLIC_URL + "/worries").
	Link string
	// RetryAfter is the first wait after Twilio did not take an alert;
	// each further try waits twice as long, up to 5 minutes. Default 1s.
	RetryAfter time.Duration
}

type alertArgs struct {
	Worry int64  `json:"worry"`
	To    string `json:"to"`
}

func (alertArgs) Kind() string                 { return "hys_safeguarding_alert" }
func (alertArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: alertQueue} }

// alertJobs are the jobs that text each alert number about worry id.
func (s *Sender) alertJobs(id int64) []river.InsertManyParams {
	out := make([]river.InsertManyParams, 0, len(s.cfg.Alerts.To))
	for _, to := range s.cfg.Alerts.To {
		out = append(out, river.InsertManyParams{Args: alertArgs{Worry: id, To: to},
			InsertOpts: &river.InsertOpts{Queue: alertQueue, MaxAttempts: alertAttempts}})
	}
	return out
}

type alertWorker struct {
	river.WorkerDefaults[alertArgs]
	s *Sender
}

// Work texts one alert. Quiet hours do not apply: a worry cannot wait
// for the morning. It is tried again, whatever went wrong, until Twilio
// takes it: a second alert is better than none.
func (w *alertWorker) Work(ctx context.Context, job *river.Job[alertArgs]) error {
	s := w.s
	masked := store.Mask(job.Args.To)
	if sent, err := s.DB.WorryAlertSent(ctx, job.Args.Worry, masked); err != nil || sent {
		return err
	}
	from := s.cfg.Alerts.From
	if from == "" {
		from = s.cfg.From
	}
	if from == "" {
		return errors.New("there is no number to send safeguarding alerts from: set TWILIO_SMS_FROM")
	}
	sid, err := s.Texter.Send(from, job.Args.To, s.alertBody(job.Args.Worry))
	problem := ""
	if err != nil {
		problem = err.Error()
		s.Log.Error("Twilio did not take a safeguarding alert; trying again", "worry", job.Args.Worry, "to", masked, "err", err)
	}
	dctx, cancel := detach(ctx)
	defer cancel()
	if rerr := s.DB.WorryAlertTried(dctx, job.Args.Worry, masked, sid, problem); rerr != nil && err == nil {
		// Sent: say so in the log rather than send it again.
		s.Log.Error("a safeguarding alert was sent but not recorded", "worry", job.Args.Worry, "sid", sid, "err", rerr)
	}
	return err
}

// NextRetry: RetryAfter, doubling, at most 5 minutes.
func (w *alertWorker) NextRetry(job *river.Job[alertArgs]) time.Time {
	d := w.s.cfg.Alerts.RetryAfter << min(max(job.Attempt-1, 0), 16)
	return time.Now().Add(min(d, 5*time.Minute))
}

// alertBody says there is a worry and where to look: never who, nor what
// they said.
func (s *Sender) alertBody(id int64) string {
	body := fmt.Sprintf("%s: a member may be at risk. A new worry needs a safeguarding lead to look now.", s.cfg.Org.Name)
	if s.cfg.Alerts.Link != "" {
		body += fmt.Sprintf(" See %s/%d", strings.TrimRight(s.cfg.Alerts.Link, "/"), id)
	}
	return body
}
