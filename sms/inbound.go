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
	person                          store.Person
	hash                            string // hex phone hash for Redis keys
}

// ServeInbound answers POST /twilio/sms: a member's text. It always
// answers 200 with messaging TwiML once the signature is good; a text
// delivered twice is answered once and stored once.
func (h *Handler) ServeInbound(w http.ResponseWriter, r *http.Request) {
	if !h.verify(w, r) {
		return
	}
	in := inbound{
		sid:        r.PostForm.Get("MessageSid"),
		from:       strings.TrimSpace(r.PostForm.Get("From")),
		to:         strings.TrimSpace(r.PostForm.Get("To")),
		body:       storable(r.PostForm.Get("Body")),
		optOutType: strings.ToUpper(r.PostForm.Get("OptOutType")),
	}
	if in.sid == "" || in.from == "" {
		http.Error(w, "MessageSid and From are required: this does not look like a text from Twilio.", http.StatusBadRequest)
		return
	}
	in.person = h.person(in.from)
	in.hash = h.Phones.HashString(in.from)
	ctx := r.Context()

	// Twilio may deliver the same text twice, even to two servers at once.
	first, err := h.Redis.First(ctx, h.Redis.Key("sms", "seen-sid", in.sid), dedupeTTL)
	if err != nil {
		// Without Redis there is no conversation state: keep the text
		// (the journal writes it straight to Postgres) and apologise.
		h.failed("redis", err)
		h.record(ctx, in, "", sorryBroken)
		writeTwiML(w, sorryBroken)
		return
	}
	if !first {
		writeTwiML(w)
		return
	}
	replies, convID, err := h.answer(ctx, in)
	if err != nil {
		cause := "internal"
		if errors.Is(err, store.ErrBusy) {
			cause = "busy"
			replies = []string{sorryBusy}
		} else {
			replies = []string{sorryBroken}
		}
		h.failed(cause, err)
		// Let Twilio's retry (or the member's resend) be handled afresh.
		dctx, cancel := detach(ctx)
		h.Redis.Forget(dctx, h.Redis.Key("sms", "seen-sid", in.sid))
		cancel()
	}
	h.record(ctx, in, convID, replies...)
	writeTwiML(w, replies...)
}

// record journals the inbound text and our replies.
func (h *Handler) record(ctx context.Context, in inbound, convID string, replies ...string) {
	events := []store.Event{{Message: &store.MessageLogged{DedupeKey: in.sid, Direction: "in", MessageSid: in.sid,
		Person: in.person, ConversationID: convID, Body: in.body, Status: "received"}}}
	for i, text := range replies {
		if strings.TrimSpace(text) == "" {
			continue
		}
		events = append(events, store.Event{Message: &store.MessageLogged{DedupeKey: fmt.Sprintf("%s:reply:%d", in.sid, i),
			Direction: "out", Person: in.person, ConversationID: convID, Body: text, Status: "replied"}})
	}
	dctx, cancel := detach(ctx)
	defer cancel()
	if err := h.Journal.Record(dctx, events...); err != nil {
		h.failed("journal", err)
	}
}

func (h *Handler) sessionKey(hash string) string { return h.Redis.Key("sms", "session", hash) }
func (h *Handler) lapsedKey(hash string) string  { return h.Redis.Key("sms", "lapsed", hash) }

// OptOutKey is the Redis key that marks a number as opted out (a fast copy
// of participants.opted_out_at).
func OptOutKey(r *store.Redis, phoneHash string) string { return r.Key("optout", phoneHash) }

// answer decides the replies to one text and returns the conversation it
// belongs to. Texts from one person are handled one at a time.
func (h *Handler) answer(ctx context.Context, in inbound) ([]string, string, error) {
	unlock, err := h.Redis.Lock(ctx, h.Redis.Key("sms", "lock", in.hash), 10*time.Second, 3*time.Second)
	if err != nil {
		return nil, "", err
	}
	defer unlock()

	word := keyword(in.body)
	optedOut, err := h.Redis.Client.Exists(ctx, OptOutKey(h.Redis, in.hash)).Result()
	if err != nil {
		return nil, "", err
	}
	var sess session
	found, err := h.Redis.GetJSON(ctx, h.sessionKey(in.hash), &sess)
	if err != nil {
		return nil, "", err
	}
	switch {
	case in.optOutType == "STOP" || stopWords[word]:
		return h.stop(ctx, in, sess, found)
	case in.optOutType == "START" || startWords[word] || (word == "YES" && optedOut > 0):
		return h.start(ctx, in)
	case optedOut > 0:
		// Rule 4: nobody who texted STOP is sent anything until START.
		return nil, sess.Conversation, nil
	case in.optOutType == "HELP" || helpWords[word]:
		replies := []string{h.helpText()}
		if found {
			if sv, err := h.Catalog.Version(ctx, sess.Survey.SurveyID, sess.Survey.Version); err == nil {
				again, _ := survey.Step(sv, sess.Survey, survey.Input{Text: "*"})
				replies = append(replies, again.Text())
			}
		}
		return replies, sess.Conversation, nil
	}
	if sv, version, ok := h.Catalog.ByKeyword(word); ok && word != "" {
		if found {
			// A keyword in the middle of a survey starts it afresh; what
			// was answered so far is kept as a partial response.
			if err := h.Journal.Record(ctx, store.Event{End: &store.ConversationEnded{ID: sess.Conversation, Status: "partial"}}); err != nil {
				return nil, "", err
			}
		}
		return h.begin(ctx, in, sv, version)
	}
	if found {
		return h.step(ctx, in, sess)
	}
	if sv, version, ok := h.Catalog.ByNumber(in.to); ok {
		return h.begin(ctx, in, sv, version)
	}
	lapsed, err := h.Redis.Client.Get(ctx, h.lapsedKey(in.hash)).Result()
	if err == nil {
		if sv, _, ok := h.Catalog.Current(lapsed); ok && len(sv.Keywords) > 0 {
			return []string{fmt.Sprintf("Sorry, it has been a while and we lost our place. Text %s to start again.", strings.ToUpper(sv.Keywords[0]))}, "", nil
		}
	}
	return []string{h.menuText()}, "", nil
}

// begin starts a survey for the member.
func (h *Handler) begin(ctx context.Context, in inbound, sv *survey.Survey, version int) ([]string, string, error) {
	reply, ss := survey.Start(sv, survey.SMS, survey.Needs{})
	ss.SurveyID, ss.Version = sv.ID, version
	sess := session{Conversation: newID("sms-"), Survey: ss}
	err := h.Journal.Record(ctx, store.Event{Conversation: &store.ConversationStarted{ID: sess.Conversation, Person: in.person,
		SurveyID: sv.ID, Version: version, Channel: "sms", Language: ss.Lang}})
	if err != nil {
		return nil, "", err
	}
	if err := h.save(ctx, in, sess, reply.Done); err != nil {
		return nil, "", err
	}
	return []string{reply.Text()}, sess.Conversation, nil
}

// step passes the text to the survey engine.
func (h *Handler) step(ctx context.Context, in inbound, sess session) ([]string, string, error) {
	sv, err := h.Catalog.Version(ctx, sess.Survey.SurveyID, sess.Survey.Version)
	if err != nil {
		return nil, "", fmt.Errorf("loading survey %s version %d: %w", sess.Survey.SurveyID, sess.Survey.Version, err)
	}
	prev := sess.Survey
	reply, next := survey.Step(sv, prev, survey.Input{Text: in.body})
	sess.Survey = next
	conv := sess.Conversation
	var events []store.Event
	if a := reply.Answer; a != nil {
		events = append(events, store.Event{Answer: &store.AnswerGiven{ConversationID: conv, QuestionID: a.QuestionID,
			Value: a.Value, Raw: a.Raw, Via: a.Via, NoAnswer: a.NoAnswer, Skipped: a.Skipped, Themes: a.Themes,
			DedupeKey: in.sid + ":answer"}})
	}
	if prev.Stage == survey.StageConsent && next.Stage != survey.StageConsent && !reply.ConsentRefused {
		events = append(events, store.Event{End: &store.ConversationEnded{ID: conv, Consent: in.body}})
	}
	if reply.Handoff && !prev.Handoff {
		events = append(events, store.Event{Callback: &store.CallbackBooked{DedupeKey: in.sid + ":callback", Person: in.person,
			ConversationID: conv, Channel: "sms", Reason: "Asked by text to talk to a person."}})
	}
	switch {
	case reply.ConsentRefused:
		events = append(events, store.Event{End: &store.ConversationEnded{ID: conv, Status: "refused"}})
	case reply.Done:
		events = append(events, store.Event{End: &store.ConversationEnded{ID: conv, Status: "completed"}})
	}
	if err := h.Journal.Record(ctx, events...); err != nil {
		return nil, "", err
	}
	if err := h.save(ctx, in, sess, reply.Done); err != nil {
		return nil, "", err
	}
	return []string{reply.Text()}, conv, nil
}

// save keeps the session for the next text, or forgets it when the
// conversation is over.
func (h *Handler) save(ctx context.Context, in inbound, sess session, done bool) error {
	if done {
		return h.Redis.Client.Del(ctx, h.sessionKey(in.hash), h.lapsedKey(in.hash)).Err()
	}
	pipe := h.Redis.Client.TxPipeline()
	b, err := jsonBytes(sess)
	if err != nil {
		return err
	}
	pipe.Set(ctx, h.sessionKey(in.hash), b, h.SessionTTL)
	pipe.Set(ctx, h.lapsedKey(in.hash), sess.Survey.SurveyID, seenTTL)
	_, err = pipe.Exec(ctx)
	return err
}

// stop records an opt-out and ends any conversation.
func (h *Handler) stop(ctx context.Context, in inbound, sess session, found bool) ([]string, string, error) {
	events := []store.Event{{OptOut: &store.OptOut{Person: in.person, Out: true}}}
	if found {
		events = append(events, store.Event{End: &store.ConversationEnded{ID: sess.Conversation, Status: "partial"}})
	}
	if err := h.Journal.Record(ctx, events...); err != nil {
		return nil, "", err
	}
	if err := h.Redis.Client.Set(ctx, OptOutKey(h.Redis, in.hash), 1, 0).Err(); err != nil {
		return nil, "", err
	}
	h.Redis.Client.Del(ctx, h.sessionKey(in.hash), h.lapsedKey(in.hash))
	if !h.ConfirmStop {
		return nil, sess.Conversation, nil
	}
	return []string{fmt.Sprintf("You will not get any more texts from %s. Text START if you want them again.", h.Org.Name)}, sess.Conversation, nil
}

// start records an opt-in after STOP.
func (h *Handler) start(ctx context.Context, in inbound) ([]string, string, error) {
	if err := h.Journal.Record(ctx, store.Event{OptOut: &store.OptOut{Person: in.person, Out: false}}); err != nil {
		return nil, "", err
	}
	if err := h.Redis.Client.Del(ctx, OptOutKey(h.Redis, in.hash)).Err(); err != nil {
		return nil, "", err
	}
	if !h.ConfirmStop {
		return nil, "", nil
	}
	return []string{fmt.Sprintf("Welcome back. You can get texts from %s again. %s", h.Org.Name, h.whatToText())}, "", nil
}

// helpText is the reply to HELP or INFO.
func (h *Handler) helpText() string {
	var b strings.Builder
	b.WriteString(h.Org.Name + ".")
	if h.Org.About != "" {
		b.WriteString(" " + h.Org.About)
	}
	if h.Org.Phone != "" {
		b.WriteString(" To talk to a person, call " + h.Org.Phone + ".")
	}
	b.WriteString(" " + h.whatToText() + " Text STOP to stop getting texts.")
	return b.String()
}

// menuText answers a text that is not part of a conversation.
func (h *Handler) menuText() string {
	return fmt.Sprintf("Hello from %s. %s Text HELP for help.", h.Org.Name, h.whatToText())
}

func (h *Handler) whatToText() string {
	kws := h.Catalog.Keywords()
	if len(kws) == 0 {
		return "There is nothing to answer just now."
	}
	parts := make([]string, len(kws))
	for i, k := range kws {
		parts[i] = fmt.Sprintf("%s for %s", k.Keyword, k.Title)
	}
	if len(parts) == 1 {
		return "To have your say, text " + parts[0] + "."
	}
	return "To have your say, text " + strings.Join(parts[:len(parts)-1], ", ") + " or " + parts[len(parts)-1] + "."
}
