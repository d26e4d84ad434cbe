package sms

// Telling members what we did: when staff mark an action done and press
// "send", each member the action covers who said yes to "Can we text you
// to tell you what we did?" gets one text, through the same rows and jobs
// as invitations (so STOP, quiet hours and the rate limit hold, and
// nobody is told twice about one action).

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/haveyoursay/haveyoursay/store"
)

// ErrActionNotDone means only a done action may be sent to members.
var ErrActionNotDone = errors.New("only an action that is done can be sent to members")

// ErrNoMemberText means the action has no text for members yet.
var ErrNoMemberText = errors.New("the action has no text for members yet")

// Telling says what TellAction queued.
type Telling struct {
	Audience  int       // members who said yes and have not texted STOP
	Queued    int       // new texts queued now (the rest were told before)
	NotBefore time.Time // when quiet hours end, if they have started
}

// TellAction queues a text about a done action to the members it covers
// who asked to be told. Sending again texts only members not yet told.
func (s *Sender) TellAction(ctx context.Context, actor string, actionID int64) (Telling, error) {
	var t Telling
	a, err := s.DB.GetAction(ctx, actionID)
	if err != nil {
		return t, err
	}
	if a.Status != store.ActionDone {
		return t, ErrActionNotDone
	}
	if a.MemberText == "" {
		return t, ErrNoMemberText
	}
	aud, err := s.DB.ActionAudience(ctx, actionID)
	if err != nil {
		return t, err
	}
	t.Audience = len(aud)
	if until, quiet := s.cfg.Quiet.Until(s.Now()); quiet {
		t.NotBefore = until
	}
	var noSender error
	sender := func(surveyID string, version int) string {
		sv, _ := s.Catalog.Version(ctx, surveyID, version)
		from := s.senderFor(sv, "")
		if from == "" {
			noSender = errors.New("there is no number to send from: give the survey a number (start: numbers:), or set TWILIO_SMS_FROM")
		}
		return from
	}
	t.Queued, err = s.queue.QueueActionTexts(ctx, actor, actionID, aud, sender, t.NotBefore, s.sendJob)
	return t, errors.Join(noSender, err)
}

// ActionProgress counts an action's texts by status.
func (s *Sender) ActionProgress(ctx context.Context, actionID int64) (store.BatchProgress, error) {
	return s.Progress(ctx, store.ActionBatch(actionID))
}

// prepareActionText builds the text about a done action. done means the
// row was finished without sending (the action is no longer done).
func (s *Sender) prepareActionText(ctx context.Context, j *sendJob) (done bool, err error) {
	id, ok := store.ActionFromBatch(j.o.BatchID)
	if !ok {
		return true, s.finish(ctx, j.o.ID, store.OutFailed, "This text belongs to no action.", 0, false)
	}
	text, status, err := s.DB.ActionMemberText(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return true, s.finish(ctx, j.o.ID, store.OutSkipped, "The action was deleted.", 0, false)
	}
	if err != nil {
		return false, err
	}
	if status != store.ActionDone || text == "" {
		return true, s.finish(ctx, j.o.ID, store.OutSkipped, "The action was no longer done, so nobody was told.", 0, false)
	}
	sv, err := s.Catalog.Version(ctx, j.o.SurveyID, j.o.SurveyVersion)
	if err != nil {
		return false, err
	}
	hello := sv.Phrase(sv.Language, "we-did-sms", "org", s.cfg.Org.Name)
	j.body = fmt.Sprintf("%s\n%s\n%s", hello, text, sv.Phrase(sv.Language, "sms-invite-stop", "org", s.cfg.Org.Name))
	return false, nil
}
