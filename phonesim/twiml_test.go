package phonesim

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckVoiceTwiMLValid(t *testing.T) {
	docs := []string{
		resp(``),
		`<Response/>`,
		resp(`<Say voice="Polly.Amy" language="en-GB" loop="0">Hello <prosody rate="slow" volume="loud">there</prosody><break time="1s"/><say-as interpret-as="digits">123</say-as><emphasis level="strong">now</emphasis><lang xml:lang="cy-GB">Shwmae</lang></Say>`),
		resp(`<Play loop="2">https://example.org/a.mp3</Play><Play digits="1w2"/><Pause length="2"/><Pause/>`),
		resp(`<Gather action="/next?q=1" method="GET" timeout="0" speechTimeout="auto" numDigits="1" finishOnKey="" input="dtmf speech" hints="yes, no" language="cy-GB" actionOnEmptyResult="true" profanityFilter="false" speechModel="phone_call" enhanced="true"><Say>Hi</Say><Play>/a.wav</Play><Pause length="1"/></Gather>`),
		resp(`<Record action="/r" method="POST" timeout="10" finishOnKey="#*" maxLength="90" playBeep="false" trim="do-not-trim" recordingStatusCallback="/s" recordingStatusCallbackMethod="POST" recordingStatusCallbackEvent="completed absent" transcribe="true" transcribeCallback="/t" recordingChannels="mono"/>`),
		resp(`<Redirect method="GET">/x</Redirect>`),
		resp(`<Hangup/>`),
		resp(`<Reject reason="busy"/>`),
		resp(`<Dial action="/d" timeout="20" callerId="+447700900999" record="record-from-answer" answerOnBridge="true" timeLimit="600"><Number>+447700900123</Number></Dial>`),
		resp(`<Dial>+447700900123</Dial>`),
	}
	for _, d := range docs {
		if err := CheckVoiceTwiML([]byte(d)); err != nil {
			t.Errorf("%s: %v", d, err)
		}
	}
}

func TestCheckVoiceTwiMLInvalid(t *testing.T) {
	cases := []struct{ doc, want string }{
		{`<Response><Say>Hi</Say>`, "not well-formed"},
		{``, "empty document"},
		{`<Reply><Say>Hi</Say></Reply>`, "<Reply>"},
		{`<Response foo="1"/>`, "unexpected attribute"},
		{resp(`Hello`), "unexpected text"},
		{resp(`<Say>Hi <Prosody rate="slow">there</Prosody></Say>`), "<Prosody>"},
		{resp(`<Say><SayAs interpret-as="digits">1</SayAs></Say>`), "say-as"},
		{resp(`<Say><prosody rate="slow"><Break/></prosody></Say>`), "<Break>"},
		{resp(`<Say><b>bold</b></Say>`), "<b>"},
		{resp(`<Say></Say>`), "must not be empty"},
		{resp(`<Play><prosody>x</prosody></Play>`), "<prosody>"},
		{resp(`<Gather><Record/></Gather>`), "<Record>"},
		{resp(`<Gather><Gather/></Gather>`), "<Gather>"},
		{resp(`<Gather>Press one</Gather>`), "unexpected text"},
		{resp(`<Foo/>`), "<Foo>"},
		{resp(`<say>Hi</say>`), "case-sensitive"},
		{resp(`<Message>Hi</Message>`), "is not allowed inside <Response>"},
		{resp(`<Play><prosody>x</prosody>https://example.org/a.wav</Play>`), "is not allowed inside <Play>"},
		{resp(`<Gather timeout="abc"/>`), "timeout"},
		{resp(`<Gather timeout="-1"/>`), "timeout"},
		{resp(`<Gather numDigits="0"/>`), "numDigits"},
		{resp(`<Gather input="voice"/>`), "input"},
		{resp(`<Gather input="dtmf dtmf"/>`), "input"},
		{resp(`<Gather finishOnKey="ab"/>`), "finishOnKey"},
		{resp(`<Gather finishOnKey="##"/>`), "finishOnKey"},
		{resp(`<Gather method="PUT"/>`), "method"},
		{resp(`<Gather actionOnEmptyResult="yes"/>`), "actionOnEmptyResult"},
		{resp(`<Gather speechTimeout="soon"/>`), "speechTimeout"},
		{resp(`<Gather colour="red"/>`), `unknown attribute "colour"`},
		{resp(`<Record maxLength="long"/>`), "maxLength"},
		{resp(`<Record trim="yes"/>`), "trim"},
		{resp(`<Record finishOnKey="a"/>`), "finishOnKey"},
		{resp(`<Record recordingStatusCallbackEvent="done"/>`), "recordingStatusCallbackEvent"},
		{resp(`<Say loop="twice">Hi</Say>`), "loop"},
		{resp(`<Say language="English">Hi</Say>`), "language"},
		{resp(`<Pause length="1s"/>`), "length"},
		{resp(`<Play/>`), "needs a URL"},
		{resp(`<Play>ftp://x/a.wav</Play>`), "http"},
		{resp(`<Redirect/>`), "must not be empty"},
		{resp(`<Reject reason="spam"/>`), "reason"},
		{resp(`<Hangup>now</Hangup>`), "unexpected text"},
		{resp(`<Dial/>`), "number"},
		{resp(`<Dial><Say>x</Say></Dial>`), "<Say>"},
		{resp(`<Say><break time="soon"/></Say>`), "time"},
	}
	for _, c := range cases {
		err := CheckVoiceTwiML([]byte(c.doc))
		var te *TwiMLError
		if err == nil || !errors.As(err, &te) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want a *TwiMLError mentioning %q", c.doc, err, c.want)
		}
	}
}

func TestCheckMessagingTwiML(t *testing.T) {
	good := []string{
		resp(``),
		resp(`<Message>Hi</Message><Message to="+447700900123" from="+447700900999" action="/a" method="POST" statusCallback="/s"><Body>Hi</Body><Media>https://example.org/a.png</Media></Message>`),
		resp(`<Redirect>/next</Redirect>`),
	}
	for _, d := range good {
		if err := CheckMessagingTwiML([]byte(d)); err != nil {
			t.Errorf("%s: %v", d, err)
		}
	}
	bad := []struct{ doc, want string }{
		{resp(`<Say>Hi</Say>`), "<Say>"},
		{resp(`<Message colour="red">Hi</Message>`), "colour"},
		{resp(`<Message method="PUT">Hi</Message>`), "method"},
		{resp(`<Message>Hi<Body>x</Body></Message>`), "mixes"},
		{resp(`<Message><Body>a</Body><Body>b</Body></Message>`), "more than one"},
		{resp(`<Message><Gather/></Message>`), "<Gather>"},
		{resp(`<message>Hi</message>`), "case-sensitive"},
		{`<Response><Message>Hi</Message>`, "well-formed"},
	}
	for _, c := range bad {
		if err := CheckMessagingTwiML([]byte(c.doc)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want mention of %q", c.doc, err, c.want)
		}
	}
}

// Documents shaped like twilio-go's twiml output (one line, XML header,
// attributes in any order) pass; its SSML elements (<Prosody>, <SayAs>:
// wrong case) do not. (The twiml package itself is not imported here: it
// needs github.com/beevik/etree in go.sum.)
func TestCheckTwilioGoShapedOutput(t *testing.T) {
	doc := `<?xml version="1.0" encoding="UTF-8"?><Response><Gather numDigits="1" finishOnKey="" actionOnEmptyResult="true" action="/next" timeout="5" input="dtmf speech"><Say>Press 1 for Yes</Say></Gather><Record transcribeCallback="/t" maxLength="90" action="/rec" transcribe="true"></Record><Redirect>/again</Redirect></Response>`
	if err := CheckVoiceTwiML([]byte(doc)); err != nil {
		t.Errorf("voice TwiML rejected: %v", err)
	}
	msg := `<?xml version="1.0" encoding="UTF-8"?><Response><Message>Reply 1 for Yes</Message></Response>`
	if err := CheckMessagingTwiML([]byte(msg)); err != nil {
		t.Errorf("messaging TwiML rejected: %v", err)
	}
	for _, ssml := range []string{
		`<?xml version="1.0" encoding="UTF-8"?><Response><Say>Hi<Prosody rate="slow">there</Prosody></Say></Response>`,
		`<?xml version="1.0" encoding="UTF-8"?><Response><Say>Call<SayAs interpret-as="telephone">0800</SayAs></Say></Response>`,
	} {
		if err := CheckVoiceTwiML([]byte(ssml)); err == nil || !strings.Contains(err.Error(), "lower-case") {
			t.Errorf("wrong-case SSML accepted: %v\n%s", err, ssml)
		}
	}
}
