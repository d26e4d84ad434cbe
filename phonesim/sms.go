package phonesim

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf16"
)

// SMSResult is the app's answer to an inbound SMS.
type SMSResult struct {
	MessageSid string
	StatusCode int
	// Messages are the bodies of the <Message> verbs in the reply, in order
	// (surrounding white space trimmed).
	Messages []string
	// Replies has the full <Message> verbs (to, from, media...).
	Replies []Reply
	// Redirect is the URL of a <Redirect>, if the reply had one.
	Redirect string
	Body     []byte // the raw reply
}

// Reply is one <Message> of a messaging TwiML reply.
type Reply struct {
	Body           string
	To, From       string
	Action, Method string
	StatusCallback string
	Media          []string
}

// Text delivers an inbound SMS from the member's number `from` to our number
// `to`, as Twilio would, with a new MessageSid. It returns the reply. The
// error is a *StatusError if the app answered non-2xx (the result is still
// filled in), or a *TwiMLError if the reply is not valid messaging TwiML.
func (e *Emulator) Text(ctx context.Context, from, to, body string) (SMSResult, error) {
	return e.TextWithSid(ctx, NewSID("SM"), from, to, body)
}

// TextWithSid is Text with a given MessageSid: send the same SID twice to
// emulate Twilio delivering a message twice.
func (e *Emulator) TextWithSid(ctx context.Context, messageSid, from, to, body string) (SMSResult, error) {
	form := e.InboundSMSForm(messageSid, from, to, body)
	e.noteOptOut(from, to, body)
	target := e.URL(e.cfg.SMSPath)
	res := SMSResult{MessageSid: messageSid}
	resp, err := e.send(ctx, "POST", target, form, e.cfg.AuthToken)
	if err != nil {
		return res, err
	}
	res.StatusCode = resp.StatusCode
	res.Body = resp.Body
	if err := checkTwiMLResponse(target, resp); err != nil {
		return res, err
	}
	if strings.TrimSpace(string(resp.Body)) == "" {
		return res, nil
	}
	root, err := parseMessaging(resp.Body)
	if err != nil {
		return res, err
	}
	for _, v := range root.Children {
		switch v.Name {
		case "Message":
			r := Reply{To: v.Attrs["to"], From: v.Attrs["from"], Action: v.Attrs["action"],
				Method: v.Attrs["method"], StatusCallback: v.Attrs["statusCallback"], Body: v.Text}
			for _, c := range v.Children {
				switch c.Name {
				case "Body":
					r.Body = c.Text
				case "Media":
					r.Media = append(r.Media, strings.TrimSpace(c.Text))
				}
			}
			r.Body = strings.TrimSpace(r.Body)
			res.Replies = append(res.Replies, r)
			res.Messages = append(res.Messages, r.Body)
		case "Redirect":
			res.Redirect = strings.TrimSpace(v.Text)
		}
	}
	return res, nil
}

// InboundSMSForm returns the parameters Twilio posts for an inbound SMS.
func (e *Emulator) InboundSMSForm(messageSid, from, to, body string) url.Values {
	segs, _ := SegmentCount(body)
	f := url.Values{
		"ToCountry":     {countryOf(to)},
		"ToState":       {""},
		"ToCity":        {""},
		"ToZip":         {""},
		"FromCountry":   {countryOf(from)},
		"FromState":     {""},
		"FromCity":      {""},
		"FromZip":       {""},
		"SmsMessageSid": {messageSid},
		"SmsSid":        {messageSid},
		"MessageSid":    {messageSid},
		"AccountSid":    {e.cfg.AccountSID},
		"From":          {from},
		"To":            {to},
		"Body":          {body},
		"NumMedia":      {"0"},
		"NumSegments":   {strconv.Itoa(segs)},
		"SmsStatus":     {"received"},
		"ApiVersion":    {"2010-04-01"},
	}
	if e.cfg.MessagingServiceSid != "" {
		f["MessagingServiceSid"] = []string{e.cfg.MessagingServiceSid}
	}
	return f
}

var (
	optOutWords = map[string]bool{"STOP": true, "STOPALL": true, "UNSUBSCRIBE": true, "CANCEL": true,
		"END": true, "QUIT": true, "REVOKE": true, "OPTOUT": true}
	optInWords = map[string]bool{"START": true, "YES": true, "UNSTOP": true}
)

// noteOptOut applies Twilio's default opt-out handling for an inbound
// message from member to our number.
func (e *Emulator) noteOptOut(member, ourNumber, body string) {
	if e.cfg.DisableOptOut {
		return
	}
	w := strings.ToUpper(strings.Trim(strings.TrimSpace(body), ".!"))
	var out bool
	switch {
	case optOutWords[w]:
		out = true
	case optInWords[w]:
		out = false
	default:
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, sender := range []string{ourNumber, e.cfg.MessagingServiceSid} {
		if sender == "" {
			continue
		}
		if out {
			e.optedOut[sender+"|"+member] = true
		} else {
			delete(e.optedOut, sender+"|"+member)
		}
	}
}

// OptedOut reports whether member has opted out of messages from sender (a
// phone number or Messaging Service SID).
func (e *Emulator) OptedOut(sender, member string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.optedOut[sender+"|"+member]
}

// gsm7 is the GSM 03.38 basic character set; gsm7ext the extension table
// (each costs two septets).
const (
	gsm7 = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
		"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsm7ext = "^{}\\[]~|€\f"
)

// SegmentCount returns how many SMS segments body takes and its encoding
// ("GSM-7" or "UCS-2"): GSM-7 160 septets (153 per part when split), UCS-2
// 70 UTF-16 units (67 per part). An empty body is one segment.
func SegmentCount(body string) (int, string) {
	septets := 0
	for _, r := range body {
		switch {
		case strings.ContainsRune(gsm7, r):
			septets++
		case strings.ContainsRune(gsm7ext, r):
			septets += 2
		default:
			units := len(utf16.Encode([]rune(body)))
			return parts(units, 70, 67), "UCS-2"
		}
	}
	return parts(septets, 160, 153), "GSM-7"
}

func parts(n, single, multi int) int {
	if n <= single {
		return 1
	}
	return (n + multi - 1) / multi
}
