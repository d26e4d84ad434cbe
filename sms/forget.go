package sms

import (
	"context"
	"strings"

	"github.com/haveyoursay/haveyoursay/survey"
)

// forgetWords ask us to erase everything about the member's number. A
// text of only these words (any case, punctuation ignored) is the request;
// "forget it" in an answer is not.
var forgetWords = map[string]bool{"forget": true, "forgetme": true, "forget me": true, "forget me please": true,
	"please forget me": true}

// forgetText reports whether a text asks to be forgotten.
func forgetText(body string) bool {
	words, ok := phraseWords(body)
	return ok && forgetWords[strings.Join(words, " ")]
}

// forget answers FORGET: the request is kept (a durable job erases
// everything, the conversation in Redis included), this text is not kept,
// and the member is told plainly, unless they texted STOP: then nothing is
// sent (rule 4), and the erasure still happens. If the request cannot be
// kept they are asked to text again, and nothing of the text is kept.
func (h *Handler) forget(ctx context.Context, in inbound, optedOut bool, p *plan) {
	p.erase = true
	p.conv = ""
	p.events = nil
	if err := h.Forget(ctx, in.from); err != nil {
		h.failed("forget", err)
		p.reply(sorryBroken)
		return
	}
	p.update.End()
	p.update.ForgetFinished()
	if !optedOut {
		p.reply(survey.DefaultPhrases["forget-done"])
	}
}
