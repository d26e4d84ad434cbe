package main

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/haveyoursay/haveyoursay/phonesim"
	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/survey"
)

// SIGTERM under load: /readyz turns 503 at once, texts are still answered
// for the drain period (Twilio does not retry a refused text), then serve
// exits cleanly with its spool written to Postgres. Every text answered
// 200 is stored exactly once.
func TestServeDrainsUnderLoad(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	env["HYS_DRAIN_PERIOD"] = "1500ms"
	ctx := context.Background()
	if _, _, err := runOnce(t, []string{"migrate"}, env); err != nil {
		t.Fatal(err)
	}
	db, err := store.OpenDB(ctx, env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	s := survey.Demo()
	if _, _, err := db.SaveSurvey(ctx, s.ID, s.Title, string(survey.DemoYAML), "day-service.yaml"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	base, stop := start(t, []string{"serve"}, env)
	sim := phonesim.New(phonesim.Config{AccountSID: env["TWILIO_ACCOUNT_SID"], AuthToken: env["TWILIO_AUTH_TOKEN"],
		WebhookBase: env["PUBLIC_URL"], HTTPClient: phonesim.LoopbackClient(env["PUBLIC_URL"], base, 10*time.Second)})
	defer sim.Close()

	var (
		mu           sync.Mutex
		acked        = map[string]bool{}
		draining     atomic.Bool
		ackedInDrain atomic.Int64
		refused      atomic.Int64
	)
	script := []string{"DAYS", "yes", "1", "4", "2"}
	var wg sync.WaitGroup
	for m := range 6 {
		wg.Go(func() {
			from := fmt.Sprintf("+4479%08d", m+1)
			for i := 0; ; i++ {
				sid := phonesim.NewSID("SM")
				res, err := sim.TextWithSid(ctx, sid, from, "+447700900100", script[i%len(script)])
				if err != nil || res.StatusCode != http.StatusOK {
					if draining.Load() {
						return // the listener has closed: the load balancer sends texts elsewhere now
					}
					refused.Add(1)
					continue
				}
				mu.Lock()
				acked[sid] = true
				mu.Unlock()
				if draining.Load() {
					ackedInDrain.Add(1)
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	time.Sleep(300 * time.Millisecond)

	stopped := make(chan error, 1)
	began := time.Now()
	go func() { stopped <- stop() }()
	// /readyz turns 503 at once, while texts are still answered.
	deadline := time.Now().Add(time.Second)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusServiceUnavailable {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz did not turn 503 within a second of the stop (%v)", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	draining.Store(true)
	if err := <-stopped; err != nil {
		t.Fatalf("serve did not stop cleanly: %v", err)
	}
	took := time.Since(began)
	wg.Wait()
	if took < 1500*time.Millisecond || took > 20*time.Second {
		t.Errorf("serve stopped after %v: want the 1.5 s drain, then a prompt exit", took)
	}
	if ackedInDrain.Load() == 0 {
		t.Fatal("no text was answered during the drain period")
	}
	if n := refused.Load(); n > 0 {
		t.Fatalf("%d texts refused before the listener closed", n)
	}

	conn, err := pgx.Connect(ctx, env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT message_sid, count(*) FROM messages WHERE direction = 'in' GROUP BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]int{}
	for rows.Next() {
		var sid string
		var n int
		if err := rows.Scan(&sid, &n); err != nil {
			t.Fatal(err)
		}
		stored[sid] = n
	}
	lost, dup := 0, 0
	for sid := range acked {
		switch stored[sid] {
		case 0:
			lost++
		case 1:
		default:
			dup++
		}
	}
	t.Logf("%d texts answered 200 (%d during the drain); %d lost, %d stored twice", len(acked), ackedInDrain.Load(), lost, dup)
	if lost+dup > 0 {
		t.Fatalf("acknowledged texts: %d lost, %d stored twice", lost, dup)
	}
}
