package sms

import (
	"strings"

	"github.com/haveyoursay/haveyoursay/survey"
)

// The texts that are not part of a survey come from the phrase book
// (survey.DefaultPhrases: "sms-help-org", "sms-keywords"...), read by a
// member with a learning disability: short, plain, kind, GSM-7 only, one
// thing a line.

// phrase is the phrase id from the phrase book, in lang ("" for the
// survey's own language, or English), with the survey's own words when it
// changes it (surveyID "" for none), {org} filled in.
func (h *Handler) phrase(surveyID, lang, id string, pairs ...string) string {
	var sv *survey.Survey
	if surveyID != "" {
		if cur, _, ok := h.Catalog.Current(surveyID); ok {
			sv = cur
		}
	}
	return sv.Phrase(lang, id, append(pairs, "org", h.Org.Name)...)
}

// helpText is the reply to HELP or INFO: who we are, how to reach a
// person, what to text, and how to stop; one thing a line, however many
// surveys there are.
func (h *Handler) helpText() string {
	lines := []string{h.phrase("", "", "sms-help-org")}
	if h.Org.About != "" {
		lines = append(lines, h.Org.About)
	}
	if h.Org.Phone != "" {
		lines = append(lines, h.phrase("", "", "sms-help-phone", "phone", h.Org.Phone))
	}
	lines = append(lines, h.whatToText(), h.phrase("", "", "sms-help-stop"))
	return strings.Join(lines, "\n")
}

// menuText answers a text that is not part of a conversation.
func (h *Handler) menuText() string {
	return strings.Join([]string{h.phrase("", "", "sms-hello"), h.whatToText(), h.phrase("", "", "sms-help-hint")}, "\n")
}

// whatToText says which word starts which survey: one sentence for one
// survey, else a line for each.
func (h *Handler) whatToText() string {
	kws := h.Catalog.Keywords()
	switch len(kws) {
	case 0:
		return h.phrase("", "", "sms-keywords-none")
	case 1:
		return h.phrase(kws[0].SurveyID, "", "sms-keywords-one", "keyword", kws[0].Keyword, "title", kws[0].Title)
	}
	lines := []string{h.phrase("", "", "sms-keywords")}
	for _, k := range kws {
		lines = append(lines, h.phrase("", "", "sms-keywords-item", "keyword", k.Keyword, "title", k.Title))
	}
	return strings.Join(lines, "\n")
}

// finishedText answers a text that comes soon after a member finished a
// survey ("thanks!"): kindly, without inviting them to start over.
func (h *Handler) finishedText(surveyID string) string {
	text := h.phrase(surveyID, "", "sms-finished")
	if sv, _, ok := h.Catalog.Current(surveyID); ok && len(sv.Keywords) > 0 {
		text += "\n" + h.phrase(surveyID, "", "sms-finished-again", "keyword", strings.ToUpper(sv.Keywords[0]))
	}
	return text
}

// lapsedText answers someone whose text conversation timed out: their
// answers are kept, and how to start again.
func (h *Handler) lapsedText(sv *survey.Survey) string {
	return h.phrase(sv.ID, "", "sms-lapsed") + "\n" +
		h.phrase(sv.ID, "", "again-sms", "keyword", strings.ToUpper(sv.Keywords[0]))
}
