package ivr

import (
	"html"
	"net/http"
	"regexp"
	"strings"

	"github.com/beevik/etree"
	"github.com/haveyoursay/haveyoursay/survey"
	"github.com/haveyoursay/haveyoursay/webhook"
	"github.com/twilio/twilio-go/twiml"
)

// emptyAttr stands for an attribute whose value is the empty string:
// twilio-go drops empty attributes, but finishOnKey="" is what lets "#"
// arrive as a key press (skip) instead of ending the input.
const emptyAttr = "\x00empty"

// prosody is SSML's <prosody>: twilio-go's own renders as <Prosody>, which
// Twilio rejects (error 12200).
type prosody struct{ rate, text string }

func (p prosody) GetName() string { return "prosody" }
func (p prosody) GetText() string { return p.text }
func (p prosody) GetAttr() (map[string]string, map[string]string) {
	return nil, map[string]string{"rate": p.rate}
}
func (p prosody) GetInnerElements() []twiml.Element { return nil }

// fallbackTwiML is answered when even building TwiML fails.
var fallbackTwiML = `<?xml version="1.0" encoding="UTF-8"?><Response><Say>` +
	html.EscapeString(survey.Phrase("", "voice-sorry-end")) + `</Say><Hangup/></Response>`

// render builds a voice TwiML document.
func render(els []twiml.Element) (doc string) {
	defer func() {
		if recover() != nil {
			doc = fallbackTwiML
		}
	}()
	d, resp := twiml.CreateDocument()
	twiml.AddAllVerbs(resp, els)
	fixEmpty(resp)
	s, err := twiml.ToXML(d)
	if err != nil {
		return fallbackTwiML
	}
	return s
}

func fixEmpty(e *etree.Element) {
	for i := range e.Attr {
		if e.Attr[i].Value == emptyAttr {
			e.Attr[i].Value = ""
		}
	}
	for _, c := range e.ChildElements() {
		fixEmpty(c)
	}
}

func writeTwiML(w http.ResponseWriter, els []twiml.Element) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	w.Write([]byte(render(els)))
}

var languageTag = regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$`)

// regions gives Twilio a full tag for a survey language written without a
// region ("cy" becomes "cy-GB"): Twilio's speech and voices need one.
var regions = map[string]string{
	"en": "en-GB", "cy": "cy-GB", "gd": "en-GB", "ga": "en-IE", "pl": "pl-PL", "ur": "en-GB", "pa": "en-GB",
	"bn": "en-GB", "gu": "en-GB", "ar": "arb", "so": "en-GB", "fr": "fr-FR", "es": "es-ES", "pt": "pt-PT",
	"ro": "ro-RO", "it": "it-IT", "de": "de-DE", "zh": "cmn-CN",
}

// twilioLanguage turns a survey language into Twilio's language attribute.
func (h *Handler) twilioLanguage(lang string) string {
	if strings.Contains(lang, "-") && languageTag.MatchString(lang) {
		return lang
	}
	if r, ok := regions[strings.ToLower(lang)]; ok {
		return r
	}
	return h.conf().Language
}

// voiceFor picks the configured voice for a language ("" leaves Twilio's
// default voice for that language).
func (h *Handler) voiceFor(lang string) string {
	c := h.conf()
	if v, ok := c.Voices[lang]; ok {
		return v
	}
	base := func(l string) string { return strings.ToLower(strings.SplitN(l, "-", 2)[0]) }
	if base(lang) == base(c.Language) {
		return c.Voice
	}
	return ""
}

// say speaks text in lang at the configured pace (slower when the member's
// needs ask for it). Only Polly and Google voices understand SSML.
func (h *Handler) say(text, lang string, slow bool) twiml.Element {
	text = strings.TrimSpace(webhook.XMLSafe(text))
	tl := h.twilioLanguage(lang)
	voice := h.voiceFor(tl)
	s := &twiml.VoiceSay{Voice: voice, Language: tl}
	rate := h.conf().Rate
	if slow {
		rate = h.conf().SlowRate
	}
	if rate != "" && (strings.HasPrefix(voice, "Polly.") || strings.HasPrefix(voice, "Google.")) {
		s.InnerElements = []twiml.Element{prosody{rate: rate, text: text}}
	} else {
		s.Message = text
	}
	return s
}
