package sms

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"time"

	twilio "github.com/twilio/twilio-go"
	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/webhook"
)

// Texter sends texts through Twilio's REST API (or the emulator, when
// TWILIO_API_URL is set).
type Texter struct {
	rc *twilio.RestClient
	// StatusCallback is where Twilio reports delivery (PUBLIC_URL +
	// /twilio/sms/status); empty for none.
	StatusCallback string
}

// NewTexter makes a Texter for the account. apiURL is TWILIO_API_URL ("" for
// the real Twilio); publicURL is PUBLIC_URL, used for delivery callbacks.
func NewTexter(accountSID, authToken, apiURL, publicURL string) *Texter {
	hc := &http.Client{Timeout: 15 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if apiURL != "" {
		hc.Transport = webhook.RewriteTransport(apiURL)
	}
	c := &client.Client{Credentials: client.NewCredentials(accountSID, authToken), HTTPClient: hc}
	c.SetAccountSid(accountSID)
	t := &Texter{rc: twilio.NewRestClientWithParams(twilio.ClientParams{Client: c})}
	if publicURL != "" {
		t.StatusCallback = strings.TrimRight(publicURL, "/") + "/twilio/sms/status"
	}
	return t
}

// SendOutcome is what a failed send means for what to do next.
type SendOutcome int

// Send outcomes.
const (
	// Retry: Twilio did not take the text (429, 5xx, no connection): try
	// again later.
	Retry SendOutcome = iota + 1
	// OptedOut: Twilio error 21610, the number texted STOP to Twilio.
	OptedOut
	// Rejected: Twilio will never take this text (a bad number, ...).
	Rejected
	// Unknown: the request went out but no answer came back. Twilio may have
	// sent the text, so it is never sent again.
	Unknown
	// AccountProblem: Twilio refused our account (a wrong TWILIO_AUTH_TOKEN
	// or TWILIO_ACCOUNT_SID, an account that is suspended or out of funds)
	// or the number we send from (not one of our Twilio numbers, or one
	// that cannot send texts): no text from this sender can go. It is our
	// problem, not the member's: the text stays queued and is tried again
	// later.
	AccountProblem
	// SetupProblem: how our Twilio account is set up stops texts to some
	// numbers only (a country not switched on, a trial account's unverified
	// number); texts to other numbers still go. Also our problem, not the
	// member's: the text stays queued and is tried again later.
	SetupProblem
)

// AccountDetailsReason is what staff are told when Twilio does not accept
// the account SID and auth token.
const AccountDetailsReason = "Twilio did not accept our account details: check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN."

// FromReason is what staff are told when Twilio will not send from the
// number (or sender) we give it.
const FromReason = "Twilio will not send from this number: check TWILIO_SMS_FROM or the survey's number, and that it can send texts."

// accountCodes are Twilio's error codes that are about our account or the
// number we send from, not the number texted, with what they mean in plain
// words. Every text from the same sender would be refused the same way.
var accountCodes = map[int]string{
	20003: AccountDetailsReason, // Authenticate / permission denied
	20404: AccountDetailsReason, // the account in the address does not exist
	21222: AccountDetailsReason, // TWILIO_ACCOUNT_SID has characters an SID cannot have
	21224: AccountDetailsReason, // TWILIO_AUTH_TOKEN likewise
	20005: "Our Twilio account is not active (perhaps it ran out of funds, or the free trial was not started): check it in Twilio's Console.",
	10001: "Our Twilio account is not active (perhaps it ran out of funds, or it was suspended): check it in Twilio's Console.",
	20008: "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are Twilio's test credentials, which cannot send real texts.",
	21606: FromReason, // From is not a message-capable Twilio number of this account
	21659: FromReason, // From is not a Twilio number (or verified caller ID) of this account
	21212: FromReason, // From is not a valid number or sender
}

// setupCodes are Twilio's error codes that are about how our account is
// set up, but stop texts to some numbers only: other numbers still go.
var setupCodes = map[int]string{
	21408: "Texts to this country are not switched on for our Twilio account: turn it on under Messaging > Settings > Geo permissions in the Twilio console.",
	21608: "Our Twilio account is a trial account, which can only text numbers verified in Twilio: verify the number in the Twilio console, or upgrade the account.",
}

// holdCodes are the Twilio error codes that keep a text queued because of
// our own setup (account, sender, permissions), never failing it.
func holdCodes() []int {
	codes := make([]int, 0, len(accountCodes)+len(setupCodes))
	for c := range accountCodes {
		codes = append(codes, c)
	}
	for c := range setupCodes {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	return codes
}

// plainReasons say in plain words why Twilio would not take a text.
var plainReasons = map[int]string{
	ErrOptedOut: "They asked Twilio for no more texts (STOP).",
	21211:       "Twilio says this is not a valid phone number.",
	21214:       "Twilio says this number cannot be reached.",
	21265:       "Twilio will not text this number because it is one of our own numbers.",
	21602:       "The text was empty.",
	21612:       "Twilio cannot send texts between the number we send from and this number.",
	21614:       "This number is not a mobile, so it cannot get texts.",
	21617:       "The text is too long (over 1,600 characters).",
	21635:       "This number cannot get texts.",
	30003:       "The phone is switched off or out of reach.",
	30004:       "The text was blocked by the member's phone or network.",
	30005:       "The number is unknown or no longer in use.",
	30006:       "This number is a landline or cannot get texts.",
	30007:       "The mobile network filtered the text as possible spam.",
	30008:       "The mobile network did not deliver the text and did not say why.",
}

// Reason says in plain words, for staff, why the text was not taken. The
// Twilio error code is kept separately.
func (e *SendError) Reason() string {
	if r, ok := accountCodes[e.Code]; ok {
		return r
	}
	if r, ok := setupCodes[e.Code]; ok {
		return r
	}
	if r, ok := plainReasons[e.Code]; ok {
		return r
	}
	switch e.Outcome {
	case AccountProblem:
		return AccountDetailsReason
	case Retry:
		return "Twilio was busy or down; we will try again."
	case Unknown:
		return "We could not tell if Twilio sent this text, so we did not send it again."
	}
	if e.Code != 0 {
		return fmt.Sprintf("Twilio would not send this text (Twilio error %d).", e.Code)
	}
	if e.Status != 0 {
		return fmt.Sprintf("Twilio would not send this text (it answered %d).", e.Status)
	}
	return "Twilio would not send this text."
}

// SendError is a text Twilio did not (or may not have) taken.
type SendError struct {
	Outcome SendOutcome
	Status  int // HTTP status, when Twilio answered
	Code    int // Twilio error code, when Twilio answered
	Err     error
}

func (e *SendError) Error() string {
	if e.Code != 0 {
		return fmt.Sprintf("Twilio answered %d, error %d: %v", e.Status, e.Code, e.Err)
	}
	return e.Err.Error()
}

func (e *SendError) Unwrap() error { return e.Err }

// Send texts body to the number to from sender (a number, or a Messaging
// Service SID starting MG) and returns the MessageSid. A failure is a
// *SendError.
func (t *Texter) Send(sender, to, body string) (string, error) {
	p := &openapi.CreateMessageParams{}
	p.SetTo(to).SetBody(body)
	if strings.HasPrefix(sender, "MG") {
		p.SetMessagingServiceSid(sender)
	} else {
		p.SetFrom(sender)
	}
	if t.StatusCallback != "" {
		p.SetStatusCallback(t.StatusCallback)
	}
	m, err := t.rc.Api.CreateMessage(p)
	if err != nil {
		return "", classify(err)
	}
	if m == nil || m.Sid == nil || *m.Sid == "" {
		return "", &SendError{Outcome: Unknown, Err: errors.New("Twilio's answer had no MessageSid")}
	}
	return *m.Sid, nil
}

// FromRefused reports whether a Twilio error code refuses the number we
// send from (not the account as a whole).
func FromRefused(code int) bool { return code == 21606 || code == 21659 || code == 21212 }

// classify decides whether a failed request may have sent the text.
func classify(err error) *SendError {
	var te *client.TwilioRestError
	if errors.As(err, &te) {
		// Twilio's message may name the number: never keep it in clear.
		se := &SendError{Status: te.Status, Code: te.Code, Err: errors.New(store.MaskNumbers(te.Message))}
		_, account := accountCodes[te.Code]
		_, setup := setupCodes[te.Code]
		switch {
		case te.Code == ErrOptedOut:
			se.Outcome = OptedOut
		case account || te.Status == http.StatusUnauthorized:
			se.Outcome = AccountProblem
		case setup:
			se.Outcome = SetupProblem
		case te.Status == http.StatusTooManyRequests || te.Status >= 500 || te.Code == 20429 || te.Code == 21611:
			se.Outcome = Retry
		default:
			se.Outcome = Rejected
		}
		return se
	}
	// An error answer Twilio-go could not read: Twilio still said no.
	if msg := err.Error(); strings.Contains(msg, "for an HTTP error code") {
		if strings.Contains(msg, "for an HTTP error code: 401") {
			return &SendError{Outcome: AccountProblem, Status: http.StatusUnauthorized, Err: err}
		}
		return &SendError{Outcome: Retry, Err: err}
	}
	// Nothing reached Twilio when the connection could not be made.
	var op *net.OpError
	var dns *net.DNSError
	if errors.As(err, &dns) || (errors.As(err, &op) && op.Op == "dial") {
		return &SendError{Outcome: Retry, Err: err}
	}
	// A broken connection, a time-out or an answer that could not be read:
	// the request may have reached Twilio.
	return &SendError{Outcome: Unknown, Err: err}
}
