package sms

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/survey"
)

// inbound is one text as Twilio delivered it.
type inbound struct {
	sid, from, to, body, optOutType string
	media                           []string // picture and voice-note addresses (MMS)
	person                          store.Person
	hash                            string // hex phone hash for Redis keys
}

// plan is what answering one text will do: the replies, and what to store.
type plan struct {
	replies []string
	conv    string
	events  []store.Event
	update  store.SMSUpdate // what changes in the member's live state
	paused  bool            // the survey now waits after a worrying text (safeguarding.go)
	erase   bool            // the member asked to be forgotten: keep nothing of this text
}

func (p *plan) reply(texts ...string)        { p.replies = append(p.replies, texts...) }
func (p *plan) record(events ...store.Event) { p.events = append(p.events, events...) }

// ServeInbound answers POST /twilio/sms: a member's text. It always
// answers 200 with messaging TwiML once the signature is good; a text
// delivered twice is answered once and stored once.
func (h *Handler) ServeInbound(w http.ResponseWriter, r *http.Request) {
	if !h.verify(w, r) {
		return
	}
	in, problem := parseInbound(r.PostForm)
	if problem != "" {
		http.Error(w, problem, http.StatusBadRequest)
		return
	}
	in.person = h.person(in.from)
	in.hash = h.Phones.HashString(in.from)
	ctx := r.Context()

	// One Redis round trip: spot a repeat delivery (Twilio may send a text
	// twice, even to two servers at once), wait for any other text from
	// this person to finish, and read their state.
	turn, err := h.sessions().Begin(ctx, in.sid, in.hash)
	if errors.Is(err, store.ErrBusy) {
		h.failed("busy", err)
		if !h.recordOnly(ctx, w, in, "", sorryBusy) {
			return
		}
		writeTwiML(w, sorryBusy)
		return
	}
	if err != nil {
		// Without Redis there is no conversation state: keep the text
		// (the journal writes it straight to Postgres) and apologise.
		h.failed("redis", err)
		if !h.recordOnly(ctx, w, in, "", sorryBroken) {
			return
		}
		writeTwiML(w, sorryBroken)
		return
	}
	if turn.Duplicate {
		writeTwiML(w)
		return
	}
	var p plan
	if err := h.answer(ctx, in, turn, &p); err != nil {
		turn.Release() // and a resend is handled afresh
		h.failed("internal", err)
		if !h.recordOnly(ctx, w, in, p.conv, sorryBroken) {
			return
		}
		writeTwiML(w, sorryBroken)
		return
	}
	h.safeguard(in, turn.OptedOut, &p)
	events := p.events
	if !p.erase { // FORGET: the text asking us to forget is not kept either
		events = append(events, messageEvents(in, p.conv, p.replies)...)
	}
	dctx, cancel := detach(ctx)
	defer cancel()
	if err := turn.Commit(dctx, h.Journal, events, p.update); errors.As(err, new(*store.NotKeptError)) {
		h.failed("journal", err)
		notKept(w)
		return
	} else if err != nil {
		// The events went to the journal's fallback; the session did not
		// move on, so say so rather than leave the member hanging.
		h.failed("redis", err)
		writeTwiML(w, sorryBroken)
		return
	}
	writeTwiML(w, p.replies...)
}

// messageEvents records the inbound text and our replies.
func messageEvents(in inbound, convID string, replies []string) []store.Event {
	events := []store.Event{{Message: &store.MessageLogged{DedupeKey: in.sid, Direction: "in", MessageSid: in.sid,
		Person: in.person, ConversationID: convID, Body: in.body, Status: "received", Media: in.media}}}
	for i, text := range replies {
		if strings.TrimSpace(text) == "" {
			continue
		}
		events = append(events, store.Event{Message: &store.MessageLogged{DedupeKey: fmt.Sprintf("%s:reply:%d", in.sid, i),
			Direction: "out", Person: in.person, ConversationID: convID, Body: text, Status: "replied"}})
	}
	return events
}

// recordOnly journals the text and replies when the conversation could not
// go on, so nothing the member sent is lost. When nothing could keep them
// it answers 503 (so Twilio's fallback URL takes the text) and reports
// false.
func (h *Handler) recordOnly(ctx context.Context, w http.ResponseWriter, in inbound, convID string, replies ...string) bool {
	dctx, cancel := detach(ctx)
	defer cancel()
	if err := h.Journal.Record(dctx, messageEvents(in, convID, replies)...); err != nil {
		h.failed("journal", err)
		notKept(w)
		return false
	}
	return true
}

// notKept answers a webhook whose delivery nothing could keep: never a
// false 200, so Twilio tries the number's fallback URL.
func notKept(w http.ResponseWriter) {
	http.Error(w, "We could not keep this message just now: please try again.", http.StatusServiceUnavailable)
}

// answer decides the replies to one text and what to store.
func (h *Handler) answer(ctx context.Context, in inbound, turn *store.SMSTurn, p *plan) error {
	optedOut := turn.OptedOut
	sess, found, err := turn.Session()
	if err != nil {
		h.Log.Error("a stored SMS session cannot be read; starting afresh", "err", err)
	}
	p.conv = sess.Conversation
	word := keyword(in.body)
	mediaOnly := len(in.media) > 0 && strings.TrimSpace(in.body) == ""
	switch {
	case in.optOutType == "STOP" || stopWords[word]:
		confirm := ""
		if h.ConfirmStop {
			confirm = h.phrase(sess.Survey.SurveyID, sess.Survey.Lang, "sms-stop-org")
		}
		h.stop(in, sess, found, p, confirm)
		return nil
	case stopPhrase(in.body):
		// Stop in other words: Twilio does not know about it, so we always
		// confirm it ourselves (once: never again to someone opted out).
		confirm := h.phrase(sess.Survey.SurveyID, sess.Survey.Lang, "sms-stop")
		if optedOut {
			confirm = ""
		}
		h.stop(in, sess, found, p, confirm)
		return nil
	case in.optOutType == "START" || startWords[word] || (word == "YES" && optedOut):
		h.start(in, p)
		return nil
	case h.Forget != nil && forgetText(in.body):
		h.forget(ctx, in, optedOut, p)
		return nil
	case optedOut:
		// Rule 4: nobody who texted STOP is sent anything until START.
		return nil
	case in.optOutType == "HELP" || helpWords[word]:
		p.reply(h.helpText())
		if found {
			p.reply(h.again(ctx, sess))
		}
		return nil
	}
	if mediaOnly && !(found && h.wordsWaiting(ctx, sess)) {
		// We cannot read pictures or voice notes: say so kindly, then ask
		// again. The message row keeps the media.
		p.reply(h.phrase(sess.Survey.SurveyID, sess.Survey.Lang, "sms-media"))
		if found {
			p.reply(h.again(ctx, sess))
		} else {
			p.reply(h.whatToText())
		}
		return nil
	}
	if sv, version, ok := h.Catalog.ByKeyword(word); ok && word != "" && !(found && h.wordsWaiting(ctx, sess)) {
		if found {
			// A keyword in the middle of a survey starts it afresh; what
			// was answered so far is kept as a partial response.
			p.record(store.Event{End: &store.ConversationEnded{ID: sess.Conversation, Status: "partial"}})
		}
		return h.begin(ctx, in, sv, version, p)
	}
	if found {
		return h.step(ctx, in, sess, p)
	}
	// "0" or "help me" reaches a person with no survey running too, and
	// after one has ended.
	if h.personAsked(ctx, in, turn.Finished, p) {
		return nil
	}
	if helpPhrase(in.body) {
		p.reply(h.helpText())
		return nil
	}
	if finished := turn.Finished; finished != "" {
		// Only for the survey they finished: a text to another survey's
		// number starts that survey.
		if other, _, ok := h.Catalog.ByNumber(in.to); !ok || other.ID == finished {
			p.reply(h.finishedText(finished))
			return nil
		}
	}
	if sv, version, ok := h.Catalog.ByNumber(in.to); ok {
		return h.begin(ctx, in, sv, version, p)
	}
	if lapsed := turn.Lapsed; lapsed != "" {
		if sv, _, ok := h.Catalog.Current(lapsed); ok && len(sv.Keywords) > 0 {
			p.reply(h.lapsedText(sv))
			return nil
		}
	}
	p.reply(h.menuText())
	return nil
}

// begin starts a survey for the member.
func (h *Handler) begin(ctx context.Context, in inbound, sv *survey.Survey, version int, p *plan) error {
	reply, ss := survey.Start(sv, survey.SMS, h.needs(ctx, in))
	ss.SurveyID, ss.Version = sv.ID, version
	sess := session{Conversation: newID("sms-"), Survey: ss}
	p.conv = sess.Conversation
	p.record(store.Event{Conversation: &store.ConversationStarted{ID: sess.Conversation, Person: in.person,
		SurveyID: sv.ID, Version: version, Channel: "sms", Language: ss.Lang}})
	p.reply(reply.Text())
	p.update.ForgetFinished()
	return h.keep(in, sess, reply.Done, p)
}

// wordsWaiting reports whether the member's survey is waiting for the
// answer to a words question: then any text is the answer, even a
// survey keyword.
func (h *Handler) wordsWaiting(ctx context.Context, sess session) bool {
	if sess.Survey.Stage != survey.StageQuestion {
		return false
	}
	sv, err := h.Catalog.Version(ctx, sess.Survey.SurveyID, sess.Survey.Version)
	if err != nil {
		return false
	}
	q := sv.Question(sess.Survey.Question)
	return q != nil && q.Answer == survey.Words
}

// again is the member's current question (or consent, or offer) asked
// again, or "" when the survey cannot be loaded.
func (h *Handler) again(ctx context.Context, sess session) string {
	sv, err := h.Catalog.Version(ctx, sess.Survey.SurveyID, sess.Survey.Version)
	if err != nil {
		return ""
	}
	reply, _ := survey.Step(sv, sess.Survey, survey.Input{Text: "*"})
	return reply.Text()
}

// step passes the text to the survey engine.
func (h *Handler) step(ctx context.Context, in inbound, sess session, p *plan) error {
	sv, err := h.Catalog.Version(ctx, sess.Survey.SurveyID, sess.Survey.Version)
	if err != nil {
		return fmt.Errorf("loading survey %s version %d: %w", sess.Survey.SurveyID, sess.Survey.Version, err)
	}
	text := in.body
	if sess.Paused {
		if waiting := h.whilePaused(in, &sess, sv, p); waiting {
			return h.keep(in, sess, false, p)
		}
		text = "*" // carrying on: the question they are at, again
	}
	media := strings.TrimSpace(in.body) == "" && len(in.media) > 0
	if media {
		// Only reached at a words question: the addresses are the answer.
		text = strings.Join(in.media, " ")
	}
	reply, next := survey.Step(sv, sess.Survey, survey.Input{Text: text})
	sess.Survey = next
	events := reply.Events
	if media {
		events = asMedia(events, text)
	}
	conv := store.ConversationRef{ID: sess.Conversation, Person: in.person, Channel: string(survey.SMS)}
	p.record(conv.Events(in.sid, text, events)...)
	if e, ok := survey.Find[survey.Ended](events); ok && e.How == survey.Completed {
		// Remember for a while that they finished, so a "thanks!" is
		// thanked rather than invited to start over.
		p.update.Finished(sess.Survey.SurveyID)
	}
	p.reply(reply.Text())
	h.pauseIfWorrying(in, &sess, reply.Done, p)
	return h.keep(in, sess, reply.Done, p)
}

// asMedia marks an answer made of picture or voice-note addresses as such.
func asMedia(events []survey.Event, text string) []survey.Event {
	out := make([]survey.Event, len(events))
	for i, ev := range events {
		if a, ok := ev.(survey.Answered); ok && a.Raw == text && !a.Skipped && !a.NoAnswer {
			a.Via = "media"
			ev = a
		}
		out[i] = ev
	}
	return out
}

// personAsked books a call back when a member with no survey running (or
// one that has ended: finished holds its id) asks for a person, and tells
// them so. It reports whether they asked.
func (h *Handler) personAsked(ctx context.Context, in inbound, finished string, p *plan) bool {
	var sv *survey.Survey
	sess := survey.Session{Channel: survey.SMS, Stage: survey.StageDone}
	if finished != "" {
		if cur, _, ok := h.Catalog.Current(finished); ok {
			sv, sess.SurveyID, sess.Lang = cur, cur.ID, cur.Language
		}
	}
	reply, _ := survey.Step(sv, sess, survey.Input{Text: in.body})
	if !reply.Handoff() {
		return false
	}
	// their needs say how a person will reach them ("call you back")
	if sess.Needs = h.needs(ctx, in); sess.Needs != (survey.Needs{}) {
		reply, _ = survey.Step(sv, sess, survey.Input{Text: in.body})
	}
	// No conversation to join: one call back per text that asks.
	conv := store.ConversationRef{Person: in.person, Channel: string(survey.SMS)}
	p.record(conv.Events(in.sid, in.body, reply.Events)...)
	p.reply(reply.Text())
	return true
}

// keep plans to store the session for the next text, or to forget it when
// the conversation is over.
func (h *Handler) keep(in inbound, sess session, done bool, p *plan) error {
	if done {
		p.update.End()
		return nil
	}
	return p.update.Keep(sess)
}

// stop records an opt-out and ends any conversation; confirm ("" for
// none) is the reply.
func (h *Handler) stop(in inbound, sess session, found bool, p *plan, confirm string) {
	p.record(store.Event{OptOut: &store.OptOut{Person: in.person, Out: true}})
	if found {
		p.record(store.Event{End: &store.ConversationEnded{ID: sess.Conversation, Status: "partial"}})
	}
	p.update.OptOut()
	p.update.End()
	p.update.ForgetFinished()
	if confirm != "" {
		p.reply(confirm)
	}
}

// start records an opt-in after STOP.
func (h *Handler) start(in inbound, p *plan) {
	p.record(store.Event{OptOut: &store.OptOut{Person: in.person, Out: false}})
	p.update.OptIn()
	if h.ConfirmStop {
		p.reply(h.phrase("", "", "sms-start") + "\n" + h.whatToText())
	}
}

// needs are the member's communication needs, as staff set them; none
// when Postgres does not answer quickly (the text is still answered).
func (h *Handler) needs(ctx context.Context, in inbound) survey.Needs {
	if h.Needs == nil {
		return survey.Needs{}
	}
	ctx, cancel := context.WithTimeout(ctx, 250*time.Millisecond)
	defer cancel()
	n, err := h.Needs(ctx, in.person.Hash)
	if err != nil {
		h.Log.Warn("sms: reading a member's needs", "from", in.person.Masked, "err", err)
		return survey.Needs{}
	}
	return n
}
