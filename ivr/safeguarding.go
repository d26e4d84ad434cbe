package ivr

import (
	"context"
	"fmt"

	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/survey"
)

// Safeguarding on calls: what a caller says at a menu (understood or not)
// and every transcript of a recording (which may arrive long after the
// call) are checked against the risk phrases (Handler.Risk) as they
// arrive. A match raises a worry, whose alert texts the sender queues in
// the same transaction (sms.AlertConfig).

// speechWorry is the worry raised by words said at a menu, if they hold a
// risk phrase; nil otherwise. key is the step's (CallSid and step).
func (h *Handler) speechWorry(c *call, conv, key, speech string, understood bool) []store.Event {
	phrase, ok := h.Risk.Match(speech)
	if !ok {
		return nil
	}
	source := store.WorrySpeech
	if !understood {
		source = store.WorryNotUnderstood
	}
	return []store.Event{{Worry: &store.WorryRaised{DedupeKey: key + ":worry", ConversationID: conv, Person: h.caller(c),
		Channel: string(survey.Voice), Source: source, Phrase: phrase, Words: speech}}}
}

// transcriptWorry raises a worry about a transcript with a risk phrase,
// at once and in Postgres (the callback is answered with an error, and so
// sent again, when it cannot be kept). source is who transcribed it.
func (h *Handler) transcriptWorry(ctx context.Context, recordingSID, conv, source, text string) error {
	phrase, ok := h.Risk.Match(text)
	if !ok {
		return nil
	}
	_, _, err := h.DB.RaiseWorry(ctx, store.WorryRaised{DedupeKey: fmt.Sprintf("%s:transcript:%s", recordingSID, source),
		ConversationID: conv, Channel: string(survey.Voice), Source: store.WorryTranscript, Phrase: phrase, Words: text,
		RecordingSID: recordingSID})
	return err
}
