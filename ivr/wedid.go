package ivr

// "What we did", by phone: a caller to a survey that has done actions
// hears at the start "To hear what we changed, press 9 now." Pressing 9
// while the intro or the consent question plays reads out the latest done
// actions for that survey, then asks the consent question again. Nothing
// is kept: it is not an answer.

import (
	"context"

	"github.com/twilio/twilio-go/twiml"

	"github.com/haveyoursay/haveyoursay/survey"
)

// weDidKey is the key that plays what changed.
const weDidKey = "9"

// maxWeDid is how many done actions a caller hears.
const maxWeDid = 3

// weDidPhrase is one of the "what we did" sentences: the survey's own
// words, else survey.DefaultPhrases.
func (h *Handler) weDidPhrase(sv *survey.Survey, lang, key string) string {
	if t := h.phrase(sv, lang, key); t != "" {
		return t
	}
	return sv.Phrase(lang, key)
}

// doneActions returns what to say about a survey's latest done actions
// (their texts for members); nothing when there are none or Postgres does
// not answer in time (the call goes on without them).
func (h *Handler) doneActions(ctx context.Context, sv *survey.Survey) []string {
	if h.DB == nil || sv == nil {
		return nil
	}
	var themes []string
	for _, q := range sv.Questions {
		themes = append(themes, q.Themes...)
	}
	ctx, cancel := context.WithTimeout(ctx, dbTimeout)
	defer cancel()
	list, err := h.DB.DoneActions(ctx, sv.ID, themes, maxWeDid)
	if err != nil {
		h.Log.Warn("could not read what we did for a caller", "survey", sv.ID, "err", err)
		return nil
	}
	var out []string
	for _, a := range list {
		if a.MemberText != "" {
			out = append(out, a.MemberText)
		}
	}
	return out
}

// offerWeDid puts the offer before the intro when the survey has done
// actions and the call starts at consent (a survey with a language menu
// does not offer it: 9 could be a language).
func (h *Handler) offerWeDid(ctx context.Context, sv *survey.Survey, sess survey.Session, reply survey.Reply) survey.Reply {
	if sess.Stage != survey.StageConsent || len(h.doneActions(ctx, sv)) == 0 {
		return reply
	}
	offer := survey.Prompt{Key: "we-did-voice-offer", Text: h.weDidPhrase(sv, sess.Lang, "we-did-voice-offer")}
	reply.Prompts = append([]survey.Prompt{offer}, reply.Prompts...)
	return reply
}

// playWeDid answers the key at consent: the done actions, then the
// consent question again.
func (h *Handler) playWeDid(ctx context.Context, c *call, sv *survey.Survey, st callState) []twiml.Element {
	lang, slow := st.Sess.Lang, st.Sess.Needs.SlowSpeech
	var els []twiml.Element
	if said := h.doneActions(ctx, sv); len(said) == 0 {
		els = append(els, h.prompt(sv, lang, "we-did-voice-none", h.weDidPhrase(sv, lang, "we-did-voice-none"), slow))
	} else {
		els = append(els, h.prompt(sv, lang, "we-did-voice-intro", h.weDidPhrase(sv, lang, "we-did-voice-intro"), slow))
		for _, s := range said {
			els = append(els, h.say(s, lang, slow))
		}
		els = append(els, h.prompt(sv, lang, "we-did-voice-end", h.weDidPhrase(sv, lang, "we-did-voice-end"), slow))
	}
	reply, _ := survey.Step(sv, st.Sess, survey.Input{Digits: "*"})
	return append(els, h.renderReply(sv, c, st, reply)...)
}
