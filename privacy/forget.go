// Package privacy keeps members' data no longer than it must: erasure when
// a member texts FORGET (or staff act on a request made by phone),
// retention per survey applied by a daily job, and the deletion of
// Twilio's copies of recordings. The SQL and Redis work is in store; this
// package puts the steps in order and runs them as durable jobs.
package privacy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	twilio "github.com/twilio/twilio-go"
	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/webhook"
)

// Forgetter erases everything about a number.
type Forgetter struct {
	DB      *store.DB
	Redis   *store.Redis
	Journal *store.Journal
	Phones  *store.Phones
	// Recordings deletes Twilio's copies of recordings. nil: they stay
	// queued in twilio_deletions (a command without Twilio settings).
	Recordings *TwilioRecordings
	// Confirm sends the member a plain text saying it is done (a staff or
	// command request that asks for one; a member who texted FORGET is
	// answered at once by the SMS webhook). nil: no confirmation texts.
	Confirm func(ctx context.Context, number string) error
	Log     *slog.Logger
}

func (f *Forgetter) log() *slog.Logger {
	if f.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return f.Log
}

// Request keeps a request to erase number; Do (or the job) carries it out.
func (f *Forgetter) Request(ctx context.Context, number, source, by string, confirm bool) (int64, error) {
	p := store.Person{Hash: f.Phones.Hash(number), Enc: f.Phones.Encrypt(number)}
	return f.DB.RequestForget(ctx, p, source, by, confirm)
}

// Do carries out request id: it erases the member from the spool and from
// Postgres (with the request, writing an audit entry) while no spool
// writer runs, then their live state in Redis, deletes Twilio's copies of
// their recordings,
// and sends the confirmation asked for. A request already done is not an
// error (nothing is erased twice). A failure leaves the request to be
// tried again; the reason it keeps holds no personal data.
func (f *Forgetter) Do(ctx context.Context, id int64) (store.Erased, error) {
	req, err := f.DB.GetForget(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Erased{}, nil
	}
	if err != nil {
		return store.Erased{}, err
	}
	e, err := f.do(ctx, req)
	if err != nil {
		if ferr := f.DB.ForgetFailed(context.WithoutCancel(ctx), req.ID, err.Error()); ferr != nil {
			f.log().Error("noting a failed erasure", "err", ferr)
		}
		return e, err
	}
	return e, nil
}

func (f *Forgetter) do(ctx context.Context, req store.ForgetRequest) (store.Erased, error) {
	number := ""
	if req.Confirm && f.Confirm != nil {
		var err error
		if number, err = f.Phones.Decrypt(req.Person.Enc); err != nil {
			return store.Erased{}, err
		}
	}
	trail, err := f.DB.PersonTrail(ctx, req.Person.Hash)
	if err != nil {
		return store.Erased{}, err
	}
	actor := req.RequestedBy
	if actor == "" {
		actor = "member"
	}
	// What is still spooled about them goes from the spool, and the rest
	// from Postgres, while no spool writer runs: nothing about them can
	// reach Postgres in between.
	var e store.Erased
	erase := func(ctx context.Context) error {
		var err error
		e, err = f.DB.ErasePerson(ctx, req.Person.Hash, req.ID, actor, req.Source)
		if err != nil {
			return fmt.Errorf("erasing in Postgres: %w", err)
		}
		return nil
	}
	if f.Journal != nil {
		_, err = f.Journal.ErasePerson(ctx, req.Person.Hash, trail.Conversations, erase)
	} else {
		err = erase(ctx)
	}
	if err != nil {
		return e, err
	}
	// The request row is gone: from here on a failure is logged, and what
	// is left is caught by the next sweep (Twilio deletions) or expires
	// (Redis keys all have a time to live).
	if _, err := f.Redis.ErasePerson(ctx, store.HashHex(req.Person.Hash), trail.CallSids, e.KeptOptOut); err != nil {
		f.log().Error("erasing live state in Redis", "err", err)
	}
	if f.Recordings != nil && len(e.TwilioRecordings) > 0 {
		f.DeleteAtTwilio(ctx, 100)
	}
	if number != "" && !e.KeptOptOut {
		// Rule 4: someone who texted STOP is not texted, even to confirm.
		if err := f.Confirm(ctx, number); err != nil {
			f.log().Error("the erasure is done but its confirmation text was not sent", "err", err)
		}
	}
	f.log().Info("erased a member on request", "source", req.Source, "conversations", e.Conversations,
		"answers", e.Answers, "messages", e.Messages, "recordings", e.Recordings, "twilio_recordings", len(e.TwilioRecordings))
	return e, nil
}

// DoPending carries out every request not yet done (those a job missed, or
// that failed before) and returns how many were done.
func (f *Forgetter) DoPending(ctx context.Context) (int, error) {
	reqs, err := f.DB.PendingForgets(ctx, 100)
	if err != nil {
		return 0, err
	}
	done := 0
	var errs []error
	for _, r := range reqs {
		if _, err := f.Do(ctx, r.ID); err != nil {
			errs = append(errs, err)
			continue
		}
		done++
	}
	return done, errors.Join(errs...)
}

// DeleteAtTwilio deletes up to limit queued Twilio copies of recordings
// and returns how many were deleted and how many failed (and stay queued).
func (f *Forgetter) DeleteAtTwilio(ctx context.Context, limit int) (deleted, failed int) {
	if f.Recordings == nil {
		return 0, 0
	}
	pending, err := f.DB.PendingTwilioDeletions(ctx, limit)
	if err != nil {
		f.log().Error("listing Twilio recordings to delete", "err", err)
		return 0, 0
	}
	for _, d := range pending {
		if err := f.Recordings.Delete(d.SID); err != nil {
			failed++
			f.log().Warn("deleting Twilio's copy of a recording failed; will try again", "recording", d.SID, "err", err)
			if err := f.DB.TwilioDeleteFailed(ctx, d.SID, err.Error()); err != nil {
				f.log().Error("noting a failed Twilio deletion", "err", err)
			}
			continue
		}
		if err := f.DB.TwilioDeleted(ctx, d.SID); err != nil {
			f.log().Error("noting a Twilio deletion", "err", err)
			continue
		}
		deleted++
	}
	return deleted, failed
}

// TwilioRecordings deletes recordings through Twilio's REST API (or the
// emulator's, when APIURL is set).
type TwilioRecordings struct {
	rc *twilio.RestClient
}

// NewTwilioRecordings makes the client; apiURL is TWILIO_API_URL.
func NewTwilioRecordings(accountSID, authToken, apiURL string) *TwilioRecordings {
	hc := &http.Client{Timeout: 20 * time.Second}
	if apiURL != "" {
		hc.Transport = webhook.RewriteTransport(apiURL)
	}
	c := &client.Client{Credentials: client.NewCredentials(accountSID, authToken), HTTPClient: hc}
	c.SetAccountSid(accountSID)
	return &TwilioRecordings{rc: twilio.NewRestClientWithParams(twilio.ClientParams{Client: c})}
}

// Delete deletes Twilio's copy of recording sid. One already gone counts
// as deleted.
func (t *TwilioRecordings) Delete(sid string) error {
	err := t.rc.Api.DeleteRecording(sid, &openapi.DeleteRecordingParams{})
	var te *client.TwilioRestError
	if errors.As(err, &te) && te.Status == http.StatusNotFound {
		return nil
	}
	return err
}
