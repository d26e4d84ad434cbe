package config_test

import (
	"errors"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/haveyoursay/haveyoursay/config"
)

// required is a complete, valid set of the settings serve cannot run without.
var required = map[string]string{
	"DATABASE_URL":       "postgres://hys:secret@localhost:5432/haveyoursay",
	"REDIS_URL":          "redis://localhost:6379/0",
	"TWILIO_ACCOUNT_SID": "AC0123456789abcdef0123456789abcdef",
	"TWILIO_AUTH_TOKEN":  "0123456789abcdef0123456789abcdef",
	"PUBLIC_URL":         "https://feedback.example.org",
	"HYS_SECRET_KEY":     "0123456789abcdef0123456789abcdef", // exactly 32 characters
}

// env returns a getenv over the required settings with overrides applied.
// An override to "" unsets the variable.
func env(overrides map[string]string) func(string) string {
	m := make(map[string]string, len(required)+len(overrides))
	for k, v := range required {
		m[k] = v
	}
	for k, v := range overrides {
		m[k] = v
	}
	return func(name string) string { return m[name] }
}

func only(name, value string) func(string) string {
	return func(n string) string {
		if n == name {
			return value
		}
		return ""
	}
}

// goNoise are fragments that show a Go error leaking into a message meant
// for charity staff.
var goNoise = []string{
	"strconv.", "%!", "time: ", "invalid syntax", "<nil>", "parse ", "parsing", "cannot parse",
	"unknown time zone", "pgx", "redis: ", "panic", "error:", "Error", "\n", "\t",
}

// checkSentence fails unless msg is one plain sentence about name.
func checkSentence(t *testing.T, msg, name string) {
	t.Helper()
	if !strings.HasPrefix(msg, name+" ") {
		t.Errorf("message does not start with %s: %q", name, msg)
	}
	if !strings.HasSuffix(msg, ".") {
		t.Errorf("message for %s is not a sentence ending in a full stop: %q", name, msg)
	}
	for _, noise := range goNoise {
		if strings.Contains(msg, noise) {
			t.Errorf("message for %s contains Go noise %q: %q", name, noise, msg)
		}
	}
	if len(msg) < len(name)+20 {
		t.Errorf("message for %s is too short to say what the value should look like: %q", name, msg)
	}
}

// problems returns the Problems in err, failing when err is not Problems.
func problems(t *testing.T, err error) config.Problems {
	t.Helper()
	if err == nil {
		t.Fatal("got no error")
	}
	var p config.Problems
	if !errors.As(err, &p) {
		t.Fatalf("error is a %T, not config.Problems: %v", err, err)
	}
	if got, want := err.Error(), strings.Join(p, "\n"); got != want {
		t.Errorf("Error() = %q, want the problems one a line: %q", got, want)
	}
	return p
}

// checkOneProblem fails unless err reports exactly one problem, a plain
// sentence naming name that says what it should look like.
func checkOneProblem(t *testing.T, err error, name string) {
	t.Helper()
	p := problems(t, err)
	if len(p) != 1 {
		t.Fatalf("want 1 problem naming %s, got %d: %q", name, len(p), p)
	}
	checkSentence(t, p[0], name)
	if !strings.Contains(p[0], "should") && !strings.Contains(p[0], "set it to") {
		t.Errorf("message for %s does not say what it should be: %q", name, p[0])
	}
}

func TestFromEnvAcceptsAValidEnvironment(t *testing.T) {
	c, err := config.FromEnv(env(nil))
	if err != nil {
		t.Fatalf("FromEnv: %v", err)
	}
	want := config.Defaults()
	want.DatabaseURL = required["DATABASE_URL"]
	want.RedisURL = required["REDIS_URL"]
	want.TwilioAccountSID = required["TWILIO_ACCOUNT_SID"]
	want.TwilioAuthToken = required["TWILIO_AUTH_TOKEN"]
	want.PublicURL = required["PUBLIC_URL"]
	want.SecretKey = required["HYS_SECRET_KEY"]
	if !reflect.DeepEqual(c, want) {
		t.Errorf("FromEnv =\n%+v\nwant\n%+v", c, want)
	}
}

func TestFromEnvWithEmptyEnvironmentNamesEveryRequiredSetting(t *testing.T) {
	_, err := config.FromEnv(func(string) string { return "" })
	p := problems(t, err)
	if !strings.Contains(err.Error(), "DATABASE_URL") {
		t.Errorf("an empty environment does not name DATABASE_URL: %q", err)
	}
	if len(p) == 0 || !strings.HasPrefix(p[0], "DATABASE_URL ") {
		t.Errorf("first problem should be DATABASE_URL, got %q", p)
	}
	names := []string{"DATABASE_URL", "REDIS_URL", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "PUBLIC_URL", "HYS_SECRET_KEY"}
	if len(p) != len(names) {
		t.Errorf("got %d problems, want one for each of %v: %q", len(p), names, p)
	}
	for i, name := range names {
		if i >= len(p) {
			break
		}
		checkSentence(t, p[i], name)
		if !strings.Contains(p[i], "is not set") {
			t.Errorf("problem for missing %s does not say it is not set: %q", name, p[i])
		}
	}
}

func TestFromEnvRequiredSettingMissingOrMalformed(t *testing.T) {
	tests := []struct {
		name, value string
		mentions    string // a word the sentence must contain, besides the name
	}{
		{"DATABASE_URL", "", "postgres://"},
		{"DATABASE_URL", "mysql://hys:secret@localhost/haveyoursay", "postgres://"},
		{"DATABASE_URL", "localhost:5432", "postgres://"},
		{"DATABASE_URL", "host=localhost dbname=haveyoursay", "postgres://"},
		{"DATABASE_URL", "postgres://localhost:notaport/haveyoursay", "postgres://"},
		{"DATABASE_URL", "postgres://hys:secret@localhost/haveyoursay?sslmode=sometimes", "postgres://"},
		{"REDIS_URL", "", "redis://"},
		{"REDIS_URL", "localhost:6379", "redis://"},
		{"REDIS_URL", "http://localhost:6379", "redis://"},
		{"REDIS_URL", "redis://localhost:6379/zero", "redis://"},
		{"TWILIO_ACCOUNT_SID", "", "AC"},
		{"TWILIO_ACCOUNT_SID", "SK0123456789abcdef0123456789abcdef", "AC"},
		{"TWILIO_ACCOUNT_SID", "ac0123456789abcdef0123456789abcdef", "AC"},
		{"TWILIO_ACCOUNT_SID", "AC0123456789-abcdef", "AC"},
		{"TWILIO_ACCOUNT_SID", "AC0123456789abcdef0123456789abcdef ", "AC"},
		{"TWILIO_AUTH_TOKEN", "", "Auth Token"},
		{"TWILIO_AUTH_TOKEN", "0123456789abcdef-0123456789abcdef", "letters and digits"},
		{"TWILIO_AUTH_TOKEN", "\"0123456789abcdef0123456789abcdef\"", "letters and digits"},
		{"PUBLIC_URL", "", "https://"},
		{"PUBLIC_URL", "feedback.example.org", "https://"},
		{"PUBLIC_URL", "ftp://feedback.example.org", "https://"},
		{"PUBLIC_URL", "https://", "https://"},
		{"PUBLIC_URL", "https://feedback.example.org/?x=1", "https://"},
		{"PUBLIC_URL", "https://feedback.example.org/#top", "https://"},
		{"PUBLIC_URL", "https://feedback.example.org ", "https://"},
		{"HYS_SECRET_KEY", "", "32"},
		{"HYS_SECRET_KEY", "short", "32"},
		{"HYS_SECRET_KEY", strings.Repeat("k", 31), "32"},
		{"HYS_SECRET_KEY", strings.Repeat(" ", 40), "32"},
		{"HYS_SECRET_KEY", strings.Repeat("é", 16), "32"}, // 32 bytes, 16 characters
		{"TWILIO_AUTH_TOKEN", "abc", "32"},
		{"TWILIO_ACCOUNT_SID", "AC", "AC"},
		{"TWILIO_API_URL", "127.0.0.1:9090", "http://"},
		{"TWILIO_API_URL", "ftp://127.0.0.1:9090", "http://"},
		{"TWILIO_API_URL", "http://", "http://"},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			_, err := config.FromEnv(env(map[string]string{tt.name: tt.value}))
			checkOneProblem(t, err, tt.name)
			if msg := err.Error(); !strings.Contains(msg, tt.mentions) {
				t.Errorf("message for %s does not show what it should look like (%q): %q", tt.name, tt.mentions, msg)
			}
		})
	}
}

func TestFromEnvSecretKeyTooShortSaysHowLong(t *testing.T) {
	_, err := config.FromEnv(env(map[string]string{"HYS_SECRET_KEY": strings.Repeat("k", 20)}))
	checkOneProblem(t, err, "HYS_SECRET_KEY")
	if !strings.Contains(err.Error(), "20 characters") {
		t.Errorf("message does not say how long the key is: %q", err)
	}
}

func TestFromEnvRequiredSettingGoodValues(t *testing.T) {
	tests := []struct {
		name, value string
		check       func(config.Config) bool
	}{
		{"DATABASE_URL", "postgresql://hys@db.internal/haveyoursay?sslmode=require",
			func(c config.Config) bool {
				return c.DatabaseURL == "postgresql://hys@db.internal/haveyoursay?sslmode=require"
			}},
		{"REDIS_URL", "rediss://:pw@cache.internal:6380/2",
			func(c config.Config) bool { return c.RedisURL == "rediss://:pw@cache.internal:6380/2" }},
		{"PUBLIC_URL", "https://feedback.example.org/",
			func(c config.Config) bool { return c.PublicURL == "https://feedback.example.org" }},
		{"PUBLIC_URL", "http://127.0.0.1:8080//",
			func(c config.Config) bool { return c.PublicURL == "http://127.0.0.1:8080" }},
		{"PUBLIC_URL", "https://example.org/feedback",
			func(c config.Config) bool { return c.PublicURL == "https://example.org/feedback" }},
		{"HYS_SECRET_KEY", strings.Repeat("k", 32),
			func(c config.Config) bool { return c.SecretKey == strings.Repeat("k", 32) }},
		{"HYS_SECRET_KEY", "q0K3h8+Zr/1bT0aJ7wYp2sXv9mN4cE6uLdFgHiJkLm=",
			func(c config.Config) bool { return c.SecretKey == "q0K3h8+Zr/1bT0aJ7wYp2sXv9mN4cE6uLdFgHiJkLm=" }},
		{"TWILIO_API_URL", "http://127.0.0.1:9090/",
			func(c config.Config) bool { return c.TwilioAPIURL == "http://127.0.0.1:9090" }},
		{"TWILIO_API_URL", "https://api.example.org",
			func(c config.Config) bool { return c.TwilioAPIURL == "https://api.example.org" }},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			c, err := config.FromEnv(env(map[string]string{tt.name: tt.value}))
			if err != nil {
				t.Fatalf("FromEnv rejected %s=%q: %v", tt.name, tt.value, err)
			}
			if !tt.check(c) {
				t.Errorf("%s=%q read as %+v", tt.name, tt.value, c)
			}
		})
	}
}

func TestCheckFunctions(t *testing.T) {
	tests := []struct {
		name  string
		check func(string) string
		good  []string
		bad   []string
	}{
		{"DATABASE_URL", config.CheckDatabaseURL,
			[]string{"postgres://u:p@localhost:5432/haveyoursay", "postgresql://localhost/haveyoursay"},
			[]string{"", "localhost/haveyoursay", "mysql://localhost/db", "postgres://localhost:port/db"}},
		{"REDIS_URL", config.CheckRedisURL,
			[]string{"redis://localhost:6379/0", "redis://localhost:6379", "rediss://cache:6380/1"},
			[]string{"", "localhost:6379", "redis://localhost:6379/zero", "http://localhost:6379"}},
		{"PUBLIC_URL", config.CheckPublicURL,
			[]string{"https://feedback.example.org", "http://127.0.0.1:8080", "https://example.org/hys"},
			[]string{"", "feedback.example.org", "https://", "https://x.org?a=1", "https://x.org#f", "ws://x.org"}},
	}
	for _, tt := range tests {
		for _, v := range tt.good {
			if msg := tt.check(v); msg != "" {
				t.Errorf("Check %s(%q) = %q, want it accepted", tt.name, v, msg)
			}
		}
		for _, v := range tt.bad {
			msg := tt.check(v)
			if msg == "" {
				t.Errorf("Check %s(%q) accepted it", tt.name, v)
				continue
			}
			checkSentence(t, msg, tt.name)
		}
	}
}

func TestDefaults(t *testing.T) {
	d := config.Defaults()
	tests := []struct {
		name      string // the variable left unset
		got, want any
	}{
		{"LISTEN_ADDR", d.ListenAddr, ":8080"},
		{"TWILIO_API_URL", d.TwilioAPIURL, ""},
		{"SMS_SESSION_TTL", d.SMSSessionTTL, 72 * time.Hour},
		{"VOICE_SESSION_TTL", d.VoiceSessionTTL, 30 * time.Minute},
		{"HYS_ORG_NAME", d.OrgName, "Have Your Say"},
		{"HYS_ORG_PHONE", d.OrgPhone, ""},
		{"HYS_TIME_ZONE", d.TimeZone, "Europe/London"},
		{"HYS_TIME_ZONE", d.Location.String(), "Europe/London"},
		{"HYS_SMS_CONFIRM_STOP", d.SMSConfirmStop, false},
		{"TRANSCRIBE_URL", d.TranscribeURL, ""},
		{"TWILIO_SMS_FROM", d.SMSFrom, ""},
		{"HYS_SMS_RATE", d.SMSRate, 1.0},
		{"HYS_QUIET_HOURS", d.QuietHours.String(), "21:00-08:00 Europe/London"},
		{"HYS_REMINDER_AFTER", d.ReminderAfter, 24 * time.Hour},
		{"HYS_PHONE_REGION", d.PhoneRegion, "GB"},
		{"HYS_STAFF_NUMBER", d.StaffNumber, ""},
		{"HYS_OFFICE_HOURS", d.OfficeHours.Days, [7]bool{}},
		{"HYS_DELETE_RECORDINGS", d.DeleteRecordings, false},
		{"HYS_VOICE", d.Voice, "Polly.Amy"},
		{"HYS_VOICE_LANGUAGE", d.VoiceLanguage, "en-GB"},
		{"HYS_GATHER_TIMEOUT", d.GatherTimeout, 8 * time.Second},
		{"REDIS_PREFIX", d.RedisPrefix, ""},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("default for %s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	if d.OrgAbout == "" || !strings.HasSuffix(d.OrgAbout, ".") {
		t.Errorf("default HYS_ORG_ABOUT should be one sentence, got %q", d.OrgAbout)
	}
	// None of the settings that must come from the environment has a default.
	if d.DatabaseURL != "" || d.RedisURL != "" || d.TwilioAccountSID != "" || d.TwilioAuthToken != "" ||
		d.PublicURL != "" || d.SecretKey != "" {
		t.Errorf("Defaults() fills in a required setting: %+v", d)
	}

	// Unset optional settings leave the defaults alone, through both entry points.
	c, err := config.FromEnv(env(nil))
	if err != nil {
		t.Fatalf("FromEnv: %v", err)
	}
	c.DatabaseURL, c.RedisURL, c.TwilioAccountSID, c.TwilioAuthToken, c.PublicURL, c.SecretKey = "", "", "", "", "", ""
	if !reflect.DeepEqual(c, d) {
		t.Errorf("FromEnv with only the required settings =\n%+v\nwant the defaults\n%+v", c, d)
	}
	o := config.Defaults()
	if err := config.Optional(func(string) string { return "" }, &o); err != nil {
		t.Fatalf("Optional with an empty environment: %v", err)
	}
	if !reflect.DeepEqual(o, d) {
		t.Errorf("Optional with an empty environment changed the defaults to\n%+v", o)
	}
}

func TestOptionalSettingGoodValues(t *testing.T) {
	tests := []struct {
		name, value string
		got         func(config.Config) any
		want        any
	}{
		{"LISTEN_ADDR", "127.0.0.1:9000", func(c config.Config) any { return c.ListenAddr }, "127.0.0.1:9000"},
		{"LISTEN_ADDR", ":80", func(c config.Config) any { return c.ListenAddr }, ":80"},
		{"SMS_SESSION_TTL", "48h", func(c config.Config) any { return c.SMSSessionTTL }, 48 * time.Hour},
		{"SMS_SESSION_TTL", "1h30m", func(c config.Config) any { return c.SMSSessionTTL }, 90 * time.Minute},
		{"VOICE_SESSION_TTL", "10m", func(c config.Config) any { return c.VoiceSessionTTL }, 10 * time.Minute},
		{"HYS_ORG_NAME", "Bright Futures Trust", func(c config.Config) any { return c.OrgName }, "Bright Futures Trust"},
		{"HYS_ORG_PHONE", "0161 496 0000", func(c config.Config) any { return c.OrgPhone }, "0161 496 0000"},
		{"HYS_ORG_ABOUT", "We run day services in Leeds.", func(c config.Config) any { return c.OrgAbout }, "We run day services in Leeds."},
		{"HYS_TIME_ZONE", "America/New_York", func(c config.Config) any { return c.TimeZone }, "America/New_York"},
		{"HYS_TIME_ZONE", "UTC", func(c config.Config) any { return c.TimeZone }, "UTC"},
		// Quiet and office hours are kept in the organisation's time zone.
		{"HYS_TIME_ZONE", "America/New_York", func(c config.Config) any { return c.QuietHours.String() }, "21:00-08:00 America/New_York"},
		{"HYS_TIME_ZONE", "America/New_York", func(c config.Config) any { return c.OfficeHours.Location.String() }, "America/New_York"},
		{"HYS_SMS_CONFIRM_STOP", "true", func(c config.Config) any { return c.SMSConfirmStop }, true},
		{"HYS_SMS_CONFIRM_STOP", "TRUE", func(c config.Config) any { return c.SMSConfirmStop }, true},
		{"HYS_SMS_CONFIRM_STOP", "1", func(c config.Config) any { return c.SMSConfirmStop }, true},
		{"HYS_SMS_CONFIRM_STOP", "Yes", func(c config.Config) any { return c.SMSConfirmStop }, true},
		{"HYS_SMS_CONFIRM_STOP", "false", func(c config.Config) any { return c.SMSConfirmStop }, false},
		{"HYS_SMS_CONFIRM_STOP", "0", func(c config.Config) any { return c.SMSConfirmStop }, false},
		{"HYS_SMS_CONFIRM_STOP", "no", func(c config.Config) any { return c.SMSConfirmStop }, false},
		{"TRANSCRIBE_URL", "http://127.0.0.1:8000", func(c config.Config) any { return c.TranscribeURL }, "http://127.0.0.1:8000"},
		{"TRANSCRIBE_URL", "https://whisper.example.org/v1", func(c config.Config) any { return c.TranscribeURL }, "https://whisper.example.org/v1"},
		{"TWILIO_SMS_FROM", "+447700900123", func(c config.Config) any { return c.SMSFrom }, "+447700900123"},
		{"TWILIO_SMS_FROM", "MG0123456789abcdef0123456789abcdef", func(c config.Config) any { return c.SMSFrom }, "MG0123456789abcdef0123456789abcdef"},
		{"HYS_SMS_RATE", "0.5", func(c config.Config) any { return c.SMSRate }, 0.5},
		{"HYS_SMS_RATE", "10", func(c config.Config) any { return c.SMSRate }, 10.0},
		{"HYS_QUIET_HOURS", "22:30-07:00", func(c config.Config) any { return c.QuietHours.String() }, "22:30-07:00 Europe/London"},
		{"HYS_QUIET_HOURS", "9:00-17:00", func(c config.Config) any { return c.QuietHours.String() }, "09:00-17:00 Europe/London"},
		{"HYS_QUIET_HOURS", "off", func(c config.Config) any { return c.QuietHours.String() }, "off"},
		{"HYS_QUIET_HOURS", "Off", func(c config.Config) any { return c.QuietHours.String() }, "off"},
		{"HYS_PHONE_REGION", "IE", func(c config.Config) any { return c.PhoneRegion }, "IE"},
		{"HYS_PHONE_REGION", "ie", func(c config.Config) any { return c.PhoneRegion }, "IE"},
		{"HYS_REMINDER_AFTER", "48h", func(c config.Config) any { return c.ReminderAfter }, 48 * time.Hour},
		{"HYS_REMINDER_AFTER", "90m", func(c config.Config) any { return c.ReminderAfter }, 90 * time.Minute},
		{"HYS_REMINDER_AFTER", "off", func(c config.Config) any { return c.ReminderAfter }, time.Duration(0)},
		{"HYS_REMINDER_AFTER", "OFF", func(c config.Config) any { return c.ReminderAfter }, time.Duration(0)},
		{"HYS_VOICE", "Google.en-GB-Standard-A", func(c config.Config) any { return c.Voice }, "Google.en-GB-Standard-A"},
		{"HYS_VOICE", "woman", func(c config.Config) any { return c.Voice }, "woman"},
		{"HYS_VOICE", "Polly.Brian", func(c config.Config) any { return c.Voice }, "Polly.Brian"},
		{"HYS_VOICE_LANGUAGE", "cy-GB", func(c config.Config) any { return c.VoiceLanguage }, "cy-GB"},
		{"HYS_GATHER_TIMEOUT", "8s", func(c config.Config) any { return c.GatherTimeout }, 8 * time.Second},
		{"HYS_GATHER_TIMEOUT", "1s", func(c config.Config) any { return c.GatherTimeout }, time.Second},
		{"HYS_GATHER_TIMEOUT", "60s", func(c config.Config) any { return c.GatherTimeout }, time.Minute},
		{"HYS_GATHER_TIMEOUT", "1m", func(c config.Config) any { return c.GatherTimeout }, time.Minute},
		{"HYS_STAFF_NUMBER", "+441614960000", func(c config.Config) any { return c.StaffNumber }, "+441614960000"},
		{"HYS_SAFEGUARDING_ALERT_TO", "+447700900123, +447700900124,+447700900123", func(c config.Config) any { return c.SafeguardingAlertTo }, []string{"+447700900123", "+447700900124"}},
		{"HYS_CRISIS_TEXT", "Call 999 if you are in danger now.", func(c config.Config) any { return c.CrisisText }, "Call 999 if you are in danger now."},
		{"HYS_OFFICE_HOURS", "Mon-Fri 09:00-17:00", func(c config.Config) any {
			return c.OfficeHours.Contains(time.Date(2026, 3, 2, 9, 30, 0, 0, c.Location)) && !c.OfficeHours.Contains(time.Date(2026, 3, 7, 9, 30, 0, 0, c.Location))
		}, true},
		{"HYS_DELETE_RECORDINGS", "true", func(c config.Config) any { return c.DeleteRecordings }, true},
		{"HYS_RECORDING_NUMBER", "+447700900555", func(c config.Config) any { return c.RecordingNumber }, "+447700900555"},
		{"HYS_DELETE_RECORDINGS", "YES", func(c config.Config) any { return c.DeleteRecordings }, true},
		{"HYS_DELETE_RECORDINGS", "1", func(c config.Config) any { return c.DeleteRecordings }, true},
		{"HYS_DELETE_RECORDINGS", "false", func(c config.Config) any { return c.DeleteRecordings }, false},
		{"HYS_DELETE_RECORDINGS", "0", func(c config.Config) any { return c.DeleteRecordings }, false},
		{"HYS_DELETE_RECORDINGS", "on", func(c config.Config) any { return c.DeleteRecordings }, true},
		{"HYS_DELETE_RECORDINGS", "off", func(c config.Config) any { return c.DeleteRecordings }, false},
		{"HYS_QUIET_HOURS", "none", func(c config.Config) any { return c.QuietHours.String() }, "off"},
		{"REDIS_PREFIX", "charity-a", func(c config.Config) any { return c.RedisPrefix }, "charity-a"},
		{"HYS_STAFF_NUMBER", "+12025550123", func(c config.Config) any { return c.StaffNumber }, "+12025550123"},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			c, err := config.FromEnv(env(map[string]string{tt.name: tt.value}))
			if err != nil {
				t.Fatalf("FromEnv rejected %s=%q: %v", tt.name, tt.value, err)
			}
			if got := tt.got(c); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("FromEnv: %s=%q read as %v, want %v", tt.name, tt.value, got, tt.want)
			}

			o := config.Defaults()
			if err := config.Optional(only(tt.name, tt.value), &o); err != nil {
				t.Fatalf("Optional rejected %s=%q: %v", tt.name, tt.value, err)
			}
			if got := tt.got(o); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Optional: %s=%q read as %v, want %v", tt.name, tt.value, got, tt.want)
			}
		})
	}
}

func TestOptionalSettingBadValues(t *testing.T) {
	tests := []struct{ name, value string }{
		{"LISTEN_ADDR", "8080"},
		{"LISTEN_ADDR", "localhost"},
		{"SMS_SESSION_TTL", "3 days"},
		{"SMS_SESSION_TTL", "72"},
		{"SMS_SESSION_TTL", "0"},
		{"SMS_SESSION_TTL", "-1h"},
		{"VOICE_SESSION_TTL", "half an hour"},
		{"VOICE_SESSION_TTL", "0s"},
		{"HYS_TIME_ZONE", "london"},
		{"HYS_TIME_ZONE", "Mars/Olympus_Mons"},
		{"HYS_TIME_ZONE", "BST+1"},
		{"TWILIO_SMS_FROM", "07700900123"},
		{"TWILIO_SMS_FROM", "PN0123456789abcdef"},
		{"HYS_SMS_RATE", "fast"},
		{"HYS_SMS_RATE", "1/s"},
		{"HYS_SMS_RATE", "0"},
		{"HYS_SMS_RATE", "-1"},
		{"HYS_SMS_RATE", "1,5"},
		{"HYS_QUIET_HOURS", "9pm-8am"},
		{"HYS_QUIET_HOURS", "21:00"},
		{"HYS_QUIET_HOURS", "25:00-08:00"},
		{"HYS_QUIET_HOURS", "21:60-08:00"},
		{"HYS_QUIET_HOURS", "21.00-08.00"},
		{"HYS_QUIET_HOURS", "yes"},
		{"HYS_PHONE_REGION", "GBR"},
		{"HYS_PHONE_REGION", "United Kingdom"},
		{"HYS_PHONE_REGION", "G"},
		{"HYS_REMINDER_AFTER", "tomorrow"},
		{"HYS_REMINDER_AFTER", "24"},
		{"HYS_REMINDER_AFTER", "0"},
		{"HYS_REMINDER_AFTER", "-1h"},
		{"HYS_REMINDER_AFTER", "never"},
		{"HYS_GATHER_TIMEOUT", "8"},
		{"HYS_GATHER_TIMEOUT", "eight seconds"},
		{"HYS_GATHER_TIMEOUT", "500ms"},
		{"HYS_GATHER_TIMEOUT", "61s"},
		{"HYS_GATHER_TIMEOUT", "0s"},
		{"HYS_STAFF_NUMBER", "01614960000"},
		{"HYS_SAFEGUARDING_ALERT_TO", "07700900123"},
		{"HYS_SAFEGUARDING_ALERT_TO", "+447700900123;+447700900124"},
		{"HYS_SAFEGUARDING_ALERT_TO", "+4412"},
		{"HYS_SAFEGUARDING_PHRASES", "/nowhere/phrases.txt"},
		{"HYS_CRISIS_TEXT", strings.Repeat("Call 999. ", 60)},
		{"HYS_STAFF_NUMBER", "reception"},
		{"HYS_RECORDING_NUMBER", "07700900555"},
		{"TRANSCRIBE_URL", "whisper.local:8000"},
		{"TRANSCRIBE_URL", "ftp://whisper.local"},
		{"TRANSCRIBE_URL", "http://"},
		// Values that used to be accepted and then misbehaved.
		{"HYS_SMS_RATE", "NaN"},   // no rate limit at all
		{"HYS_SMS_RATE", "Inf"},   // the same
		{"HYS_SMS_RATE", "50000"}, // not a rate Twilio allows
		{"HYS_SMS_CONFIRM_STOP", "ture"},
		{"HYS_SMS_CONFIRM_STOP", "please"},
		{"HYS_DELETE_RECORDINGS", "delete them"},
		{"HYS_PHONE_REGION", "12"},
		{"HYS_PHONE_REGION", "é"},
		{"HYS_STAFF_NUMBER", "+call reception"},
		{"HYS_STAFF_NUMBER", "+44"},
		{"TWILIO_SMS_FROM", "+"},
		{"TWILIO_SMS_FROM", "MG"},
		{"LISTEN_ADDR", "eighty:eighty"},
		{"LISTEN_ADDR", ":99999"},
		{"SMS_SESSION_TTL", "1ns"},
		{"VOICE_SESSION_TTL", "30s"},
		{"HYS_REMINDER_AFTER", "1ns"},
		{"HYS_QUIET_HOURS", "21:00-21:00"},
		{"HYS_OFFICE_HOURS", "whenever"},
		{"HYS_OFFICE_HOURS", "Mon-Fri 17:00-09:00"},
		{"HYS_OFFICE_HOURS", "Mon-Fri"},
		{"HYS_PHONE_REGION", "ZZ"},
		{"HYS_VOICE", "Banana.Voice"},
		{"HYS_VOICE", "Polly Amy"},
		{"HYS_VOICE_LANGUAGE", "klingon"},
		{"HYS_VOICE_LANGUAGE", "en"},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			_, err := config.FromEnv(env(map[string]string{tt.name: tt.value}))
			checkOneProblem(t, err, tt.name)

			o := config.Defaults()
			checkOneProblem(t, config.Optional(only(tt.name, tt.value), &o), tt.name)
		})
	}
}

func TestOptionalDoesNotNeedTheRequiredSettings(t *testing.T) {
	c := config.Defaults()
	if err := config.Optional(func(string) string { return "" }, &c); err != nil {
		t.Errorf("Optional with no environment = %v, want nil (dev needs none of the serve settings)", err)
	}
}

func TestEveryMistakeIsReportedAtOnce(t *testing.T) {
	bad := map[string]string{
		"DATABASE_URL":       "",
		"REDIS_URL":          "localhost:6379",
		"TWILIO_ACCOUNT_SID": "SK123",
		"TWILIO_AUTH_TOKEN":  "not-a-token",
		"PUBLIC_URL":         "feedback.example.org",
		"HYS_SECRET_KEY":     "too short",
		"TWILIO_API_URL":     "127.0.0.1:9090",
		"LISTEN_ADDR":        "8080",
		"SMS_SESSION_TTL":    "3 days",
		"VOICE_SESSION_TTL":  "0",
		"HYS_TIME_ZONE":      "london",
		"TWILIO_SMS_FROM":    "07700900123",
		"HYS_SMS_RATE":       "fast",
		"HYS_QUIET_HOURS":    "9pm-8am",
		"HYS_PHONE_REGION":   "GBR",
		"HYS_REMINDER_AFTER": "tomorrow",
		"HYS_GATHER_TIMEOUT": "8",
		"HYS_STAFF_NUMBER":   "01614960000",
		"TRANSCRIBE_URL":     "whisper.local:8000",
	}
	_, err := config.FromEnv(env(bad))
	p := problems(t, err)
	if len(p) != len(bad) {
		t.Errorf("got %d problems for %d mistakes:\n%s", len(p), len(bad), err)
	}
	for name := range bad {
		i := slices.IndexFunc(p, func(msg string) bool { return strings.HasPrefix(msg, name+" ") })
		if i < 0 {
			t.Errorf("no problem names %s:\n%s", name, err)
			continue
		}
		checkSentence(t, p[i], name)
	}
	if lines := strings.Split(err.Error(), "\n"); len(lines) != len(p) {
		t.Errorf("Error() has %d lines for %d problems", len(lines), len(p))
	}

	// Optional alone reports every optional mistake, and nothing about the
	// required settings.
	o := config.Defaults()
	err = config.Optional(func(name string) string { return bad[name] }, &o)
	p = problems(t, err)
	optionalNames := []string{"LISTEN_ADDR", "SMS_SESSION_TTL", "VOICE_SESSION_TTL", "HYS_TIME_ZONE", "TWILIO_SMS_FROM",
		"HYS_SMS_RATE", "HYS_QUIET_HOURS", "HYS_PHONE_REGION", "HYS_REMINDER_AFTER", "HYS_GATHER_TIMEOUT",
		"HYS_STAFF_NUMBER", "TRANSCRIBE_URL"}
	if len(p) != len(optionalNames) {
		t.Errorf("Optional: got %d problems, want %d:\n%s", len(p), len(optionalNames), err)
	}
	for _, name := range optionalNames {
		if !slices.ContainsFunc(p, func(msg string) bool { return strings.HasPrefix(msg, name+" ") }) {
			t.Errorf("Optional: no problem names %s:\n%s", name, err)
		}
	}
}

func TestSafeguardingPhrasesFile(t *testing.T) {
	dir := t.TempDir()
	good := dir + "/phrases.txt"
	if err := os.WriteFile(good, []byte("# ours\nmoney gone\nlonel*\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := config.FromEnv(env(map[string]string{"HYS_SAFEGUARDING_PHRASES": good}))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.SafeguardingPhrases, []string{"money gone", "lonel*"}) {
		t.Errorf("phrases = %q", c.SafeguardingPhrases)
	}
	bad := dir + "/bad.txt"
	if err := os.WriteFile(bad, []byte("fine\nx*\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = config.FromEnv(env(map[string]string{"HYS_SAFEGUARDING_PHRASES": bad}))
	checkOneProblem(t, err, "HYS_SAFEGUARDING_PHRASES")
	if !strings.Contains(err.Error(), "line 2") {
		t.Errorf("the problem does not name the line: %v", err)
	}
}
