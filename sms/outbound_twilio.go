package sms

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	twilio "github.com/twilio/twilio-go"
	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

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
)

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

// classify decides whether a failed request may have sent the text.
func classify(err error) *SendError {
	var te *client.TwilioRestError
	if errors.As(err, &te) {
		se := &SendError{Status: te.Status, Code: te.Code, Err: errors.New(te.Message)}
		switch {
		case te.Code == ErrOptedOut:
			se.Outcome = OptedOut
		case te.Status == http.StatusTooManyRequests || te.Status >= 500 || te.Code == 20429:
			se.Outcome = Retry
		default:
			se.Outcome = Rejected
		}
		return se
	}
	// An error answer Twilio-go could not read: Twilio still said no.
	if strings.Contains(err.Error(), "for an HTTP error code") {
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
