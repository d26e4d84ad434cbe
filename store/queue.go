package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
)

// Queue is the durable job queue: River on Postgres. Other packages define
// their jobs and workers with River's own types and hand them over in a
// river.Config; the client, its transactions and the rows its jobs work on
// stay here.
type Queue struct {
	db     *DB
	client *river.Client[pgx.Tx]
}

// NewQueue makes the job queue for cfg's workers. It runs jobs only after
// Start; without it, it only queues.
func NewQueue(db *DB, cfg *river.Config) (*Queue, error) {
	client, err := river.NewClient(riverpgxv5.New(db.pool), cfg)
	if err != nil {
		return nil, fmt.Errorf("setting up the job queue: %w", err)
	}
	return &Queue{db: db, client: client}, nil
}

// Start begins working jobs until Stop or until ctx ends.
func (q *Queue) Start(ctx context.Context) error { return q.client.Start(ctx) }

// Stop stops taking new jobs and waits for those in flight (or for ctx).
func (q *Queue) Stop(ctx context.Context) error { return q.client.Stop(ctx) }

// OutboundJob makes the job that sends outbound row id, not before
// notBefore (zero: now).
type OutboundJob func(id int64, notBefore time.Time) river.InsertManyParams

// outboundChunk is how many rows (and jobs) one statement adds.
const outboundChunk = 1000

// QueueOutbound adds people to a batch and a job (made by job) for each
// row it adds, in one transaction: a row exists if and only if its job
// does, and the row keeps its job's id. People already in the batch are
// left alone (so running the same list again texts nobody twice), and so
// are reminders already made for a conversation. It returns how many rows
// it added.
func (q *Queue) QueueOutbound(ctx context.Context, b OutboundBatch, people []NewOutbound, job OutboundJob) (int, error) {
	added := 0
	err := pgx.BeginFunc(ctx, q.db.pool, func(tx pgx.Tx) error {
		added = 0
		for start := 0; start < len(people); start += outboundChunk {
			ids, err := insertOutbound(ctx, tx, b, people[start:min(start+outboundChunk, len(people))])
			if err != nil {
				return err
			}
			if err := q.addJobs(ctx, tx, ids, b.NotBefore, job); err != nil {
				return err
			}
			added += len(ids)
		}
		return nil
	})
	return added, err
}

// outboundMeta is the metadata each send job carries: the row it sends.
// It tells the inserted jobs apart, and names the row in River's own tools.
type outboundMeta struct {
	Outbound int64 `json:"outbound_id"`
}

// addJobs inserts a job for each row and notes its id on the row.
func (q *Queue) addJobs(ctx context.Context, tx pgx.Tx, ids []int64, notBefore time.Time, job OutboundJob) error {
	if len(ids) == 0 {
		return nil
	}
	params := make([]river.InsertManyParams, len(ids))
	for i, id := range ids {
		p := job(id, notBefore)
		opts := river.InsertOpts{}
		if p.InsertOpts != nil {
			opts = *p.InsertOpts
		}
		meta := map[string]any{}
		if len(opts.Metadata) > 0 {
			if err := json.Unmarshal(opts.Metadata, &meta); err != nil {
				return fmt.Errorf("reading a send job's metadata: %w", err)
			}
		}
		meta["outbound_id"] = id
		b, err := json.Marshal(meta)
		if err != nil {
			return err
		}
		opts.Metadata = b
		p.InsertOpts = &opts
		params[i] = p
	}
	res, err := q.client.InsertManyTx(ctx, tx, params)
	if err != nil {
		return err
	}
	rows := make([]int64, 0, len(res))
	jobs := make([]int64, 0, len(res))
	for _, r := range res {
		var m outboundMeta
		if err := json.Unmarshal(r.Job.Metadata, &m); err != nil || m.Outbound == 0 {
			return fmt.Errorf("the job queue returned job %d without its text's id", r.Job.ID)
		}
		rows, jobs = append(rows, m.Outbound), append(jobs, r.Job.ID)
	}
	_, err = tx.Exec(ctx, `UPDATE outbound o SET job_id = u.job FROM unnest($1::bigint[], $2::bigint[]) AS u (id, job)
		WHERE o.id = u.id`, rows, jobs)
	return err
}

// ResumeOutbound makes the texts of a batch that an earlier run left
// pending go now: their jobs may be waiting out a long back-off (after
// Twilio refused our account), and a job River gave up on (or one the row
// lost) is made again with job. Texts waiting for quiet hours to end keep
// waiting. It returns how many texts of the batch are pending.
func (q *Queue) ResumeOutbound(ctx context.Context, batch string, job OutboundJob) (int, error) {
	pending := 0
	err := pgx.BeginFunc(ctx, q.db.pool, func(tx pgx.Tx) error {
		type row struct {
			id    int64
			later bool
			job   *int64
		}
		rows, err := tx.Query(ctx, `SELECT id, coalesce(not_before > now(), false), job_id
			FROM outbound WHERE batch_id = $1 AND status = 'pending' ORDER BY id`, batch)
		if err != nil {
			return err
		}
		ps, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
			var p row
			err := r.Scan(&p.id, &p.later, &p.job)
			return p, err
		})
		if err != nil {
			return err
		}
		pending = len(ps)
		for start := 0; start < len(ps); start += outboundChunk {
			chunk := ps[start:min(start+outboundChunk, len(ps))]
			var ids []int64
			for _, p := range chunk {
				if p.job != nil {
					ids = append(ids, *p.job)
				}
			}
			state := map[int64]string{}
			if len(ids) > 0 {
				res, err := q.client.JobListTx(ctx, tx, river.NewJobListParams().IDs(ids...).First(len(ids)))
				if err != nil {
					return err
				}
				for _, j := range res.Jobs {
					state[j.ID] = string(j.State)
				}
			}
			var lost []int64
			for _, p := range chunk {
				s := ""
				if p.job != nil {
					s = state[*p.job]
				}
				switch {
				case s == "" || s == "completed" || s == "cancelled" || s == "discarded":
					lost = append(lost, p.id)
				case !p.later && (s == "scheduled" || s == "retryable"):
					if _, err := q.client.JobRetryTx(ctx, tx, *p.job); err != nil {
						return err
					}
				}
			}
			if err := q.addJobs(ctx, tx, lost, time.Time{}, job); err != nil {
				return err
			}
		}
		return nil
	})
	return pending, err
}

// Insert adds one job (another package's: see sms.Jobs).
func (q *Queue) Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) error {
	_, err := q.client.Insert(ctx, args, opts)
	return err
}
