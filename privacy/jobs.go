package privacy

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/haveyoursay/haveyoursay/sms"
	"github.com/haveyoursay/haveyoursay/store"
)

// Queue is the River queue of the privacy jobs.
const Queue = "privacy"

// Retention applies each survey's retention and logs what it deleted.
type Retention struct {
	DB       *store.DB
	Defaults store.RetentionDefaults
	Log      *slog.Logger
	Now      func() time.Time // nil: time.Now
}

// Run applies retention once, as of now, and logs the counts.
func (r *Retention) Run(ctx context.Context) (store.RetentionCounts, error) {
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	log := r.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	n, err := r.DB.ApplyRetention(ctx, now(), r.Defaults)
	if err != nil {
		log.Error("retention stopped part way; it runs again tomorrow", "err", err)
		return n, err
	}
	log.Info("retention: deleted what is older than kept", "conversations", n.Conversations, "answers", n.Answers,
		"messages", n.Messages, "call_inputs", n.CallInputs, "recordings", n.Recordings, "transcripts", n.Transcripts,
		"callbacks", n.Callbacks, "notes", n.Notes, "flags", n.Flags, "outbound", n.Outbound, "people", n.People,
		"other", n.Other, "twilio_recordings_queued", n.TwilioQueued)
	return n, nil
}

// forgetArgs asks for request ID to be carried out now.
type forgetArgs struct {
	ID int64 `json:"id"`
}

func (forgetArgs) Kind() string { return "hys_privacy_forget" }
func (forgetArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: Queue, MaxAttempts: 20}
}

type forgetWorker struct {
	river.WorkerDefaults[forgetArgs]
	f *Forgetter
}

func (w *forgetWorker) Work(ctx context.Context, job *river.Job[forgetArgs]) error {
	_, err := w.f.Do(ctx, job.Args.ID)
	return err
}

// sweepArgs carries out requests a job missed and deletes Twilio copies
// of recordings that failed before.
type sweepArgs struct{}

func (sweepArgs) Kind() string { return "hys_privacy_sweep" }
func (sweepArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: Queue, MaxAttempts: 1, UniqueOpts: river.UniqueOpts{ByPeriod: time.Minute}}
}

type sweepWorker struct {
	river.WorkerDefaults[sweepArgs]
	f *Forgetter
}

func (w *sweepWorker) Work(ctx context.Context, _ *river.Job[sweepArgs]) error {
	_, err := w.f.DoPending(ctx)
	w.f.DeleteAtTwilio(ctx, 500)
	return err
}

// retentionArgs runs retention: daily.
type retentionArgs struct{}

func (retentionArgs) Kind() string { return "hys_privacy_retention" }
func (retentionArgs) InsertOpts() river.InsertOpts {
	// Once a day however often the server restarts.
	return river.InsertOpts{Queue: Queue, MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByPeriod: 20 * time.Hour}}
}

type retentionWorker struct {
	river.WorkerDefaults[retentionArgs]
	r *Retention
	f *Forgetter
}

func (w *retentionWorker) Work(ctx context.Context, _ *river.Job[retentionArgs]) error {
	if _, err := w.r.Run(ctx); err != nil {
		return err
	}
	w.f.DeleteAtTwilio(ctx, 5000)
	return nil
}

// Jobs are the privacy jobs for the sender's job queue: an erasure as soon
// as it is asked for, a sweep every ten minutes, retention every day.
func Jobs(f *Forgetter, r *Retention) *sms.Jobs {
	return &sms.Jobs{
		Queue:   Queue,
		Workers: 1,
		Register: func(w *river.Workers) {
			river.AddWorker(w, &forgetWorker{f: f})
			river.AddWorker(w, &sweepWorker{f: f})
			river.AddWorker(w, &retentionWorker{r: r, f: f})
		},
		Periodic: []*river.PeriodicJob{
			river.NewPeriodicJob(river.PeriodicInterval(10*time.Minute),
				func() (river.JobArgs, *river.InsertOpts) { return sweepArgs{}, nil },
				&river.PeriodicJobOpts{ID: "privacy-sweep", RunOnStart: true}),
			river.NewPeriodicJob(river.PeriodicInterval(24*time.Hour),
				func() (river.JobArgs, *river.InsertOpts) { return retentionArgs{}, nil },
				&river.PeriodicJobOpts{ID: "privacy-retention", RunOnStart: true}),
		},
	}
}

// Requester keeps erasure requests and queues their jobs: what the SMS
// webhook (FORGET) and the dashboard call.
type Requester struct {
	F     *Forgetter
	Queue func() *store.Queue // the sender's queue (made after this)
	Log   *slog.Logger
}

// Forget keeps a request to erase number and queues its job. A request
// kept whose job could not be queued is still done, by the next sweep.
func (q *Requester) Forget(ctx context.Context, number, source, by string, confirm bool) (int64, error) {
	id, err := q.F.Request(ctx, number, source, by, confirm)
	if err != nil {
		return 0, err
	}
	q.queue(ctx, id)
	return id, nil
}

// ForgetMember is Forget for a member staff are looking at.
func (q *Requester) ForgetMember(ctx context.Context, memberID int64, by string, confirm bool) (int64, error) {
	id, err := q.F.DB.RequestForgetMember(ctx, memberID, by, confirm)
	if err != nil {
		return 0, err
	}
	q.queue(ctx, id)
	return id, nil
}

func (q *Requester) queue(ctx context.Context, id int64) {
	if err := q.Queue().Insert(ctx, forgetArgs{ID: id}, nil); err != nil && q.Log != nil {
		q.Log.Warn("an erasure request is kept but its job was not queued; the next sweep does it", "err", err)
	}
}
