package webhook

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/twilio/twilio-go/client"
)

const (
	vecToken = "12345"
	vecURL   = "https://mycompany.com/myapp.php?foo=1&bar=2"
)

func form(kv ...string) url.Values {
	f := url.Values{}
	for i := 0; i < len(kv); i += 2 {
		f.Add(kv[i], kv[i+1])
	}
	return f
}

var (
	docsParams = form("CallSid", "CA1234567890ABCDE", "Caller", "+12349013030", "Digits", "1234",
		"From", "+12349013030", "To", "+18005551212")
	sdkParams = form("CallSid", "CA1234567890ABCDE", "Caller", "+14158675309", "Digits", "1234",
		"From", "+14158675309", "To", "+18005551212")
)

func TestPublishedVectors(t *testing.T) {
	httpURL := strings.Replace(vecURL, "https://", "http://", 1)
	cases := []struct {
		name string
		url  string
		form url.Values
		sig  string
	}{
		{"docs example", vecURL, docsParams, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="},
		{"sdk params", vecURL, sdkParams, "RSOYDt4T1cUTdK1PDd93/VVr8B8="},
		{"sdk params, URL has :1234 (removed)", strings.Replace(vecURL, ".com", ".com:1234", 1), sdkParams, "RSOYDt4T1cUTdK1PDd93/VVr8B8="},
		{"signed with :443, URL without", vecURL, sdkParams, "kvajT1Ptam85bY51eRf/AJRuM3w="},
		{"signed with :443, URL with :443", strings.Replace(vecURL, ".com", ".com:443", 1), sdkParams, "kvajT1Ptam85bY51eRf/AJRuM3w="},
		{"signed without port, URL with :443", strings.Replace(vecURL, ".com", ".com:443", 1), sdkParams, "RSOYDt4T1cUTdK1PDd93/VVr8B8="},
		{"http signed with :80, URL without", httpURL, sdkParams, "0ZXoZLH/DfblKGATFgpif+LLRf4="},
		{"http signed with :80, URL with :80", strings.Replace(httpURL, ".com", ".com:80", 1), sdkParams, "0ZXoZLH/DfblKGATFgpif+LLRf4="},
		{"repeated key", vecURL, form("Sid", "CA123", "SidAccount", "AC123", "Digits", "5678", "Digits", "1234"), "IK+Dwps556ElfBT0I3Rgjkr1wJU="},
		{"repeated key, other order", vecURL, form("Digits", "1234", "Sid", "CA123", "Digits", "5678", "SidAccount", "AC123"), "IK+Dwps556ElfBT0I3Rgjkr1wJU="},
		{"repeated key, duplicate value", vecURL, form("Sid", "CA123", "SidAccount", "AC123", "Digits", "5678", "Digits", "1234", "Digits", "1234"), "IK+Dwps556ElfBT0I3Rgjkr1wJU="},
		{"twilio-go test vector", vecURL, form("Digits", "1234", "CallSid", "CA1234567890ABCDE", "To", "+18005551212",
			"Caller", "+14158675309", "From", "+14158675309", "ReasonConferenceEnded", "test", "Reason", "Participant"), "vOEb5UThFn24KEfnOFLQY2AE5FY="},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !Valid(vecToken, c.url, c.form, c.sig) {
				t.Errorf("Valid(%q) = false, want true", c.url)
			}
		})
	}
	if got := Sign(vecToken, vecURL, docsParams); got != "0/KCTR6DLpKmkAf8muzZqo1nDgQ=" {
		t.Errorf("Sign docs example = %q", got)
	}
	if got := Sign(vecToken, vecURL, sdkParams); got != "RSOYDt4T1cUTdK1PDd93/VVr8B8=" {
		t.Errorf("Sign sdk example = %q", got)
	}
	if got := Sign(vecToken, strings.Replace(vecURL, ".com", ".com:443", 1), sdkParams); got != "kvajT1Ptam85bY51eRf/AJRuM3w=" {
		t.Errorf("Sign :443 = %q", got)
	}
	if got := Sign(vecToken, vecURL, form("Sid", "CA123", "SidAccount", "AC123", "Digits", "5678", "Digits", "1234")); got != "IK+Dwps556ElfBT0I3Rgjkr1wJU=" {
		t.Errorf("Sign repeated key = %q", got)
	}
}

func TestJSONBodyVector(t *testing.T) {
	body := `{"property": "value", "boolean": true}`
	const hash = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
	sum := sha256.Sum256([]byte(body))
	if hex.EncodeToString(sum[:]) != hash {
		t.Fatalf("body hash mismatch")
	}
	u := vecURL + "&bodySHA256=" + hash
	if !Valid(vecToken, u, nil, "a9nBmqA0ju/hNViExpshrM61xv4=") {
		t.Fatal("JSON vector: URL signature not valid")
	}

	v := Verifier{AuthToken: vecToken, PublicURL: "https://mycompany.com"}
	req := func(b string) *http.Request {
		r := httptest.NewRequest("POST", "http://internal:8080/myapp.php?foo=1&bar=2&bodySHA256="+hash, strings.NewReader(b))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set(SignatureHeader, "a9nBmqA0ju/hNViExpshrM61xv4=")
		return r
	}
	r := req(body)
	if err := v.Check(r); err != nil {
		t.Fatalf("Check JSON body: %v", err)
	}
	if b, _ := io.ReadAll(r.Body); string(b) != body {
		t.Errorf("body not restored: %q", b)
	}
	if err := v.Check(req(`{"property": "other", "boolean": true}`)); !errors.Is(err, ErrBadSignature) {
		t.Errorf("tampered JSON body: err = %v, want ErrBadSignature", err)
	}
}

func TestPortVariantsIPv6AndLiteral(t *testing.T) {
	f := form("A", "1")
	cases := []struct{ signedAs, checked string }{
		{"https://[::1]/x?y=1", "https://[::1]:443/x?y=1"},
		{"https://[::1]:443/x?y=1", "https://[::1]/x?y=1"},
		{"http://[2001:db8::1]/x", "http://[2001:db8::1]:8080/x"},
		{"https://user:pw@example.com:443/p", "https://user:pw@example.com/p"},
		{"http://127.0.0.1/twilio/sms", "http://127.0.0.1:80/twilio/sms"},
	}
	for _, c := range cases {
		if !Valid("tok", c.checked, f, Sign("tok", c.signedAs, f)) {
			t.Errorf("signed as %q, not accepted for %q", c.signedAs, c.checked)
		}
	}
	// The URL is a literal string: escaping, case and host must match.
	lit := []struct{ signedAs, checked string }{
		{"https://example.com/a%20b", "https://example.com/a b"},
		{"https://example.com/A", "https://example.com/a"},
		{"https://[::1]/x", "https://[::2]/x"},
		{"https://example.com/p", "https://user:pw@example.com/p"},
	}
	for _, c := range lit {
		if Valid("tok", c.checked, f, Sign("tok", c.signedAs, f)) {
			t.Errorf("signed as %q, wrongly accepted for %q", c.signedAs, c.checked)
		}
	}
	if got := urlVariants("https://[::1]/x"); len(got) != 2 || got[1] != "https://[::1]:443/x" {
		t.Errorf("urlVariants IPv6 = %q", got)
	}
}

func TestCrossCheckWithTwilioGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const alphabet = "abcXYZ019 +-_&=?%/é€😀"
	randStr := func(n int) string {
		r := []rune(alphabet)
		var b strings.Builder
		for range n {
			b.WriteRune(r[rng.IntN(len(r))])
		}
		return b.String()
	}
	urls := []string{"https://example.org/twilio/voice", "http://127.0.0.1:8080/twilio/sms?x=1", "https://example.org:443/a?b=c&d=e"}
	for i := range 300 {
		token := fmt.Sprintf("tok%d", rng.IntN(1e6))
		u := urls[i%len(urls)]
		f := url.Values{}
		m := map[string]string{}
		for range rng.IntN(8) {
			k, v := randStr(1+rng.IntN(6)), randStr(rng.IntN(10))
			f.Set(k, v)
			m[k] = v
		}
		sig := Sign(token, u, f)
		rv := client.NewRequestValidator(token)
		if !rv.Validate(u, m, sig) {
			t.Fatalf("twilio-go rejects our signature: url=%q form=%v", u, f)
		}
		if !rv.ValidateBody(u, []byte(f.Encode()), sig) {
			t.Fatalf("twilio-go ValidateBody rejects our signature: url=%q form=%v", u, f)
		}
		if !Valid(token, u, f, sig) {
			t.Fatalf("Valid rejects our own signature")
		}
	}
}

func TestTamper(t *testing.T) {
	f := form("CallSid", "CA1", "Digits", "1", "From", "+447700900123")
	sig := Sign("secret", "https://hys.example.org/twilio/voice", f)
	changed := form("CallSid", "CA1", "Digits", "2", "From", "+447700900123")
	added := form("CallSid", "CA1", "Digits", "1", "From", "+447700900123", "X", "")
	repeated := form("CallSid", "CA1", "Digits", "1", "Digits", "2", "From", "+447700900123")
	cases := []struct {
		name, token, url string
		form             url.Values
		sig              string
	}{
		{"wrong token", "other", "https://hys.example.org/twilio/voice", f, sig},
		{"wrong url", "secret", "https://hys.example.org/twilio/sms", f, sig},
		{"wrong scheme", "secret", "http://hys.example.org/twilio/voice", f, sig},
		{"query added", "secret", "https://hys.example.org/twilio/voice?a=1", f, sig},
		{"changed param", "secret", "https://hys.example.org/twilio/voice", changed, sig},
		{"added param", "secret", "https://hys.example.org/twilio/voice", added, sig},
		{"repeated param", "secret", "https://hys.example.org/twilio/voice", repeated, sig},
		{"empty signature", "secret", "https://hys.example.org/twilio/voice", f, ""},
		{"garbage signature", "secret", "https://hys.example.org/twilio/voice", f, "not-base64"},
	}
	for _, c := range cases {
		if Valid(c.token, c.url, c.form, c.sig) {
			t.Errorf("%s: accepted", c.name)
		}
	}
}

func signedRequest(t *testing.T, token, signURL, target string, f url.Values) *http.Request {
	t.Helper()
	r := httptest.NewRequest("POST", target, strings.NewReader(f.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
	r.Header.Set(SignatureHeader, Sign(token, signURL, f))
	return r
}

func TestVerifierCheck(t *testing.T) {
	f := form("MessageSid", "SM1", "Body", "hello & bye", "From", "+447700900123")
	v := Verifier{AuthToken: "secret", PublicURL: "https://hys.example.org"}

	r := signedRequest(t, "secret", "https://hys.example.org/twilio/sms?x=1", "http://10.0.0.5:8080/twilio/sms?x=1", f)
	if err := v.Check(r); err != nil {
		t.Fatalf("valid request: %v", err)
	}
	if r.PostForm.Get("Body") != "hello & bye" || r.FormValue("x") != "1" || r.FormValue("From") != "+447700900123" {
		t.Errorf("form not available after Check: %v / %v", r.PostForm, r.Form)
	}
	if b, _ := io.ReadAll(r.Body); string(b) != f.Encode() {
		t.Errorf("body not restored")
	}

	// Default port in PUBLIC_URL, signature without it.
	v443 := Verifier{AuthToken: "secret", PublicURL: "https://hys.example.org:443/"}
	if err := v443.Check(signedRequest(t, "secret", "https://hys.example.org/twilio/sms", "http://app/twilio/sms", f)); err != nil {
		t.Errorf("PUBLIC_URL with :443: %v", err)
	}

	missing := signedRequest(t, "secret", "https://hys.example.org/twilio/sms", "http://app/twilio/sms", f)
	missing.Header.Del(SignatureHeader)
	if err := v.Check(missing); !errors.Is(err, ErrMissingSignature) {
		t.Errorf("missing header: %v", err)
	}
	if err := v.Check(signedRequest(t, "other", "https://hys.example.org/twilio/sms", "http://app/twilio/sms", f)); !errors.Is(err, ErrBadSignature) {
		t.Errorf("wrong token: %v", err)
	}
	if err := v.Check(signedRequest(t, "secret", "https://hys.example.org/twilio/sms", "http://app/twilio/voice", f)); !errors.Is(err, ErrBadSignature) {
		t.Errorf("wrong path: %v", err)
	}
	tampered := signedRequest(t, "secret", "https://hys.example.org/twilio/sms", "http://app/twilio/sms", f)
	tampered.Body = io.NopCloser(strings.NewReader(f.Encode() + "&Extra=1"))
	if err := v.Check(tampered); !errors.Is(err, ErrBadSignature) {
		t.Errorf("added param: %v", err)
	}
	if err := (Verifier{PublicURL: "https://hys.example.org"}).Check(signedRequest(t, "", "https://hys.example.org/twilio/sms", "http://app/twilio/sms", f)); !errors.Is(err, ErrBadSignature) {
		t.Errorf("empty auth token must fail closed: %v", err)
	}

	bad := signedRequest(t, "secret", "https://hys.example.org/twilio/sms", "http://app/twilio/sms", f)
	bad.Body = io.NopCloser(strings.NewReader("a=%zz"))
	if err := v.Check(bad); !errors.Is(err, ErrBadBody) {
		t.Errorf("unparsable body: %v", err)
	}
	big := signedRequest(t, "secret", "https://hys.example.org/twilio/sms", "http://app/twilio/sms", f)
	big.Body = io.NopCloser(strings.NewReader("Body=" + strings.Repeat("a", MaxBodyBytes)))
	bigErr := v.Check(big)
	if !errors.Is(bigErr, ErrBadBody) || !errors.Is(bigErr, ErrTooLarge) {
		t.Errorf("oversized body: %v", bigErr)
	}
	// Refuse says which, in a sentence.
	for _, c := range []struct {
		err  error
		code int
		says string
	}{
		{bigErr, 400, "too large"},
		{fmt.Errorf("%w: x", ErrBadBody), 400, "could not be read as a form"},
		{ErrBadSignature, 403, "not signed by Twilio with our auth token"},
	} {
		w := httptest.NewRecorder()
		Refuse(w, c.err)
		if w.Code != c.code || !strings.Contains(w.Body.String(), c.says) {
			t.Errorf("Refuse(%v) = %d %q", c.err, w.Code, w.Body)
		}
	}

	get := httptest.NewRequest("GET", "http://app/audio/x.wav?CallSid=CA1", nil)
	get.Header.Set(SignatureHeader, Sign("secret", "https://hys.example.org/audio/x.wav?CallSid=CA1", nil))
	if err := v.Check(get); err != nil {
		t.Errorf("GET: %v", err)
	}
}

func TestVerifierPathPrefixBehindProxy(t *testing.T) {
	v := Verifier{AuthToken: "secret", PublicURL: "https://example.org/hys/"}
	f := form("CallSid", "CA1", "CallStatus", "ringing")
	// Twilio called https://example.org/hys/twilio/voice; the proxy stripped /hys.
	r := signedRequest(t, "secret", "https://example.org/hys/twilio/voice", "http://127.0.0.1:8080/twilio/voice", f)
	if err := v.Check(r); err != nil {
		t.Fatalf("prefixed PUBLIC_URL: %v", err)
	}
	r = signedRequest(t, "secret", "https://example.org/twilio/voice", "http://127.0.0.1:8080/twilio/voice", f)
	if err := v.Check(r); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("signature without the prefix must fail: %v", err)
	}
}

func TestMiddleware(t *testing.T) {
	v := Verifier{AuthToken: "secret", PublicURL: "https://hys.example.org"}
	called := 0
	h := v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		called++
		io.WriteString(w, r.PostFormValue("Body"))
	}))
	f := form("Body", "hi")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, signedRequest(t, "secret", "https://hys.example.org/twilio/sms", "http://app/twilio/sms", f))
	if rec.Code != 200 || rec.Body.String() != "hi" {
		t.Errorf("good request: %d %q", rec.Code, rec.Body.String())
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, signedRequest(t, "nope", "https://hys.example.org/twilio/sms", "http://app/twilio/sms", f))
	if rec.Code != 403 || called != 1 {
		t.Errorf("bad request: %d, handler called %d times", rec.Code, called)
	}
}

func TestRewriteTransport(t *testing.T) {
	var got *http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		w.WriteHeader(204)
	}))
	defer srv.Close()
	c := &http.Client{Transport: RewriteTransport(srv.URL + "/fake")}
	resp, err := c.Get("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?PageSize=2")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got.URL.Path != "/fake/2010-04-01/Accounts/AC1/Messages.json" || got.URL.RawQuery != "PageSize=2" {
		t.Errorf("rewritten to %v", got.URL)
	}
	if _, err := (&http.Client{Transport: RewriteTransport("not a url")}).Get("https://api.twilio.com/"); err == nil {
		t.Error("bad API URL: want error")
	}
}

func TestXMLSafe(t *testing.T) {
	in := "a\x00b\x07c\td\ne\rf\uFFFEg 😀 é"
	if got, want := XMLSafe(in), "abc\td\ne\rfg 😀 é"; got != want {
		t.Fatalf("XMLSafe(%q) = %q, want %q", in, got, want)
	}
}
