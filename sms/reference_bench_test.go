package sms_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/twilio/twilio-go/twiml"

	"github.com/haveyoursay/haveyoursay/phonesim"
	"github.com/haveyoursay/haveyoursay/server"
	"github.com/haveyoursay/haveyoursay/store/storetest"
	"github.com/haveyoursay/haveyoursay/webhook"
)

// BenchmarkInboundSMSReference is a yardstick, not our service: the least
// an inbound-text webhook could do and still keep each text, measured on
// this machine in the same way as BenchmarkInboundSMSStored (64 members,
// signed requests from the emulator, the clock stopping when every row is
// in Postgres). Each text: the signature checked, one Redis round trip
// (the member's state), one MULTI (the new state and the event, pushed on
// a Redis list: no file, no fsync, nothing durable if Redis restarts),
// and three rows (the text, a reply and an answer) written by a writer in
// 500-text multi-row INSERTs. No survey, no safeguarding, no consent.
// Compare its stored/s with BenchmarkInboundSMSStored's: the ratio, not
// the figure, says how much our real work costs on a given machine.
func BenchmarkInboundSMSReference(b *testing.B) {
	server.TuneGC(os.Getenv) // as BenchmarkInboundSMSStored runs
	ctx := context.Background()
	db := storetest.DB(b)
	rs := storetest.Redis(b)
	rc := storetest.RedisClient(b, rs)
	pool := storetest.SQL(b, db)
	var pid int64
	if err := pool.QueryRow(ctx, `INSERT INTO participants (phone_hash, phone_enc, phone_masked) VALUES ('\x01', '\x01', 'x') RETURNING id`).Scan(&pid); err != nil {
		b.Fatal(err)
	}
	list := rs.Key("reference", "spool")
	v := webhook.Verifier{AuthToken: token}
	type event struct{ Sid, From, Body string }
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := v.Check(r); err != nil {
			webhook.Refuse(w, err)
			return
		}
		sid, from, body := r.PostForm.Get("MessageSid"), r.PostForm.Get("From"), r.PostForm.Get("Body")
		key := rs.Key("reference", "session", from)
		state, err := rc.Get(r.Context(), key).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		ev, _ := json.Marshal(event{sid, from, body})
		pipe := rc.TxPipeline()
		pipe.Set(r.Context(), key, state+"1", time.Hour)
		pipe.RPush(r.Context(), list, ev)
		if _, err := pipe.Exec(r.Context()); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		doc, _ := twiml.Messages([]twiml.Element{&twiml.MessagingMessage{Body: "Thank you. Text 1, 2 or 3."}})
		w.Header().Set("Content-Type", "text/xml")
		w.Write([]byte(doc))
	})
	srv := httptest.NewServer(handler)
	b.Cleanup(srv.Close)
	v.PublicURL = srv.URL

	// The writer: 500 texts at a time, three rows each, one transaction.
	var stored atomic.Int64
	stop := make(chan struct{})
	writerDone := make(chan error, 1)
	go func() {
		for {
			stopping := false
			select {
			case <-stop:
				stopping = true // what is read now is the last of it
			default:
			}
			raw, err := rc.LRange(ctx, list, 0, 499).Result()
			if err != nil {
				writerDone <- err
				return
			}
			if len(raw) == 0 {
				if stopping {
					writerDone <- nil
					return
				}
				select {
				case <-stop:
				case <-time.After(20 * time.Millisecond):
				}
				continue
			}
			var keys, dirs, bodies []string
			var sids []*string
			var people []int64
			var convs, qs, vals, akeys []string
			for _, s := range raw {
				var e event
				json.Unmarshal([]byte(s), &e)
				sid := e.Sid
				keys, dirs, bodies, sids, people = append(keys, sid, sid+":reply"), append(dirs, "in", "out"),
					append(bodies, e.Body, "Thank you."), append(sids, &sid, nil), append(people, pid, pid)
				convs, qs, vals, akeys = append(convs, "ref-"+e.From), append(qs, "q1"), append(vals, e.Body), append(akeys, sid)
			}
			tx, err := pool.Begin(ctx)
			if err != nil {
				writerDone <- err
				return
			}
			_, err = tx.Exec(ctx, `INSERT INTO messages (dedupe_key, direction, message_sid, participant_id, body, status)
				SELECT k, d, s, p, b, 'received' FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[]) AS x(k, d, s, p, b)
				ON CONFLICT (dedupe_key) DO NOTHING`, keys, dirs, sids, people, bodies)
			if err == nil {
				_, err = tx.Exec(ctx, `INSERT INTO answers (conversation_id, question_id, value, raw, dedupe_key)
					SELECT c, q, v, v, k FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS x(c, q, v, k)
					ON CONFLICT (dedupe_key) DO NOTHING`, convs, qs, vals, akeys)
			}
			if err == nil {
				err = tx.Commit(ctx)
			} else {
				tx.Rollback(ctx)
			}
			if err != nil {
				writerDone <- err
				return
			}
			if err := rc.LTrim(ctx, list, int64(len(raw)), -1).Err(); err != nil {
				writerDone <- err
				return
			}
			stored.Add(int64(len(raw)))
		}
	}()

	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 256
	sim := phonesim.New(phonesim.Config{AccountSID: account, AuthToken: token, WebhookBase: srv.URL,
		HTTPClient: &http.Client{Transport: tr, Timeout: 15 * time.Second}})
	b.ResetTimer()
	start := time.Now()
	failures := textAsMembers(b.N, sim, "+4479")
	answered := time.Since(start)
	close(stop)
	if err := <-writerDone; err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	if got := stored.Load(); got != int64(b.N)-failures {
		b.Fatalf("%d texts stored, want %d", got, int64(b.N)-failures)
	}
	b.ReportMetric(float64(b.N)/answered.Seconds(), "answered/s")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "stored/s")
	b.ReportMetric(float64(failures), "errors")
}
