package webhook

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

// MaxBodyBytes is the largest webhook body Verifier.Check reads. Twilio's
// webhook bodies are a few kilobytes at most.
const MaxBodyBytes = 64 << 10

var (
	// ErrMissingSignature: the request has no X-Twilio-Signature header.
	// Callers answer 403.
	ErrMissingSignature = errors.New("webhook: missing X-Twilio-Signature")
	// ErrBadSignature: the signature (or the JSON body hash) does not match,
	// or the verifier has no auth token to check it with. Callers answer 403.
	ErrBadSignature = errors.New("webhook: invalid X-Twilio-Signature")
	// ErrBadBody: the body is too large or cannot be parsed, so the signature
	// cannot be checked. Callers answer 400 (or 403: nothing is trusted).
	ErrBadBody = errors.New("webhook: unreadable request body")
	// ErrTooLarge (wrapped with ErrBadBody): the body is over MaxBodyBytes.
	ErrTooLarge = errors.New("larger than Twilio ever sends")
)

// Verifier checks the signatures of incoming Twilio webhook requests.
type Verifier struct {
	// AuthToken is the Twilio account's auth token (TWILIO_AUTH_TOKEN).
	AuthToken string
	// PublicURL is the base URL Twilio calls (PUBLIC_URL): scheme, host,
	// optional port and optional path prefix, e.g. "https://hys.example.org"
	// or "https://example.org/hys" behind a proxy that strips "/hys".
	PublicURL string
}

// URL returns the URL Twilio requested, as Twilio signed it: PublicURL
// followed by the request's path and query.
func (v Verifier) URL(r *http.Request) string {
	return strings.TrimRight(v.PublicURL, "/") + r.URL.RequestURI()
}

// Check verifies r's X-Twilio-Signature. For a form POST it reads and parses
// the body (at most MaxBodyBytes), leaves the parsed form in r.PostForm and
// r.Form, and puts the body back so that it can be read again. A request
// whose query has bodySHA256 (Twilio's JSON bodies) is checked by the URL
// alone plus the SHA-256 of its body. Other requests (GET) are checked by the
// URL alone. The error is nil, ErrMissingSignature, ErrBadSignature or
// wraps ErrBadBody.
func (v Verifier) Check(r *http.Request) error {
	if r.Context().Value(checkedKey{}) != nil {
		return nil
	}
	sig := r.Header.Get(SignatureHeader)
	if sig == "" {
		return ErrMissingSignature
	}
	if v.AuthToken == "" {
		return fmt.Errorf("%w (no auth token configured)", ErrBadSignature)
	}
	fullURL := v.URL(r)

	var body []byte
	if r.Body != nil && r.Body != http.NoBody {
		var err error
		body, err = io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
		r.Body.Close()
		if err != nil {
			return fmt.Errorf("%w: %v", ErrBadBody, err)
		}
		if len(body) > MaxBodyBytes {
			return fmt.Errorf("%w: %w (%d bytes)", ErrBadBody, ErrTooLarge, MaxBodyBytes)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	}

	if wantHash := r.URL.Query().Get("bodySHA256"); wantHash != "" {
		sum := sha256.Sum256(body)
		hashOK := equal(hex.EncodeToString(sum[:]), strings.ToLower(wantHash))
		sigOK := Valid(v.AuthToken, fullURL, nil, sig)
		if !hashOK || !sigOK {
			return ErrBadSignature
		}
		return nil
	}

	var form url.Values
	if r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch {
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if ct == "application/x-www-form-urlencoded" || (ct == "" && len(body) > 0) {
			var err error
			form, err = url.ParseQuery(string(body))
			if err != nil {
				return fmt.Errorf("%w: %v", ErrBadBody, err)
			}
		} else if len(body) > 0 {
			return fmt.Errorf("%w: unexpected content type %q without bodySHA256", ErrBadBody, ct)
		}
	}
	if !Valid(v.AuthToken, fullURL, form, sig) {
		return ErrBadSignature
	}
	if form != nil {
		r.PostForm = form
		all := make(url.Values, len(form))
		for k, vs := range form {
			all[k] = append(all[k], vs...)
		}
		for k, vs := range r.URL.Query() {
			all[k] = append(all[k], vs...)
		}
		r.Form = all
	}
	return nil
}

// checkedKey marks a request whose signature Check found good.
type checkedKey struct{}

// Checked returns r marked as checked: Check passes it at once, with the
// form it parsed. Call it only with a request Check found good, so that the
// handlers behind a middleware that checked it do not check it again.
func Checked(r *http.Request) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), checkedKey{}, true))
}

// Middleware answers 403 to requests whose signature is missing or wrong (and
// 400 to unreadable bodies) without calling next; other requests go to next
// with their form already parsed.
func (v Verifier) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := v.Check(r); err != nil {
			code := http.StatusForbidden
			if errors.Is(err, ErrBadBody) {
				code = http.StatusBadRequest
			}
			http.Error(w, http.StatusText(code), code)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// RewriteTransport returns an http.RoundTripper, built on
// http.DefaultTransport, that sends every request to apiURL's scheme and
// host (prefixing apiURL's path, if any) instead of the request's own. Use
// it to point twilio-go's REST client at TWILIO_API_URL (the emulator):
//
//	c := &client.Client{Credentials: client.NewCredentials(sid, token),
//		HTTPClient: &http.Client{Transport: webhook.RewriteTransport(apiURL)}}
//	c.SetAccountSid(sid)
//	rc := twilio.NewRestClientWithParams(twilio.ClientParams{Client: c})
func RewriteTransport(apiURL string) http.RoundTripper {
	return RewriteTransportWith(apiURL, nil)
}

// RewriteTransportWith is RewriteTransport on top of base (nil means
// http.DefaultTransport).
func RewriteTransportWith(apiURL string, base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	u, err := url.Parse(apiURL)
	if err == nil && (u.Host == "" || (u.Scheme != "http" && u.Scheme != "https")) {
		err = fmt.Errorf("webhook: API URL %q needs http(s)://host", apiURL)
	}
	return &rewriteTransport{target: u, err: err, base: base}
}

type rewriteTransport struct {
	target *url.URL
	err    error
	base   http.RoundTripper
}

func (t *rewriteTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, t.err
	}
	r2 := req.Clone(req.Context())
	u := *req.URL
	u.Scheme = t.target.Scheme
	u.Host = t.target.Host
	if p := strings.TrimRight(t.target.Path, "/"); p != "" {
		u.Path = p + u.Path
		if u.RawPath != "" {
			u.RawPath = strings.TrimRight(t.target.EscapedPath(), "/") + u.RawPath
		}
	}
	r2.URL = &u
	r2.Host = ""
	return t.base.RoundTrip(r2)
}

// Refuse answers a request whose Check failed: 400 when the body could not
// be read, 403 otherwise. Nothing else happens to the request.
func Refuse(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ErrTooLarge):
		http.Error(w, fmt.Sprintf("The request is too large (over %d kB): Twilio never sends one this big, so it was ignored.", MaxBodyBytes>>10), http.StatusBadRequest)
		return
	case errors.Is(err, ErrBadBody):
		http.Error(w, "The request body could not be read as a form (Twilio sends application/x-www-form-urlencoded), so it was ignored.", http.StatusBadRequest)
		return
	}
	http.Error(w, "This request is not signed by Twilio with our auth token, so it was ignored.", http.StatusForbidden)
}

// XMLSafe drops the characters XML 1.0 cannot carry (most control
// characters), so any text can go into TwiML.
func XMLSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' || (r >= 0x20 && r != 0xFFFE && r != 0xFFFF) {
			return r
		}
		return -1
	}, s)
}

// Storable makes webhook text something Postgres can hold, keeping the rest
// exactly as sent: invalid UTF-8 becomes U+FFFD, NUL bytes are dropped
// (Postgres text cannot hold them), and when max > 0 it is cut to at most
// max bytes on a character boundary.
func Storable(s string, max int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	s = strings.ReplaceAll(s, "\x00", "")
	if max > 0 && len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return s
}
