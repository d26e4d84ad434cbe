package phonesim

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	twilio "github.com/twilio/twilio-go"
	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/haveyoursay/haveyoursay/webhook"
)

func TestText(t *testing.T) {
	a := newApp(t)
	e, _ := newEmu(t, a)
	ctx := context.Background()
	a.route("/twilio/sms", func(f url.Values) string {
		return resp(`<Message>  You said ` + f.Get("Body") + ` </Message><Message><Body>Two</Body><Media>https://example.org/a.png</Media></Message>`)
	})
	res, err := e.Text(ctx, "+447700900123", "+447700900999", "BREAKS")
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "status", res.StatusCode, 200)
	eq(t, "messages", res.Messages, []string{"You said BREAKS", "Two"})
	eq(t, "media", res.Replies[1].Media, []string{"https://example.org/a.png"})
	if !regexp.MustCompile(`^SM[0-9a-f]{32}$`).MatchString(res.MessageSid) {
		t.Errorf("MessageSid %q", res.MessageSid)
	}
	f := a.last("/twilio/sms").Form
	for k, v := range map[string]string{"MessageSid": res.MessageSid, "SmsMessageSid": res.MessageSid, "AccountSid": DefaultAccountSID,
		"From": "+447700900123", "To": "+447700900999", "Body": "BREAKS", "NumMedia": "0", "NumSegments": "1",
		"SmsStatus": "received", "ApiVersion": "2010-04-01", "FromCountry": "GB"} {
		eq(t, "param "+k, f.Get(k), v)
	}
	if _, ok := f["MessagingServiceSid"]; ok {
		t.Error("MessagingServiceSid sent without a service")
	}

	// Duplicate delivery: same MessageSid.
	res2, err := e.TextWithSid(ctx, res.MessageSid, "+447700900123", "+447700900999", "BREAKS")
	if err != nil {
		t.Fatal(err)
	}
	rs := a.requests("/twilio/sms")
	eq(t, "duplicate sid", rs[1].Form.Get("MessageSid"), res2.MessageSid)
	eq(t, "same sid", res2.MessageSid, res.MessageSid)

	// Empty reply is fine.
	a.static("/twilio/sms", resp(``))
	if res, err := e.Text(ctx, "+447700900123", "+447700900999", "hi"); err != nil || len(res.Messages) != 0 {
		t.Errorf("empty reply: %v %v", res, err)
	}
	// Invalid messaging TwiML.
	a.static("/twilio/sms", resp(`<Say>Hi</Say>`))
	var te *TwiMLError
	if _, err := e.Text(ctx, "+447700900123", "+447700900999", "hi"); !errors.As(err, &te) || te.Element != "Say" {
		t.Errorf("voice verb in SMS reply: %v", err)
	}
	// Non-2xx.
	a.static("/twilio/sms", "STATUS 500")
	var se *StatusError
	if res, err := e.Text(ctx, "+447700900123", "+447700900999", "hi"); !errors.As(err, &se) || res.StatusCode != 500 {
		t.Errorf("500: %v", err)
	}
	// Raw and unsigned posts for bad-input tests.
	a.static("/twilio/sms", resp(``))
	r, err := e.PostForm(ctx, "/twilio/sms", url.Values{"Body": {"x"}})
	if err != nil || r.StatusCode != 200 {
		t.Errorf("PostForm: %v %v", r, err)
	}
	r, err = e.PostUnsigned(ctx, "/twilio/sms", url.Values{"Body": {"x"}}, "")
	if err != nil || r.StatusCode != 403 {
		t.Errorf("unsigned: %v %v", r, err)
	}
	r, err = e.PostUnsigned(ctx, "/twilio/sms", url.Values{"Body": {"x"}}, "forged")
	if err != nil || r.StatusCode != 403 {
		t.Errorf("forged: %v %v", r, err)
	}
}

func TestSegmentCount(t *testing.T) {
	cases := []struct {
		body string
		n    int
		enc  string
	}{
		{"", 1, "GSM-7"},
		{strings.Repeat("a", 160), 1, "GSM-7"},
		{strings.Repeat("a", 161), 2, "GSM-7"},
		{strings.Repeat("a", 306), 2, "GSM-7"},
		{strings.Repeat("a", 307), 3, "GSM-7"},
		{strings.Repeat("€", 80), 1, "GSM-7"},
		{strings.Repeat("€", 81), 2, "GSM-7"},
		{"Happy 😀", 1, "UCS-2"},
		{strings.Repeat("a", 69) + "😀", 2, "UCS-2"},
		{strings.Repeat("a", 70) + "’", 2, "UCS-2"},
	}
	for _, c := range cases {
		n, enc := SegmentCount(c.body)
		if n != c.n || enc != c.enc {
			t.Errorf("SegmentCount(%.20q…) = %d %s, want %d %s", c.body, n, enc, c.n, c.enc)
		}
	}
}

func restClient(e *Emulator, apiURL string) *twilio.RestClient {
	c := &client.Client{
		Credentials: client.NewCredentials(e.Config().AccountSID, e.Config().AuthToken),
		HTTPClient:  &http.Client{Transport: webhook.RewriteTransport(apiURL), Timeout: 10 * time.Second},
	}
	c.SetAccountSid(e.Config().AccountSID)
	return twilio.NewRestClientWithParams(twilio.ClientParams{Client: c})
}

func TestRESTMessagesWithTwilioGo(t *testing.T) {
	a := newApp(t)
	e, clk := newEmu(t, a)
	ctx := context.Background()
	apiURL, err := e.StartAPIServer()
	if err != nil {
		t.Fatal(err)
	}
	rc := restClient(e, apiURL)
	p := &openapi.CreateMessageParams{}
	p.SetTo("+447700900123").SetFrom("+447700900999").SetBody("Question 1 of 3").SetStatusCallback(a.srv.URL + "/twilio/sms/status")
	m, err := rc.Api.CreateMessage(p)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^SM[0-9a-f]{32}$`).MatchString(*m.Sid) {
		t.Errorf("sid %q", *m.Sid)
	}
	eq(t, "status", *m.Status, "queued")
	eq(t, "to", *m.To, "+447700900123")
	eq(t, "from", *m.From, "+447700900999")
	eq(t, "body", *m.Body, "Question 1 of 3")
	eq(t, "segments", *m.NumSegments, "1")
	eq(t, "direction", *m.Direction, "outbound-api")
	eq(t, "price", m.Price, (*string)(nil))
	eq(t, "error_code", m.ErrorCode, (*int)(nil))
	if _, err := time.Parse(time.RFC1123Z, *m.DateCreated); err != nil || *m.DateCreated != clk.Now().Format(time.RFC1123Z) {
		t.Errorf("date_created %q: %v", *m.DateCreated, err)
	}
	eq(t, "uri", *m.Uri, "/2010-04-01/Accounts/"+DefaultAccountSID+"/Messages/"+*m.Sid+".json")

	sent := e.Sent()
	eq(t, "sent", len(sent), 1)
	eq(t, "sent to", sent[0].To, "+447700900123")
	eq(t, "texted", e.Texted(), []string{"+447700900123"})

	if err := e.FlushCallbacks(ctx); err != nil {
		t.Fatal(err)
	}
	cbs := a.requests("/twilio/sms/status")
	eq(t, "status callbacks", len(cbs), 2)
	eq(t, "sent", cbs[0].Form.Get("MessageStatus"), "sent")
	eq(t, "delivered", cbs[1].Form.Get("MessageStatus"), "delivered")
	eq(t, "callback sid", cbs[1].Form.Get("MessageSid"), *m.Sid)
	got, err := rc.Api.FetchMessage(*m.Sid, nil)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "fetched status", *got.Status, "delivered")

	// Injected failures arrive as *client.TwilioRestError.
	for _, f := range []struct{ status, code int }{{400, 21610}, {429, 20429}, {500, 20500}} {
		e.FailNextMessages(1, f.status, f.code)
		_, err := rc.Api.CreateMessage(p)
		var tre *client.TwilioRestError
		if !errors.As(err, &tre) || tre.Code != f.code || tre.Status != f.status || tre.MoreInfo == "" || tre.Message == "" {
			t.Errorf("injected %d/%d: %v", f.status, f.code, err)
		}
	}
	if _, err := rc.Api.CreateMessage(p); err != nil {
		t.Errorf("after injected failures: %v", err)
	}
	eq(t, "refused", len(e.Refused()), 3)

	// Missing To.
	bad := &openapi.CreateMessageParams{}
	bad.SetFrom("+447700900999").SetBody("x")
	var tre *client.TwilioRestError
	if _, err := rc.Api.CreateMessage(bad); !errors.As(err, &tre) || tre.Code != 21604 {
		t.Errorf("missing To: %v", err)
	}

	// Wrong credentials: 401 with Twilio's error shape.
	wrong := &client.Client{Credentials: client.NewCredentials(DefaultAccountSID, "nope"),
		HTTPClient: &http.Client{Transport: webhook.RewriteTransport(apiURL)}}
	wrong.SetAccountSid(DefaultAccountSID)
	_, err = twilio.NewRestClientWithParams(twilio.ClientParams{Client: wrong}).Api.CreateMessage(p)
	if !errors.As(err, &tre) || tre.Status != 401 || tre.Code != 20003 {
		t.Errorf("wrong token: %v", err)
	}
}

func TestOptOutAndMessagingService(t *testing.T) {
	a := newApp(t)
	e := New(Config{AuthToken: testToken, WebhookBase: a.srv.URL, MessagingServiceSid: "MG00000000000000000000000000000001"})
	defer e.Close()
	ctx := context.Background()
	a.static("/twilio/sms", resp(``))
	apiURL, err := e.StartAPIServer()
	if err != nil {
		t.Fatal(err)
	}
	rc := restClient(e, apiURL)
	send := func() error {
		p := &openapi.CreateMessageParams{}
		p.SetTo("+447700900123").SetMessagingServiceSid("MG00000000000000000000000000000001").SetBody("Hello")
		_, err := rc.Api.CreateMessage(p)
		return err
	}
	if _, err := e.Text(ctx, "+447700900123", "+447700900999", " stop "); err != nil {
		t.Fatal(err)
	}
	eq(t, "MessagingServiceSid on inbound", a.last("/twilio/sms").Form.Get("MessagingServiceSid"), "MG00000000000000000000000000000001")
	var tre *client.TwilioRestError
	if err := send(); !errors.As(err, &tre) || tre.Code != 21610 {
		t.Errorf("after STOP: %v", err)
	}
	eq(t, "opted out", e.OptedOut("+447700900999", "+447700900123"), true)
	if _, err := e.Text(ctx, "+447700900123", "+447700900999", "START"); err != nil {
		t.Fatal(err)
	}
	if err := send(); err != nil {
		t.Errorf("after START: %v", err)
	}
	m := e.Sent()[0]
	eq(t, "service message status", m.Status, "accepted")
	eq(t, "no sender yet", m.From, "")
	if err := e.FlushCallbacks(ctx); err != nil {
		t.Fatal(err)
	}
	// The service's status callback (SMSStatusPath) is used.
	cb := a.last("/twilio/sms/status").Form
	eq(t, "service callback status", cb.Get("MessageStatus"), "delivered")
	eq(t, "service sender", cb.Get("From"), "+15005550006")
	eq(t, "service sid", cb.Get("MessagingServiceSid"), "MG00000000000000000000000000000001")
}

func TestRecordingsAPI(t *testing.T) {
	a := newApp(t)
	e, _ := newEmu(t, a)
	ctx := context.Background()
	a.static("/twilio/voice", resp(`<Record action="/rec"/>`))
	a.static("/rec", resp(`<Hangup/>`))
	c, err := e.Call(ctx, "+447700900123", "+447700900999")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Record(3, "hi"); err != nil {
		t.Fatal(err)
	}
	f := a.last("/rec").Form
	recURL, recSid := f.Get("RecordingUrl"), f.Get("RecordingSid")

	get := func(u string, auth bool) *http.Response {
		req, _ := http.NewRequest("GET", u, nil)
		if auth {
			req.SetBasicAuth(DefaultAccountSID, testToken)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	r := get(recURL, false)
	r.Body.Close()
	eq(t, "no auth", r.StatusCode, 401)
	for _, u := range []string{recURL, recURL + ".wav"} {
		r = get(u, true)
		wav, _ := io.ReadAll(r.Body)
		r.Body.Close()
		eq(t, "status", r.StatusCode, 200)
		eq(t, "content type", r.Header.Get("Content-Type"), "audio/x-wav")
		eq(t, "length", len(wav), 44+3*8000*2)
		if string(wav[0:4]) != "RIFF" || string(wav[8:12]) != "WAVE" || binary.LittleEndian.Uint32(wav[24:]) != 8000 ||
			binary.LittleEndian.Uint16(wav[22:]) != 1 || binary.LittleEndian.Uint16(wav[34:]) != 16 {
			t.Errorf("bad WAV header % x", wav[:44])
		}
	}

	rc := restClient(e, e.APIURL())
	if err := rc.Api.DeleteRecording(recSid, nil); err != nil {
		t.Fatal(err)
	}
	eq(t, "deleted", e.RecordingDeleted(recSid), true)
	r = get(recURL, true)
	r.Body.Close()
	eq(t, "after delete", r.StatusCode, 404)
	var tre *client.TwilioRestError
	if err := rc.Api.DeleteRecording(recSid, nil); !errors.As(err, &tre) || tre.Status != 404 {
		t.Errorf("second delete: %v", err)
	}
}

func TestAsyncCallbacks(t *testing.T) {
	a := newApp(t)
	e := New(Config{AuthToken: testToken, WebhookBase: a.srv.URL, CallbackDelay: time.Millisecond})
	defer e.Close()
	a.static("/twilio/voice", resp(`<Record recordingStatusCallback="/cb/rec" action="/rec"/>`))
	a.static("/rec", resp(`<Hangup/>`))
	c, err := e.Call(context.Background(), "+447700900123", "+447700900999")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Record(2, ""); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(a.requests("/cb/rec")) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	eq(t, "async recording callback", len(a.requests("/cb/rec")), 1)
	if err := e.FlushCallbacks(context.Background()); err != nil {
		t.Error(err)
	}
}
