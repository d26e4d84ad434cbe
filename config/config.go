// Package config reads Have Your Say's settings from the environment and
// checks them before anything starts, so a mistake is reported in one plain
// sentence instead of a crash later.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // time zones work in a container with no zone files
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"

	"github.com/haveyoursay/haveyoursay/hours"
	"github.com/haveyoursay/haveyoursay/safeguarding"
	"github.com/haveyoursay/haveyoursay/store"
)

// Config is everything the server needs to run, parsed: nothing after
// config reads a setting's text again.
type Config struct {
	DatabaseURL      string
	RedisURL         string
	TwilioAccountSID string
	TwilioAuthToken  string
	TwilioAPIURL     string // optional: point the REST client at the emulator
	PublicURL        string // the base URL Twilio calls, used to check signatures
	ListenAddr       string
	SecretKey        string // encrypts phone numbers at rest
	RedisPrefix      string // put before every Redis key, to share one Redis

	SMSSessionTTL   time.Duration
	VoiceSessionTTL time.Duration
	OrgName         string
	OrgPhone        string
	OrgAbout        string
	TimeZone        string         // HYS_TIME_ZONE as written, e.g. Europe/London
	Location        *time.Location // the same time zone, loaded
	SMSConfirmStop  bool           // send our own STOP confirmation (numbers without Twilio's)
	TranscribeURL   string

	SMSFrom       string        // sender for invitations when a survey has no number of its own
	SMSRate       float64       // texts a second, across all servers
	QuietHours    hours.Quiet   // when no invitation or reminder starts; in Location
	PhoneRegion   string        // country of numbers written without a country code
	ReminderAfter time.Duration // 0: no reminders

	Voice            string        // Twilio voice for spoken prompts, e.g. Polly.Amy
	VoiceLanguage    string        // language when a survey's cannot be used, e.g. en-GB
	GatherTimeout    time.Duration // how long a call waits for a key or a word
	StaffNumber      string        // dialled in office hours when a caller presses 0
	OfficeHours      hours.Office  // zero: nobody is put through by phone; in Location
	DeleteRecordings bool          // delete Twilio's copy once ours is stored
	RecordingNumber  string        // HYS_RECORDING_NUMBER: calls to it record prompts

	SafeguardingAlertTo []string // HYS_SAFEGUARDING_ALERT_TO: texted about each new worry
	SafeguardingPhrases []string // the charity's own risk phrases, read from the file HYS_SAFEGUARDING_PHRASES
	CrisisText          string   // HYS_CRISIS_TEXT: the crisis lines a member who tells us of harm is texted

	RetainAnswers    time.Duration // HYS_RETAIN_ANSWERS: how long answers are kept unless a survey says
	RetainRecordings time.Duration // HYS_RETAIN_RECORDINGS: how long recordings are kept unless a survey says
	RetainWorries    time.Duration // HYS_RETAIN_WORRIES: how long a conversation with a worry is kept

	SpoolDir     string        // HYS_SPOOL_DIR: the file spool on local disk ("" in tests: a temporary one)
	DrainPeriod  time.Duration // HYS_DRAIN_PERIOD: how long a stopping server keeps serving while /readyz says 503
	MetricsToken string        // HYS_METRICS_TOKEN: when set, GET /metrics needs it as a bearer token
}

// Problems lists every setting that is missing or malformed. Each entry is
// one plain sentence naming the variable.
type Problems []string

func (p Problems) Error() string { return strings.Join(p, "\n") }

// Defaults returns the optional settings' default values.
func Defaults() Config {
	return Config{
		Location:        london,
		OfficeHours:     hours.Office{Location: london},
		ListenAddr:      ":8080",
		SMSSessionTTL:   72 * time.Hour,
		VoiceSessionTTL: 30 * time.Minute,
		OrgName:         "Have Your Say",
		OrgAbout:        "We ask what you think so we can make things better.",
		TimeZone:        "Europe/London",
		SMSRate:         1,
		QuietHours:      hours.DefaultQuiet(london),
		PhoneRegion:     "GB",
		ReminderAfter:   24 * time.Hour,
		Voice:           "Polly.Amy",
		VoiceLanguage:   "en-GB",
		GatherTimeout:   8 * time.Second,

		RetainAnswers:    DefaultRetainAnswers,
		RetainRecordings: DefaultRetainRecordings,
		RetainWorries:    DefaultRetainWorries,
		DrainPeriod:      10 * time.Second,
	}
}

// FromEnv reads the production configuration. Every required variable must
// be present and well-formed; otherwise it returns Problems.
func FromEnv(getenv func(string) string) (Config, error) {
	c := Defaults()
	var p Problems

	c.DatabaseURL = getenv("DATABASE_URL")
	if msg := CheckDatabaseURL(c.DatabaseURL); msg != "" {
		p = append(p, msg)
	}
	c.RedisURL = getenv("REDIS_URL")
	if msg := CheckRedisURL(c.RedisURL); msg != "" {
		p = append(p, msg)
	}
	c.TwilioAccountSID = getenv("TWILIO_ACCOUNT_SID")
	switch {
	case c.TwilioAccountSID == "":
		p = append(p, "TWILIO_ACCOUNT_SID is not set: it should be your Twilio Account SID, which starts with AC (find it on the Twilio console's home page).")
	case !strings.HasPrefix(c.TwilioAccountSID, "AC") || !alnum(c.TwilioAccountSID) || len(c.TwilioAccountSID) != 34:
		p = append(p, "TWILIO_ACCOUNT_SID does not look right: it should be AC followed by 32 letters and digits.")
	}
	c.TwilioAuthToken = getenv("TWILIO_AUTH_TOKEN")
	switch {
	case c.TwilioAuthToken == "":
		p = append(p, "TWILIO_AUTH_TOKEN is not set: it should be your Twilio Auth Token (32 letters and digits, on the Twilio console's home page).")
	case !alnum(c.TwilioAuthToken) || len(c.TwilioAuthToken) != 32:
		p = append(p, "TWILIO_AUTH_TOKEN does not look right: it should be 32 letters and digits.")
	}
	c.PublicURL = strings.TrimRight(getenv("PUBLIC_URL"), "/")
	if msg := CheckPublicURL(c.PublicURL); msg != "" {
		p = append(p, msg)
	}
	c.SecretKey = getenv("HYS_SECRET_KEY")
	switch {
	case c.SecretKey == "":
		p = append(p, "HYS_SECRET_KEY is not set: it should be a long random secret of at least 32 characters (for example the output of `openssl rand -base64 32`); it encrypts phone numbers.")
	case utf8.RuneCountInString(strings.TrimSpace(c.SecretKey)) < 32:
		p = append(p, fmt.Sprintf("HYS_SECRET_KEY is too short (%d characters): it should be at least 32 characters long.", utf8.RuneCountInString(strings.TrimSpace(c.SecretKey))))
	}
	if v := getenv("TWILIO_API_URL"); v != "" {
		if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			p = append(p, "TWILIO_API_URL does not look right: leave it unset for the real Twilio, or set it to an address like http://127.0.0.1:9090.")
		}
		c.TwilioAPIURL = strings.TrimRight(v, "/")
	}
	optional(&p, getenv, &c)
	if len(p) > 0 {
		return c, p
	}
	return c, nil
}

// Dev is what `haveyoursay dev` reads: the optional settings, and the
// addresses it uses instead of starting its own database, Redis or Twilio
// emulator when they are set. Empty ones are for dev to fill in.
type Dev struct {
	Config
	DataDir string // HYS_DATA_DIR: where dev keeps its database and secret key; default .hys
	// DemoConversations (HYS_DEMO_CONVERSATIONS) is how many demo
	// conversations dev makes in an empty database; default 300, 0 for none.
	DemoConversations int
}

// ForDev reads the settings `dev` uses; none is required.
func ForDev(getenv func(string) string) (Dev, error) {
	d := Dev{Config: Defaults(), DataDir: ".hys", DemoConversations: 300}
	var p Problems
	if v := getenv("HYS_DATA_DIR"); v != "" {
		d.DataDir = v
	}
	if v := strings.TrimSpace(getenv("HYS_DEMO_CONVERSATIONS")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 5000 {
			p = append(p, fmt.Sprintf("HYS_DEMO_CONVERSATIONS is %q: it should be a whole number from 0 (none) to 5000.", v))
		} else {
			d.DemoConversations = n
		}
	}
	if v := getenv("DATABASE_URL"); v != "" {
		if msg := CheckDatabaseURL(v); msg != "" {
			p = append(p, msg)
		}
		d.DatabaseURL = v
	}
	if v := getenv("REDIS_URL"); v != "" {
		if msg := CheckRedisURL(v); msg != "" {
			p = append(p, msg)
		}
		d.RedisURL = v
	}
	if v := strings.TrimRight(getenv("PUBLIC_URL"), "/"); v != "" {
		if msg := CheckPublicURL(v); msg != "" {
			p = append(p, msg)
		}
		d.PublicURL = v
	}
	d.TwilioAPIURL = strings.TrimRight(getenv("TWILIO_API_URL"), "/")
	optional(&p, getenv, &d.Config)
	if len(p) > 0 {
		return d, p
	}
	return d, nil
}

// Optional reads the settings that have defaults; it is used by both serve
// and dev.
func Optional(getenv func(string) string, c *Config) error {
	var p Problems
	optional(&p, getenv, c)
	if len(p) > 0 {
		return p
	}
	return nil
}

func optional(p *Problems, getenv func(string) string, c *Config) {
	if v := getenv("REDIS_PREFIX"); v != "" {
		c.RedisPrefix = v
	}
	c.SpoolDir = strings.TrimSpace(getenv("HYS_SPOOL_DIR"))
	if v := getenv("HYS_DRAIN_PERIOD"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > 5*time.Minute {
			*p = append(*p, "HYS_DRAIN_PERIOD does not look right: it should be how long a stopping server keeps answering, from 0s to 5m, like 10s.")
		}
		c.DrainPeriod = d
	}
	if v := getenv("HYS_METRICS_TOKEN"); v != "" {
		if len(v) < 16 || strings.ContainsAny(v, " \t\r\n") {
			*p = append(*p, "HYS_METRICS_TOKEN does not look right: it should be a random secret of at least 16 characters with no spaces (for example the output of `openssl rand -hex 24`).")
		}
		c.MetricsToken = v
	}
	if v := getenv("LISTEN_ADDR"); v != "" {
		if _, port, err := net.SplitHostPort(v); err != nil || !validPort(port) {
			*p = append(*p, "LISTEN_ADDR does not look right: it should be a host and port like :8080 or 127.0.0.1:8080.")
		}
		c.ListenAddr = v
	}
	durations := []struct {
		name string
		dst  *time.Duration
	}{{"SMS_SESSION_TTL", &c.SMSSessionTTL}, {"VOICE_SESSION_TTL", &c.VoiceSessionTTL}}
	for _, d := range durations {
		if v := getenv(d.name); v != "" {
			dur, err := time.ParseDuration(v)
			if err != nil || dur < time.Minute {
				*p = append(*p, d.name+" does not look right: it should be a length of time of at least a minute, like 72h or 30m.")
				continue
			}
			*d.dst = dur
		}
	}
	if v := getenv("HYS_TIME_ZONE"); v != "" {
		if loc, err := time.LoadLocation(v); err != nil {
			*p = append(*p, "HYS_TIME_ZONE does not look right: it should be a time zone name like Europe/London.")
		} else {
			c.Location = loc
		}
		c.TimeZone = v
	}
	// Quiet and office hours are times in the organisation's time zone.
	c.QuietHours.Loc = c.Location
	c.OfficeHours.Location = c.Location
	if v := getenv("HYS_ORG_NAME"); v != "" {
		c.OrgName = v
	}
	if v := getenv("HYS_ORG_PHONE"); v != "" {
		c.OrgPhone = v
	}
	if v := getenv("HYS_ORG_ABOUT"); v != "" {
		c.OrgAbout = v
	}
	boolean(p, getenv, "HYS_SMS_CONFIRM_STOP", &c.SMSConfirmStop)
	if v := getenv("TWILIO_SMS_FROM"); v != "" {
		if !phoneNumber.MatchString(v) && !messagingService.MatchString(v) {
			*p = append(*p, "TWILIO_SMS_FROM does not look right: it should be a phone number like +447700900123 or a Messaging Service SID starting with MG.")
		}
		c.SMSFrom = v
	}
	if v := getenv("HYS_SMS_RATE"); v != "" {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || !(r > 0 && r <= 1000) { // also refuses NaN and Inf
			*p = append(*p, "HYS_SMS_RATE does not look right: it should be how many texts to send a second, like 1 or 0.5 (at most 1000).")
		}
		c.SMSRate = r
	}
	if v := getenv("HYS_QUIET_HOURS"); v != "" {
		q, err := hours.ParseQuiet(v, c.Location)
		switch {
		case errors.Is(err, hours.ErrSameStartAndEnd):
			*p = append(*p, "HYS_QUIET_HOURS does not look right: it starts and ends at the same moment; it should be a range like 21:00-08:00, or off for no quiet hours.")
		case err != nil:
			*p = append(*p, "HYS_QUIET_HOURS does not look right: it should be a time range like 21:00-08:00, or off.")
		default:
			c.QuietHours = q
		}
	}
	if v := getenv("HYS_PHONE_REGION"); v != "" {
		if !twoLetters.MatchString(v) || !phonenumbers.GetSupportedRegions()[strings.ToUpper(v)] {
			*p = append(*p, "HYS_PHONE_REGION does not look right: it should be a two-letter country code like GB.")
		}
		c.PhoneRegion = strings.ToUpper(v)
	}
	if v := getenv("HYS_REMINDER_AFTER"); v != "" {
		if strings.EqualFold(v, "off") {
			c.ReminderAfter = 0
		} else if d, err := time.ParseDuration(v); err != nil || d < time.Minute {
			*p = append(*p, "HYS_REMINDER_AFTER does not look right: it should be a length of time of at least a minute, like 24h, or off.")
		} else {
			c.ReminderAfter = d
		}
	}
	if v := getenv("HYS_VOICE"); v != "" {
		if !twilioVoice.MatchString(v) {
			*p = append(*p, "HYS_VOICE does not look right: it should be one of Twilio's voices, like Polly.Amy or Google.en-GB-Standard-A.")
		}
		c.Voice = v
	}
	if v := getenv("HYS_VOICE_LANGUAGE"); v != "" {
		if !languageTag.MatchString(v) {
			*p = append(*p, "HYS_VOICE_LANGUAGE does not look right: it should be a language code like en-GB or cy-GB.")
		}
		c.VoiceLanguage = v
	}
	if v := getenv("HYS_GATHER_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second || d > time.Minute {
			*p = append(*p, "HYS_GATHER_TIMEOUT does not look right: it should be how long to wait for a key press, between 1s and 60s, like 8s.")
		}
		c.GatherTimeout = d
	}
	if v := getenv("HYS_STAFF_NUMBER"); v != "" {
		if !phoneNumber.MatchString(v) {
			*p = append(*p, "HYS_STAFF_NUMBER does not look right: it should be a phone number with its country code, like +441614960000.")
		}
		c.StaffNumber = v
	}
	if v := getenv("HYS_RECORDING_NUMBER"); v != "" {
		if !phoneNumber.MatchString(v) {
			*p = append(*p, "HYS_RECORDING_NUMBER does not look right: it should be a phone number with its country code, like +441614960000.")
		}
		c.RecordingNumber = v
	}
	if v := getenv("HYS_OFFICE_HOURS"); v != "" {
		if o, err := hours.ParseOffice(v, c.Location); err != nil {
			*p = append(*p, fmt.Sprintf("HYS_OFFICE_HOURS does not look right: %q should be days and opening hours like Mon-Fri 09:00-17:00.", v))
		} else {
			c.OfficeHours = o
		}
	}
	boolean(p, getenv, "HYS_DELETE_RECORDINGS", &c.DeleteRecordings)
	retention(p, getenv, c)
	if v := getenv("TRANSCRIBE_URL"); v != "" {
		if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			*p = append(*p, "TRANSCRIBE_URL does not look right: it should be the address of an OpenAI-compatible transcription service, like http://127.0.0.1:8000.")
		}
		c.TranscribeURL = v
	}
	safeguardingSettings(p, getenv, c)
}

// safeguardingSettings reads who is alerted about a worry, the charity's
// own risk phrases and its crisis lines.
func safeguardingSettings(p *Problems, getenv func(string) string, c *Config) {
	if v := strings.TrimSpace(getenv("HYS_SAFEGUARDING_ALERT_TO")); v != "" {
		c.SafeguardingAlertTo = nil
		for _, n := range strings.Split(v, ",") {
			n = strings.Join(strings.Fields(n), "")
			if n == "" {
				continue
			}
			if !phoneNumber.MatchString(n) || !validNumber(n) {
				*p = append(*p, fmt.Sprintf("HYS_SAFEGUARDING_ALERT_TO does not look right: %q is not a number we can text; it should be full numbers with the country code, separated by commas, like +447700900123,+447700900124.", n))
				continue
			}
			if !slices.Contains(c.SafeguardingAlertTo, n) {
				c.SafeguardingAlertTo = append(c.SafeguardingAlertTo, n)
			}
		}
	}
	if v := strings.TrimSpace(getenv("HYS_SAFEGUARDING_PHRASES")); v != "" {
		f, err := os.Open(v)
		if err != nil {
			*p = append(*p, fmt.Sprintf("HYS_SAFEGUARDING_PHRASES names %q, which cannot be read: it should be a text file of risk phrases, one a line.", v))
		} else {
			phrases, err := safeguarding.ReadPhrases(f)
			f.Close()
			if err != nil {
				*p = append(*p, fmt.Sprintf("HYS_SAFEGUARDING_PHRASES (%s) has a phrase we cannot use, %v; each line should be a phrase of whole words.", v, err))
			}
			c.SafeguardingPhrases = phrases
		}
	}
	if v := strings.TrimSpace(getenv("HYS_CRISIS_TEXT")); v != "" {
		if utf8.RuneCountInString(v) > 480 {
			*p = append(*p, "HYS_CRISIS_TEXT is too long: it should be 480 characters or fewer, so the reply fits in a few texts.")
		}
		c.CrisisText = v
	}
}

// validNumber reports whether an E.164 number has a length its country
// uses (the numbers kept for drama and tests, 07700 900xxx, are not
// "valid" to libphonenumber, but are possible).
func validNumber(n string) bool {
	num, err := phonenumbers.Parse(n, "")
	return err == nil && phonenumbers.IsPossibleNumber(num)
}

// DatabaseFromEnv reads DATABASE_URL alone, for the commands that need only
// the database (migrate, survey import and list).
func DatabaseFromEnv(getenv func(string) string) (string, error) {
	v := getenv("DATABASE_URL")
	if msg := CheckDatabaseURL(v); msg != "" {
		return "", Problems{msg}
	}
	return v, nil
}

// CheckDatabaseURL returns a sentence describing what is wrong with a
// DATABASE_URL value, or "" when it is usable.
func CheckDatabaseURL(v string) string {
	const want = "it should be a PostgreSQL address like postgres://user:password@localhost:5432/haveyoursay."
	if v == "" {
		return "DATABASE_URL is not set: " + want
	}
	if !strings.HasPrefix(v, "postgres://") && !strings.HasPrefix(v, "postgresql://") {
		return "DATABASE_URL does not look right: " + want
	}
	if err := store.CheckDatabaseURL(v); err != nil {
		return "DATABASE_URL does not look right: " + want
	}
	return ""
}

// CheckRedisURL returns a sentence describing what is wrong with a REDIS_URL
// value, or "" when it is usable.
func CheckRedisURL(v string) string {
	const want = "it should be a Redis address like redis://localhost:6379/0."
	if v == "" {
		return "REDIS_URL is not set: " + want
	}
	if err := store.CheckRedisURL(v); err != nil {
		return "REDIS_URL does not look right: " + want
	}
	return ""
}

// CheckPublicURL returns a sentence describing what is wrong with a
// PUBLIC_URL value, or "" when it is usable.
func CheckPublicURL(v string) string {
	const want = "it should be the address Twilio uses to reach this server, like https://feedback.example.org."
	if v == "" {
		return "PUBLIC_URL is not set: " + want
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "PUBLIC_URL does not look right: " + want
	}
	return ""
}

var (
	phoneNumber      = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	messagingService = regexp.MustCompile(`^MG[0-9a-zA-Z]{32}$`)
	twoLetters       = regexp.MustCompile(`^[A-Za-z]{2}$`)
	twilioVoice      = regexp.MustCompile(`^(man|woman|alice|(Polly|Google)\.[A-Za-z0-9-]+)$`)
	languageTag      = regexp.MustCompile(`^[a-zA-Z]{2,3}-[a-zA-Z0-9]{2,8}$`)
)

// london is the default time zone, loaded once so that two Defaults()
// compare equal.
var london = func() *time.Location {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		panic(err) // embedded by time/tzdata
	}
	return loc
}()

// boolean reads a yes/no setting: 1, true, yes or on; 0, false, no or off.
func boolean(p *Problems, getenv func(string) string, name string, dst *bool) {
	v := strings.ToLower(strings.TrimSpace(getenv(name)))
	switch v {
	case "":
	case "1", "true", "yes", "on":
		*dst = true
	case "0", "false", "no", "off":
		*dst = false
	default:
		*p = append(*p, name+" does not look right: it should be true or false.")
	}
}

func validPort(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n >= 0 && n <= 65535
}

func alnum(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return s != ""
}
