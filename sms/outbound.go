package sms

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"

	"github.com/haveyoursay/haveyoursay/hours"
	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/survey"
)

// Invitations and reminders are durable River jobs on Postgres, one job
// per text. What makes a text go out exactly once is not the job but its
// row in the outbound table: a job calls Twilio only after moving the row
// from pending to sending, so a job run twice (after a crash, a retry, on
// two servers) sends nothing the second time. A row found in sending means
// the process stopped while asking Twilio: we cannot know whether Twilio
// took it, so it is marked unknown and never sent again (a member getting
// the same text twice is worse than staff re-sending one by hand).

// queueName is the River queue for texts.
const queueName = "sms"

// busyFor is how recently a member must have texted in another survey for
// an invitation to wait rather than start.
const busyFor = 30 * time.Minute

// SenderConfig says how fast, when and from where texts go.
type SenderConfig struct {
	// From is the sender used when a survey has no number of its own: a
	// Twilio number (+447700900123) or a Messaging Service SID (MG...).
	From string
	// Rate is how many texts a second one sender sends, across all servers.
	// Default 1 (what Twilio allows a long code).
	Rate float64
	// Quiet is when no text starts. Default 21:00-08:00 Europe/London.
	Quiet QuietHours
	// ReminderAfter is how long after someone's last text a survey they
	// stopped in the middle of is reminded, once. 0: no reminders (and no
	// looking for them: the send command runs with 0).
	ReminderAfter time.Duration
	// ReminderEvery is how often to look for people to remind. Default 1m.
	ReminderEvery time.Duration
	// SessionTTL is the SMS handler's SessionTTL. Default 72h.
	SessionTTL time.Duration
	// RetryAfter is the first wait after Twilio was busy or down (429, 5xx);
	// each further try waits twice as long, up to 30 minutes. Default 30s.
	RetryAfter time.Duration
	// MaxAttempts is how many times a text is tried. Default 10.
	MaxAttempts int
	// Workers is how many texts one process has in flight. Default: enough
	// for the rate.
	Workers int
	// Org names the organisation in reminders.
	Org Org
	// Alerts are the safeguarding alerts about new worries (safeguarding.go).
	Alerts AlertConfig
}

// SenderDeps are what a Sender is built from.
type SenderDeps struct {
	DB      *store.DB
	Redis   *store.Redis
	Phones  *store.Phones
	Catalog *store.Catalog
	Texter  *Texter
	Log     *slog.Logger
	// Now is the clock for quiet hours and reminders; default time.Now.
	Now func() time.Time
	// Outcome, if set, is told how each text ended (sent, opted_out,
	// skipped, failed, unknown), for metrics.
	Outcome func(status string)
	// Jobs, if set, are other durable jobs run by the same job queue
	// (River enqueues periodic jobs from one client per database only).
	Jobs *Jobs
}

// Jobs are other packages' durable jobs that share the sender's job queue.
type Jobs struct {
	Queue    string               // their River queue
	Workers  int                  // how many run at once; default 1
	Register func(*river.Workers) // adds their workers
	Periodic []*river.PeriodicJob // and what runs on a schedule
}

// Sender sends invitations and reminders through durable jobs.
type Sender struct {
	SenderDeps
	cfg      SenderConfig
	queue    *store.Queue
	sessions *store.SMSSessions

	// accountBad is closed the first time Twilio refuses our account;
	// accountErr is that refusal.
	accountBad  chan struct{}
	accountOnce sync.Once
	accountErr  atomic.Pointer[SendError]
	// invited holds the batches this Sender queued (Invite): a refusal of
	// another batch's sending number is not this process's problem.
	invited sync.Map
}

// NewSender makes a Sender. Call Start to send (the send command and the
// server both do); Invite only queues.
func NewSender(d SenderDeps, cfg SenderConfig) (*Sender, error) {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if cfg.Rate <= 0 {
		cfg.Rate = 1
	}
	if cfg.Quiet.Loc == nil && cfg.Quiet.Start == 0 && cfg.Quiet.End == 0 {
		loc, err := time.LoadLocation("Europe/London")
		if err != nil {
			return nil, err
		}
		cfg.Quiet = hours.DefaultQuiet(loc)
	}
	if cfg.ReminderEvery <= 0 {
		cfg.ReminderEvery = time.Minute
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 72 * time.Hour
	}
	if cfg.RetryAfter <= 0 {
		cfg.RetryAfter = 30 * time.Second
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 10
	}
	if cfg.Workers <= 0 {
		cfg.Workers = min(20, max(2, int(math.Ceil(cfg.Rate*3))))
	}
	if cfg.Org.Name == "" {
		cfg.Org.Name = "Have Your Say"
	}
	if cfg.Alerts.RetryAfter <= 0 {
		cfg.Alerts.RetryAfter = time.Second
	}
	s := &Sender{SenderDeps: d, cfg: cfg, accountBad: make(chan struct{}),
		sessions: store.NewSMSSessions(d.Redis, cfg.SessionTTL)}
	workers := river.NewWorkers()
	river.AddWorker(workers, &sendWorker{s: s})
	river.AddWorker(workers, &reminderScanWorker{s: s})
	river.AddWorker(workers, &alertWorker{s: s})
	rc := &river.Config{
		Queues:     map[string]river.QueueConfig{queueName: {MaxWorkers: cfg.Workers}, alertQueue: {MaxWorkers: 2}},
		Workers:    workers,
		JobTimeout: 2 * time.Minute,
		// A process killed mid-send leaves its job running: pick it up
		// after 10 minutes (not River's hour), so the list finishes
		// and the text is marked "unknown", never sent twice.
		RescueStuckJobsAfter: 10 * time.Minute,
		Logger:               slog.New(atLeast{d.Log.Handler(), slog.LevelWarn}).With("part", "river"),
	}
	if cfg.ReminderAfter > 0 {
		rc.PeriodicJobs = []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(cfg.ReminderEvery),
			func() (river.JobArgs, *river.InsertOpts) { return reminderScanArgs{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true})}
	}
	if j := d.Jobs; j != nil {
		j.Register(workers)
		rc.Queues[j.Queue] = river.QueueConfig{MaxWorkers: max(1, j.Workers)}
		rc.PeriodicJobs = append(rc.PeriodicJobs, j.Periodic...)
	}
	q, err := store.NewQueue(d.DB, rc)
	if err != nil {
		return nil, err
	}
	s.queue = q
	if len(cfg.Alerts.To) > 0 {
		q.AlertWorries(s.alertJobs) // each new worry queues its alerts
	}
	return s, nil
}

// atLeast drops records below a level: River reports routine progress at
// info, which would drown the server's own logs.
type atLeast struct {
	slog.Handler
	min slog.Level
}

func (a atLeast) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= a.min && a.Handler.Enabled(ctx, l)
}

func (a atLeast) WithAttrs(attrs []slog.Attr) slog.Handler {
	return atLeast{a.Handler.WithAttrs(attrs), a.min}
}

func (a atLeast) WithGroup(name string) slog.Handler {
	return atLeast{a.Handler.WithGroup(name), a.min}
}

// Start begins sending queued texts (and, with reminders on, looking for
// people to remind) until Stop or until ctx ends.
func (s *Sender) Start(ctx context.Context) error { return s.queue.Start(ctx) }

// Stop stops taking new texts and waits for those in flight (or for ctx).
func (s *Sender) Stop(ctx context.Context) error { return s.queue.Stop(ctx) }

// Queue is the job queue, for the other jobs that share it (Jobs).
func (s *Sender) Queue() *store.Queue { return s.queue }

// Config returns the configuration with defaults filled in.
func (s *Sender) Config() SenderConfig { return s.cfg }

// AccountProblem returns a channel that is closed the first time Twilio
// refuses this process's account details (a wrong auth token, a suspended
// account) or the number it sends from: no text from that sender can go
// until staff fix it. The texts stay queued; AccountError says what Twilio
// refused.
func (s *Sender) AccountProblem() <-chan struct{} { return s.accountBad }

// AccountError is the first refusal of our account (or sender) by Twilio
// in this process, or nil. Its Reason is a sentence for staff.
func (s *Sender) AccountError() *SendError { return s.accountErr.Load() }

// Held lists a batch's texts kept queued because Twilio refused them for a
// reason of our own setup (the account, the number we send from, a country
// not switched on, a trial account's unverified number), by line. Each
// row's Reason says what to fix and ErrorCode is Twilio's code. They are
// tried again later, and at once when the same list is sent again.
func (s *Sender) Held(ctx context.Context, batch string) ([]store.Outbound, error) {
	return s.DB.HeldOutbound(ctx, batch, holdCodes())
}

func (s *Sender) noteAccountProblem(se *SendError, batch string) {
	if FromRefused(se.Code) {
		// Only texts from one number are refused: a concern of the lists
		// sent from it, not of every list this process watches.
		if _, mine := s.invited.Load(batch); !mine {
			return
		}
	}
	s.accountOnce.Do(func() {
		s.accountErr.Store(se)
		close(s.accountBad)
	})
}

// Recipient is one number to invite, in E.164, with its line in the list.
type Recipient struct {
	Number string
	Line   int
}

// Invitation is a list of people to invite to a survey.
type Invitation struct {
	SurveyID string
	People   []Recipient
	// Batch names the list. Empty: made from the survey and the numbers, so
	// sending the same list again texts nobody twice.
	Batch string
	// From overrides the sender (default: the survey's first number, else
	// SenderConfig.From).
	From string
	// AnyTime sends during quiet hours too.
	AnyTime bool
}

// InviteResult says what Invite queued.
type InviteResult struct {
	Batch   string
	Survey  *survey.Survey
	Version int
	Sender  string
	Added   int // new in this batch
	Already int // already in the batch from an earlier run: not texted again
	// Resumed counts those of Already that an earlier run left still to be
	// texted (Twilio refused our account, the command was stopped): they
	// are sent now.
	Resumed int
	// NotBefore is when quiet hours end, if they have started.
	NotBefore time.Time
}

// ErrNoSurvey means the survey to invite people to does not exist.
var ErrNoSurvey = errors.New("there is no survey with that id")

// Invite queues an invitation for each person, durably: once Invite returns
// the texts will go even if this process stops.
func (s *Sender) Invite(ctx context.Context, inv Invitation) (InviteResult, error) {
	sv, version, ok := s.Catalog.Current(inv.SurveyID)
	if !ok {
		return InviteResult{}, fmt.Errorf("%w: %q (`haveyoursay survey list` shows the surveys)", ErrNoSurvey, inv.SurveyID)
	}
	res := InviteResult{Survey: sv, Version: version, Sender: s.senderFor(sv, inv.From)}
	if res.Sender == "" {
		return res, errors.New("there is no number to send from: give the survey a number (start: numbers:), or set TWILIO_SMS_FROM, or use --from")
	}
	if !strings.HasPrefix(res.Sender, "+") && !strings.HasPrefix(res.Sender, "MG") {
		return res, fmt.Errorf("the sender %q should be a phone number starting with + or a Messaging Service SID starting with MG", res.Sender)
	}
	people := make([]store.NewOutbound, 0, len(inv.People))
	seen := map[string]bool{}
	var hashes []string
	for _, p := range inv.People {
		if !e164(p.Number) {
			return res, fmt.Errorf("line %d: %q is not a number in international form (+44...): read lists with ReadList", p.Line, p.Number)
		}
		if seen[p.Number] {
			continue
		}
		seen[p.Number] = true
		people = append(people, store.NewOutbound{Person: s.person(p.Number), Line: p.Line})
		hashes = append(hashes, s.Phones.HashString(p.Number))
	}
	res.Batch = inv.Batch
	if res.Batch == "" {
		sort.Strings(hashes)
		sum := sha256.Sum256([]byte(strings.Join(hashes, ",")))
		res.Batch = sv.ID + "-" + hex.EncodeToString(sum[:5])
	}
	s.invited.Store(res.Batch, true)
	if until, quiet := s.cfg.Quiet.Until(s.Now()); quiet && !inv.AnyTime {
		res.NotBefore = until
	}
	b := store.OutboundBatch{ID: res.Batch, Kind: "invite", SurveyID: sv.ID, SurveyVersion: version,
		Sender: res.Sender, AnyTime: inv.AnyTime, NotBefore: res.NotBefore}
	// Texts an earlier run of this list left pending go now; then the new
	// people are added.
	resumed, err := s.queue.ResumeOutbound(ctx, res.Batch, s.sendJob)
	if err != nil {
		return res, err
	}
	res.Resumed = resumed
	res.Added, err = s.queue.QueueOutbound(ctx, b, people, s.sendJob)
	res.Already = len(people) - res.Added
	return res, err
}

func e164(n string) bool {
	if len(n) < 8 || len(n) > 16 || n[0] != '+' {
		return false
	}
	for _, r := range n[1:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// sendJob is the job that sends outbound row id.
func (s *Sender) sendJob(id int64, notBefore time.Time) river.InsertManyParams {
	return river.InsertManyParams{Args: sendArgs{ID: id},
		InsertOpts: &river.InsertOpts{ScheduledAt: notBefore, MaxAttempts: s.cfg.MaxAttempts}}
}

// Progress counts a batch's texts by status.
func (s *Sender) Progress(ctx context.Context, batch string) (store.BatchProgress, error) {
	return s.DB.OutboundProgress(ctx, batch, time.Now().Add(-5*time.Minute))
}

// Problems lists a batch's texts that were not sent.
func (s *Sender) Problems(ctx context.Context, batch string) ([]store.Outbound, error) {
	return s.DB.OutboundProblems(ctx, batch)
}

func (s *Sender) senderFor(sv *survey.Survey, override string) string {
	switch {
	case override != "":
		return override
	case sv != nil && len(sv.Numbers) > 0:
		return sv.Numbers[0]
	}
	return s.cfg.From
}

func (s *Sender) person(number string) store.Person {
	return store.Person{Hash: s.Phones.Hash(number), Enc: s.Phones.Encrypt(number), Masked: store.Mask(number)}
}

// ---- the send job ----

type sendArgs struct {
	ID int64 `json:"id"` // outbound row
}

func (sendArgs) Kind() string                 { return "hys_sms_send" }
func (sendArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: queueName} }

type sendWorker struct {
	river.WorkerDefaults[sendArgs]
	s *Sender
}

func (w *sendWorker) Work(ctx context.Context, job *river.Job[sendArgs]) error {
	last := job.Attempt >= job.MaxAttempts
	err := w.s.send(ctx, job.Args.ID, last)
	var snooze *river.JobSnoozeError
	if err != nil && last && !errors.As(err, &snooze) {
		// River gives up on the job now: say so on the row, so the list
		// does not wait for it for ever.
		dctx, cancel := detach(ctx)
		defer cancel()
		if o, gerr := w.s.DB.GetOutbound(dctx, job.Args.ID); gerr == nil {
			w.s.Log.Error("giving up on a text", "outbound", job.Args.ID, "err", err)
			status, reason := store.OutFailed, "Something went wrong on our side every time we tried (the server's log says what)."
			if o.Status == store.OutSending {
				status, reason = store.OutUnknown, "We could not tell if this text was sent, so we did not send it again."
			}
			w.s.finish(dctx, o.ID, status, reason, 0, status == store.OutFailed)
		}
	}
	return err
}

// NextRetry backs off after Twilio was busy or down: RetryAfter, doubling,
// at most 30 minutes, with some jitter so a batch does not retry in step.
func (w *sendWorker) NextRetry(job *river.Job[sendArgs]) time.Time {
	return time.Now().Add(w.s.backoff(job.Attempt))
}

// backoff is how long to wait after the attempt-th try failed.
func (s *Sender) backoff(attempt int) time.Duration {
	d := s.cfg.RetryAfter << min(max(attempt-1, 0), 16)
	d = min(d, 30*time.Minute)
	return d + time.Duration(rand.Int64N(int64(d)/5+1))
}

// sendJob is one text being sent.
type sendJob struct {
	o      store.Outbound
	number string
	hash   string // hex, for Redis keys
	person store.Person
	body   string
	conv   *store.ConversationStarted // invitations: the conversation it starts
	sess   *session                   // invitations: the session to save before sending
}

// send works one outbound row. last is set on the job's last attempt.
func (s *Sender) send(ctx context.Context, id int64, last bool) error {
	o, err := s.DB.GetOutbound(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	switch o.Status {
	case store.OutPending:
	case store.OutSending:
		// A run before this one stopped between asking Twilio and hearing back.
		s.Log.Warn("a text was being sent when its process stopped; not sending it again", "outbound", o.ID, "to", o.PhoneMasked)
		return s.finish(ctx, o.ID, store.OutUnknown, "We could not tell if this text was sent, so we did not send it again.", 0, false)
	default:
		return nil
	}
	now := s.Now()
	if until, quiet := s.cfg.Quiet.Until(now); quiet && !o.AnyTime {
		if err := s.DB.OutboundWaiting(ctx, o.ID, until); err != nil {
			return err
		}
		return river.JobSnooze(until.Sub(now))
	}
	number, err := s.Phones.Decrypt(o.PhoneEnc)
	if err != nil {
		return s.finish(ctx, o.ID, store.OutFailed, "The number cannot be read with this HYS_SECRET_KEY.", 0, false)
	}
	j := &sendJob{o: o, number: number, hash: s.Phones.HashString(number),
		person: store.Person{Hash: o.PhoneHash, Enc: o.PhoneEnc, Masked: o.PhoneMasked}}
	if out, err := s.optedOut(ctx, j); err != nil || out {
		if err != nil {
			return err // never text someone we cannot check: try later
		}
		return s.finish(ctx, o.ID, store.OutOptedOut, "They asked for no more texts (STOP).", 0, true)
	}
	needs, err := s.DB.ParticipantNeeds(ctx, o.PhoneHash)
	if err != nil {
		return err
	}
	if needs.VoiceOnly {
		return s.finish(ctx, o.ID, store.OutSkipped, "They prefer the phone to texts.", 0, true)
	}
	if o.Kind == "reminder" {
		done, err := s.prepareReminder(ctx, j)
		if err != nil || done {
			return err
		}
	} else if o.Kind == "action" {
		done, err := s.prepareActionText(ctx, j)
		if err != nil || done {
			return err
		}
	} else {
		sv, err := s.Catalog.Version(ctx, o.SurveyID, o.SurveyVersion)
		if err != nil {
			return err
		}
		reply, ss := survey.Start(sv, survey.SMS, needs)
		ss.SurveyID, ss.Version = sv.ID, o.SurveyVersion
		conv := o.ConversationID
		if conv == "" {
			conv = newID("sms-")
		}
		j.sess = &session{Conversation: conv, Survey: ss}
		j.conv = &store.ConversationStarted{ID: conv, Person: j.person, SurveyID: sv.ID, Version: o.SurveyVersion,
			Channel: "sms", Language: ss.Lang}
		// people must know how to say no
		j.body = reply.Text() + "\n" + sv.Phrase(ss.Lang, "sms-invite-stop", "org", s.cfg.Org.Name)
	}
	if err := s.waitTurn(ctx, o.Sender); err != nil {
		return err
	}
	claimed, err := s.claim(ctx, j)
	if err != nil || !claimed {
		return err
	}
	return s.deliver(ctx, j, last)
}

// finish ends a row that was not sent (or may not have been).
func (s *Sender) finish(ctx context.Context, id int64, status, reason string, code int, dropConversation bool) error {
	s.note(status)
	return s.DB.FinishOutbound(ctx, id, status, reason, code, dropConversation)
}

func (s *Sender) note(status string) {
	if s.Outcome != nil {
		s.Outcome(status)
	}
}

// optedOut checks both places a STOP is kept: Redis (set at once by the
// webhook) and Postgres.
func (s *Sender) optedOut(ctx context.Context, j *sendJob) (bool, error) {
	out, err := s.sessions.OptedOut(ctx, j.hash)
	if err != nil || out {
		return out, err
	}
	return s.DB.OptedOut(ctx, j.o.PhoneHash)
}

// prepareReminder builds a reminder's text from the member's live session.
// done means the row was finished without sending.
func (s *Sender) prepareReminder(ctx context.Context, j *sendJob) (done bool, err error) {
	cur, _, found, err := s.sessions.Get(ctx, j.hash)
	if err != nil {
		return false, err
	}
	if !found || cur.Conversation != j.o.ConversationID || cur.Survey.Stage == survey.StageDone {
		return true, s.finish(ctx, j.o.ID, store.OutSkipped, "The conversation had ended.", 0, false)
	}
	if cur.Paused {
		// They told us something worrying: the survey waits for them to
		// ask to carry on, never for us to nudge them (safeguarding.go).
		return true, s.finish(ctx, j.o.ID, store.OutSkipped, "They told us something worrying; the survey waits until they want to carry on.", 0, false)
	}
	sv, err := s.Catalog.Version(ctx, cur.Survey.SurveyID, cur.Survey.Version)
	if err != nil {
		return false, err
	}
	again, _ := survey.Step(sv, cur.Survey, survey.Input{Text: "*"})
	j.body = sv.Phrase(cur.Survey.Lang, "sms-reminder", "org", s.cfg.Org.Name) + "\n" + again.Text()
	return false, nil
}

// waitTurn keeps to the sender's rate across all servers.
func (s *Sender) waitTurn(ctx context.Context, sender string) error {
	interval := time.Duration(float64(time.Second) / s.cfg.Rate)
	wait, err := s.Redis.ReserveSlot(ctx, sender, interval)
	if err != nil {
		return err
	}
	if wait > time.Minute {
		// Far behind (many servers, a long list): come back rather than
		// hold a worker.
		return river.JobSnooze(wait)
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// claim moves the row to sending and, for an invitation, starts the
// conversation and saves the session a reply will continue. It holds the
// member's lock, as the webhook does, so a text arriving now cannot
// interleave.
func (s *Sender) claim(ctx context.Context, j *sendJob) (bool, error) {
	if j.sess == nil {
		return s.DB.ClaimOutbound(ctx, j.o.ID, nil, s.Now())
	}
	unlock, err := s.sessions.Lock(ctx, j.hash)
	if err != nil {
		return false, err
	}
	defer unlock()
	cur, idle, found, err := s.sessions.Get(ctx, j.hash)
	if err != nil {
		return false, err
	}
	if found && cur.Conversation != j.sess.Conversation {
		if cur.Survey.SurveyID == j.o.SurveyID {
			return false, s.finish(ctx, j.o.ID, store.OutSkipped, "They were already answering this survey.", 0, true)
		}
		if idle < busyFor {
			// In the middle of another survey: do not interrupt.
			return false, river.JobSnooze(busyFor - idle)
		}
		// Stopped answering another survey a while ago: keep what they said
		// as a partial response, as a new keyword would.
		if err := s.DB.EndConversation(ctx, cur.Conversation, "partial", s.Now()); err != nil {
			return false, err
		}
	}
	claimed, err := s.DB.ClaimOutbound(ctx, j.o.ID, j.conv, s.Now())
	if err != nil || !claimed {
		return false, err
	}
	if err := s.sessions.Save(ctx, j.hash, *j.sess); err != nil {
		dctx, cancel := detach(ctx)
		defer cancel()
		return false, errors.Join(err, s.DB.OutboundRetry(dctx, j.o.ID, "Redis did not answer.", 0))
	}
	return true, nil
}

// deliver calls Twilio for a claimed row and records what happened. It
// works on after ctx ends: the text may be on its way.
func (s *Sender) deliver(ctx context.Context, j *sendJob, last bool) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	sid, err := s.Texter.Send(j.o.Sender, j.number, j.body)
	if err == nil {
		convID := j.o.ConversationID
		if j.sess != nil {
			convID = j.sess.Conversation
		}
		msg := store.MessageLogged{DedupeKey: sid, Direction: "out", MessageSid: sid, Person: j.person,
			ConversationID: convID, Body: j.body, Status: "queued"}
		if err := s.DB.OutboundSent(ctx, j.o.ID, msg, s.Now()); err != nil {
			// Sent, but not recorded: the next run finds the row in
			// sending and marks it unknown, never sending it again.
			s.Log.Error("a text was sent but could not be recorded", "outbound", j.o.ID, "sid", sid, "err", err)
			return err
		}
		s.note(store.OutSent)
		return nil
	}
	var se *SendError
	if !errors.As(err, &se) {
		se = &SendError{Outcome: Unknown, Err: err}
	}
	s.Log.Warn("Twilio did not take a text", "outbound", j.o.ID, "to", j.o.PhoneMasked, "err", se)
	invite := j.sess != nil
	switch se.Outcome {
	case OptedOut:
		// They texted STOP to Twilio: remember it in both places.
		if err := s.sessions.SetOptedOut(ctx, j.hash, true); err != nil {
			s.Log.Error("recording an opt-out in Redis", "err", err)
		}
		if err := s.DB.RecordOptOut(ctx, j.person, s.Now()); err != nil {
			s.Log.Error("recording an opt-out in Postgres", "err", err)
		}
		s.forgetSession(ctx, j, true)
		return s.finish(ctx, j.o.ID, store.OutOptedOut, "They asked Twilio for no more texts (STOP).", se.Code, invite)
	case Retry:
		if last {
			s.forgetSession(ctx, j, invite)
			return s.finish(ctx, j.o.ID, store.OutFailed,
				fmt.Sprintf("Twilio was busy or down every time we tried (%d tries).", s.cfg.MaxAttempts), se.Code, invite)
		}
		if err := s.DB.OutboundRetry(ctx, j.o.ID, "Twilio was busy; trying again.", se.Code); err != nil {
			return errors.Join(se, err)
		}
		return se
	case AccountProblem, SetupProblem:
		// Our problem, not the member's: the text stays queued, tried
		// again after a back-off for as long as it takes (a snooze never
		// uses up the job's attempts), and sent at once when the list is
		// run again. Twilio refused it, so trying again texts nobody twice.
		// An account or sender problem stops every text from this sender,
		// so it is announced at once; a setup problem (a country, a trial
		// account's unverified number) holds only some texts while the
		// rest go, and Held lists them.
		s.forgetSession(ctx, j, invite)
		if err := s.DB.OutboundRetry(ctx, j.o.ID, se.Reason(), se.Code); err != nil {
			return errors.Join(se, err)
		}
		if se.Outcome == AccountProblem {
			s.noteAccountProblem(se, j.o.BatchID)
		}
		return river.JobSnooze(s.backoff(j.o.Attempts + 1))
	case Rejected:
		s.forgetSession(ctx, j, invite)
		return s.finish(ctx, j.o.ID, store.OutFailed, se.Reason(), se.Code, invite)
	default:
		// The member may have the text: keep the conversation for their reply.
		return s.finish(ctx, j.o.ID, store.OutUnknown,
			"We could not tell if Twilio sent this text, so we did not send it again.", 0, false)
	}
}

// forgetSession removes the session the job saved (when it is still the
// one in Redis), so the number is not left mid-survey.
func (s *Sender) forgetSession(ctx context.Context, j *sendJob, do bool) {
	if !do {
		return
	}
	want := j.o.ConversationID
	if j.sess != nil {
		want = j.sess.Conversation
	}
	if err := s.sessions.Forget(ctx, j.hash, want); err != nil {
		s.Log.Error("forgetting the session of a text that did not go", "outbound", j.o.ID, "err", err)
	}
}

// ---- reminders ----

type reminderScanArgs struct{}

func (reminderScanArgs) Kind() string { return "hys_sms_reminder_scan" }
func (reminderScanArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueName, UniqueOpts: river.UniqueOpts{ByPeriod: 30 * time.Second}}
}

type reminderScanWorker struct {
	river.WorkerDefaults[reminderScanArgs]
	s *Sender
}

func (w *reminderScanWorker) Work(ctx context.Context, _ *river.Job[reminderScanArgs]) error {
	_, err := w.s.RemindNow(ctx)
	return err
}

// RemindNow queues a reminder for everyone who stopped in the middle of a
// text conversation more than ReminderAfter ago (once per conversation),
// and returns how many it queued. The server runs it every ReminderEvery.
func (s *Sender) RemindNow(ctx context.Context) (int, error) {
	if s.cfg.ReminderAfter <= 0 {
		return 0, nil
	}
	now := s.Now()
	cands, err := s.DB.ReminderCandidates(ctx, now.Add(-s.cfg.ReminderAfter), now.Add(-s.cfg.SessionTTL), 500)
	if err != nil {
		return 0, err
	}
	var notBefore time.Time
	if until, quiet := s.cfg.Quiet.Until(now); quiet {
		notBefore = until
	}
	queued := 0
	for _, c := range cands {
		sv, _ := s.Catalog.Version(ctx, c.SurveyID, c.SurveyVersion)
		sender := s.senderFor(sv, "")
		if sender == "" {
			s.Log.Warn("no number to send a reminder from: set TWILIO_SMS_FROM", "conversation", c.ConversationID)
			continue
		}
		b := store.OutboundBatch{ID: "reminder:" + c.ConversationID, Kind: "reminder", SurveyID: c.SurveyID,
			SurveyVersion: c.SurveyVersion, Sender: sender, NotBefore: notBefore}
		n, err := s.queue.QueueOutbound(ctx, b, []store.NewOutbound{{Person: c.Person, ConversationID: c.ConversationID}}, s.sendJob)
		queued += n
		if err != nil {
			return queued, err
		}
	}
	return queued, nil
}
