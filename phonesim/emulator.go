// Package phonesim emulates Twilio for tests, the CLI simulator, the load
// benchmark and the dashboard's "try it" phone.
//
// It plays Twilio's part against a running HTTP server (the app): it posts
// signed inbound-SMS and voice webhooks with Twilio's parameters, follows the
// voice TwiML the app answers as Twilio does (Say, Play, Pause, Gather,
// Record, Redirect, Hangup, Reject, Dial), validates every TwiML document it
// receives, delivers recording, transcription, call-status and
// message-status callbacks, and serves a fake Twilio REST API (messages and
// recordings) that twilio-go's client can talk to.
//
// Callbacks that Twilio sends some time later (recording status,
// transcription, message status) are queued and delivered by FlushCallbacks,
// so tests are deterministic; set Config.CallbackDelay to have them
// delivered in the background instead.
package phonesim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/haveyoursay/haveyoursay/webhook"
)

// Config configures an Emulator. Only AuthToken and WebhookBase are needed;
// everything else has a default.
type Config struct {
	// AccountSID is the Twilio account ("AC"+32 hex). Default: a fixed test SID.
	AccountSID string
	// AuthToken signs webhooks and authenticates REST calls (alphanumeric,
	// as twilio-go requires).
	AuthToken string
	// WebhookBase is the app's public base URL (its PUBLIC_URL), e.g.
	// http://127.0.0.1:8080. Webhook URLs are WebhookBase + path, and that is
	// the URL signed.
	WebhookBase string

	SMSPath         string // inbound SMS webhook; default "/twilio/sms"
	VoicePath       string // incoming call webhook; default "/twilio/voice"
	VoiceStatusPath string // call status callback; default "/twilio/voice/status"
	// SMSStatusPath is the status callback used for messages sent through a
	// Messaging Service without their own StatusCallback (the service's
	// callback); default "/twilio/sms/status".
	SMSStatusPath string

	// MessagingServiceSid, when set, is sent with inbound messages (as when
	// the number belongs to a Messaging Service).
	MessagingServiceSid string
	// ServiceNumber is the sender Twilio picks for messages sent through a
	// Messaging Service. Default "+15005550006".
	ServiceNumber string

	// APIBase is the URL at which the emulator's REST API (APIHandler) is
	// reachable; recording URLs point there. If empty, the emulator starts
	// its own server on a loopback port when first needed (StartAPIServer).
	APIBase string

	// HTTPClient makes the webhook requests. Default: a client with
	// Twilio's 15 s timeout.
	HTTPClient *http.Client
	// Clock gives the time for timestamps and call durations. Default time.Now.
	Clock func() time.Time

	// DisableOptOut turns off Twilio's default opt-out handling. By default,
	// after a member texts STOP (or another opt-out word) to a number, the
	// REST API refuses messages from that number (or Messaging Service) to
	// them with error 21610 until they text START.
	DisableOptOut bool

	// CallbackDelay, if positive, delivers queued callbacks in the background
	// after this delay; otherwise they wait for FlushCallbacks.
	CallbackDelay time.Duration
}

// DefaultAccountSID is the account SID used when Config.AccountSID is empty.
const DefaultAccountSID = "AC00000000000000000000000000000000"

// Emulator plays Twilio. It is safe for concurrent use.
type Emulator struct {
	cfg    Config
	client *http.Client

	mu         sync.Mutex
	messages   []*Message
	byMsgSid   map[string]*Message
	refused    []Refusal
	failNext   []injectedFailure
	recordings map[string]*recording
	optedOut   map[string]bool // sender+"|"+member
	pending    []*callback
	asyncErrs  []error
	flushing   sync.WaitGroup
	flushMu    sync.Mutex

	apiMu     sync.Mutex
	apiURL    string
	apiServer *http.Server
	apiLn     net.Listener
}

// New returns an Emulator for cfg with defaults filled in.
func New(cfg Config) *Emulator {
	if cfg.AccountSID == "" {
		cfg.AccountSID = DefaultAccountSID
	}
	if cfg.SMSPath == "" {
		cfg.SMSPath = "/twilio/sms"
	}
	if cfg.VoicePath == "" {
		cfg.VoicePath = "/twilio/voice"
	}
	if cfg.VoiceStatusPath == "" {
		cfg.VoiceStatusPath = "/twilio/voice/status"
	}
	if cfg.SMSStatusPath == "" {
		cfg.SMSStatusPath = "/twilio/sms/status"
	}
	if cfg.ServiceNumber == "" {
		cfg.ServiceNumber = "+15005550006"
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	cfg.WebhookBase = strings.TrimRight(cfg.WebhookBase, "/")
	cfg.APIBase = strings.TrimRight(cfg.APIBase, "/")
	c := cfg.HTTPClient
	if c == nil {
		c = &http.Client{Timeout: 15 * time.Second}
	}
	return &Emulator{
		cfg:        cfg,
		client:     c,
		byMsgSid:   map[string]*Message{},
		recordings: map[string]*recording{},
		optedOut:   map[string]bool{},
		apiURL:     cfg.APIBase,
	}
}

// Config returns the emulator's configuration, defaults filled in.
func (e *Emulator) Config() Config { return e.cfg }

// URL returns the absolute webhook URL for path (WebhookBase + path).
func (e *Emulator) URL(path string) string {
	if strings.HasPrefix(path, "http://") || strings.HasPrefix(path, "https://") {
		return path
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	return e.cfg.WebhookBase + path
}

// NewSID returns a new random Twilio-style SID: prefix + 32 hex digits.
func NewSID(prefix string) string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return prefix + hex.EncodeToString(b[:])
}

// StatusError is returned when a webhook answers with a non-2xx status.
type StatusError struct {
	URL        string
	StatusCode int
	Body       string
}

func (e *StatusError) Error() string {
	body := e.Body
	if len(body) > 200 {
		body = body[:200] + "…"
	}
	return fmt.Sprintf("phonesim: %s answered %d: %s", e.URL, e.StatusCode, strings.TrimSpace(body))
}

// Response is a webhook's answer.
type Response struct {
	StatusCode  int
	ContentType string
	Header      http.Header
	Body        []byte
}

// PostForm POSTs form, signed like Twilio, to path (relative to WebhookBase,
// or an absolute URL) and returns the answer whatever its status. Use it for
// bad-input tests.
func (e *Emulator) PostForm(ctx context.Context, path string, form url.Values) (*Response, error) {
	return e.send(ctx, http.MethodPost, e.URL(path), form, e.cfg.AuthToken)
}

// PostUnsigned POSTs form to path with the signature computed with the given
// auth token ("" means no X-Twilio-Signature header at all): for testing
// that the app rejects forged requests.
func (e *Emulator) PostUnsigned(ctx context.Context, path string, form url.Values, signWith string) (*Response, error) {
	return e.send(ctx, http.MethodPost, e.URL(path), form, signWith)
}

// send makes a webhook request like Twilio: POST with a form body, or GET
// with the parameters appended to the query; signed with token unless empty.
func (e *Emulator) send(ctx context.Context, method, target string, form url.Values, token string) (*Response, error) {
	var body io.Reader
	if method == http.MethodGet {
		if len(form) > 0 {
			sep := "?"
			if strings.Contains(target, "?") {
				sep = "&"
			}
			target += sep + form.Encode()
		}
		form = nil
	} else {
		method = http.MethodPost
		body = strings.NewReader(form.Encode())
	}
	// Twilio's connection overrides (#ct=, #rt=...) live in the fragment,
	// which is never sent, nor signed.
	if i := strings.IndexByte(target, '#'); i >= 0 {
		target = target[:i]
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
	}
	req.Header.Set("User-Agent", "TwilioProxy/1.1")
	req.Header.Set("Accept", "*/*")
	req.Header.Set("I-Twilio-Idempotency-Token", NewSID(""))
	if token != "" {
		req.Header.Set(webhook.SignatureHeader, webhook.Sign(token, target, form))
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	return &Response{StatusCode: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Header: resp.Header, Body: b}, nil
}

// checkTwiMLResponse checks a webhook answer carries TwiML.
func checkTwiMLResponse(target string, r *Response) error {
	if r.StatusCode < 200 || r.StatusCode > 299 {
		return &StatusError{URL: target, StatusCode: r.StatusCode, Body: string(r.Body)}
	}
	if len(strings.TrimSpace(string(r.Body))) == 0 {
		return nil
	}
	mt, _, _ := mime.ParseMediaType(r.ContentType)
	switch mt {
	case "text/xml", "application/xml", "text/html":
		return nil
	}
	return fmt.Errorf("phonesim: %s answered Content-Type %q; Twilio needs text/xml or application/xml for TwiML (error 12300)", target, r.ContentType)
}

// StartAPIServer starts the emulator's REST API on a loopback port, unless
// it is already running or Config.APIBase is set, and returns its base URL.
func (e *Emulator) StartAPIServer() (string, error) {
	e.apiMu.Lock()
	defer e.apiMu.Unlock()
	if e.apiURL != "" {
		return e.apiURL, nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	e.apiLn = ln
	e.apiServer = &http.Server{Handler: e.APIHandler(), ReadHeaderTimeout: 10 * time.Second}
	go e.apiServer.Serve(ln)
	e.apiURL = "http://" + ln.Addr().String()
	return e.apiURL, nil
}

// APIURL returns the base URL of the REST API ("" if it is not running and
// Config.APIBase is not set).
func (e *Emulator) APIURL() string {
	e.apiMu.Lock()
	defer e.apiMu.Unlock()
	return e.apiURL
}

// Close stops the API server started by StartAPIServer and waits for
// background callbacks.
func (e *Emulator) Close() error {
	e.flushing.Wait()
	e.apiMu.Lock()
	defer e.apiMu.Unlock()
	if e.apiServer != nil {
		err := e.apiServer.Close()
		e.apiServer = nil
		if e.cfg.APIBase == "" {
			e.apiURL = ""
		}
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		return err
	}
	return nil
}

func (e *Emulator) now() time.Time { return e.cfg.Clock() }

// countryOf guesses the ISO country of an E.164 number, as Twilio's
// FromCountry/ToCountry.
func countryOf(number string) string {
	switch {
	case strings.HasPrefix(number, "+44"):
		return "GB"
	case strings.HasPrefix(number, "+1"):
		return "US"
	case strings.HasPrefix(number, "+353"):
		return "IE"
	case strings.HasPrefix(number, "+61"):
		return "AU"
	}
	return ""
}
