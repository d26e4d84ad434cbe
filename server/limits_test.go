package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/haveyoursay/haveyoursay/webhook"
)

func post(t *testing.T, target string, form url.Values, sig string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if sig != "" {
		req.Header.Set(webhook.SignatureHeader, sig)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestRateLimitsNeverRefuseTwilio: a source that sends too many unsigned
// webhooks is refused (429) however it signs them badly, but a request
// Twilio signed still goes through from the same source; too many wrong
// passwords from one source are refused with a sentence.
func TestRateLimitsNeverRefuseTwilio(t *testing.T) {
	t.Parallel()
	hs := newTestServer(t, false)
	const token = "0123456789abcdef0123456789abcdef"
	form := url.Values{"MessageSid": {"SM0123456789abcdef0123456789abcdef"}, "From": {"+447700900123"}, "To": {"+447700900111"}, "Body": {"DAYS"}}
	codes := map[int]int{}
	for range 40 {
		codes[post(t, hs.URL+"/twilio/sms", form, "bm90IHRoZSBzaWduYXR1cmU=")]++
	}
	if codes[http.StatusForbidden] != 30 || codes[http.StatusTooManyRequests] != 10 {
		t.Errorf("40 badly signed texts were answered %v, want 30 × 403 then 10 × 429", codes)
	}
	sig := webhook.Sign(token, "https://feedback.example.org/twilio/sms", form)
	if code := post(t, hs.URL+"/twilio/sms", form, sig); code != http.StatusOK {
		t.Errorf("a text Twilio signed, from the same source, was answered %d", code)
	}
	// Other routes are not limited.
	if code, _ := get(t, hs.URL+"/healthz"); code != http.StatusOK {
		t.Errorf("/healthz = %d", code)
	}

	codes = map[int]int{}
	login := url.Values{"email": {"nobody@example.org"}, "password": {"not the password"}}
	for range 32 {
		codes[post(t, hs.URL+"/login", login, "")]++
	}
	if codes[http.StatusUnauthorized] != 30 || codes[http.StatusTooManyRequests] != 2 {
		t.Errorf("32 wrong passwords were answered %v, want 30 × 401 then 2 × 429", codes)
	}
}
