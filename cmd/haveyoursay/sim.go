package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/haveyoursay/haveyoursay/phonesim"
	"github.com/haveyoursay/haveyoursay/survey"
)

// The dev server's Twilio account (see cmdDev): sim and bench talk to it
// with no settings at all.
const (
	devAccountSID = "AC00000000000000000000000000000dev"
	devAuthToken  = "devtoken000000000000000000000dev" // 32 characters, like a real token
)

const simUsage = `Usage:
  haveyoursay sim sms  [--survey ID] [flags]   text a survey from the terminal
  haveyoursay sim call [--survey ID] [flags]   phone a survey from the terminal

By text: type a text and press Enter.
By phone: type keys (1, 2, *, #) and press Enter to press them; type words to
say them; when the call is recording, type what you would say and press Enter;
an empty line is silence; /hangup hangs up.

With no flags it talks to the server of 'make run' (or the one at
LISTEN_ADDR), e.g. haveyoursay sim sms --survey day-service
`

// phoneFlags are the settings sim and bench share: where the server is and
// how to sign like Twilio.
type phoneFlags struct {
	url, publicURL, token, account, from, to, survey, keyword string
}

// Secrets have no default shown in --help (they are filled in by
// settle): help output must never print a real auth token.
func (p *phoneFlags) register(fs *flag.FlagSet, getenv func(string) string) {
	fs.StringVar(&p.url, "url", "http://"+localAddr(orDefault(getenv("LISTEN_ADDR"), ":8080")), "where the server listens (from LISTEN_ADDR)")
	fs.StringVar(&p.publicURL, "public-url", getenv("PUBLIC_URL"), "the server's PUBLIC_URL, which signatures cover; empty means --url")
	fs.StringVar(&p.token, "token", "", "the server's TWILIO_AUTH_TOKEN; empty means $TWILIO_AUTH_TOKEN, else the dev server's")
	fs.StringVar(&p.account, "account", "", "the server's TWILIO_ACCOUNT_SID; empty means $TWILIO_ACCOUNT_SID, else the dev server's")
	fs.StringVar(&p.to, "to", phonesim.DefaultOurNumber, "our number, which members text and call")
	fs.StringVar(&p.survey, "survey", "", "the survey to talk to, by id (its keyword and number are used)")
	fs.StringVar(&p.keyword, "keyword", "", "the SMS keyword that starts the survey (default: the survey's own)")
}

// settle fills in the secrets the flags left empty.
func (p *phoneFlags) settle(getenv func(string) string) {
	p.token = orDefault(p.token, orDefault(getenv("TWILIO_AUTH_TOKEN"), devAuthToken))
	p.account = orDefault(p.account, orDefault(getenv("TWILIO_ACCOUNT_SID"), devAccountSID))
}

func orDefault(v, def string) string {
	if v != "" {
		return v
	}
	return def
}

// emulator returns a Twilio emulator that signs for the public URL and
// sends every request to the server's real address.
func (p *phoneFlags) emulator() (*phonesim.Emulator, error) {
	u, err := url.Parse(p.url)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usageError{fmt.Sprintf("--url %q does not look right: it should look like http://localhost:8080", p.url)}
	}
	public := strings.TrimRight(orDefault(p.publicURL, p.url), "/")
	cfg := phonesim.Config{AccountSID: p.account, AuthToken: p.token, WebhookBase: public}
	if public != strings.TrimRight(p.url, "/") {
		cfg.HTTPClient = phonesim.LoopbackClient(public, p.url, 15*time.Second)
	}
	return phonesim.New(cfg), nil
}

// findSurvey resolves --survey to its keyword and numbers: the demo survey
// is known to every copy of the program; others are read from the
// database when DATABASE_URL is set.
func (p *phoneFlags) findSurvey(ctx context.Context, getenv func(string) string) (*survey.Survey, error) {
	if p.survey == "" {
		return nil, nil
	}
	if demo := survey.Demo(); demo.ID == p.survey {
		return demo, nil
	}
	if getenv("DATABASE_URL") == "" {
		if p.keyword != "" {
			return nil, nil
		}
		return nil, fmt.Errorf("To find the survey %q, set DATABASE_URL (or give its keyword with --keyword).", p.survey)
	}
	db, err := openDB(ctx, getenv)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.CurrentSurveys(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		if r.SurveyID == p.survey {
			return survey.Parse(r.FileName, []byte(r.Source))
		}
	}
	return nil, fmt.Errorf("There is no survey %q. See the surveys with: haveyoursay survey list", p.survey)
}

// cmdSim talks to a running server as one member, by text or by phone,
// from the terminal.
func cmdSim(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) > 0 && isHelp(args[0]) {
		// "sim help", "sim --help", "sim help sms": the same help.
		args = []string{"sms", "--help"}
	}
	if len(args) == 0 || (args[0] != "sms" && args[0] != "call") {
		fmt.Fprint(stderr, simUsage)
		return usageError{"haveyoursay sim: say sms or call."}
	}
	mode := args[0]
	fs := flag.NewFlagSet("sim "+mode, flag.ContinueOnError)
	var p phoneFlags
	p.register(fs, getenv)
	fs.StringVar(&p.from, "from", "+447700900123", "the member's number")
	if help, err := parseFlags(fs, args[1:], simUsage, stdout); help || err != nil {
		return err
	}
	p.settle(getenv)
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("haveyoursay sim %s: unexpected %q.", mode, fs.Arg(0))}
	}
	explicitTo := false
	fs.Visit(func(f *flag.Flag) { explicitTo = explicitTo || f.Name == "to" })
	s, err := p.findSurvey(ctx, getenv)
	if err != nil {
		return err
	}
	if s != nil {
		if p.keyword == "" && len(s.Keywords) > 0 {
			p.keyword = s.Keywords[0]
		}
		if !explicitTo && len(s.Numbers) > 0 {
			p.to = s.Numbers[0]
		}
	}
	e, err := p.emulator()
	if err != nil {
		return err
	}
	defer e.Close()
	in := &lineReader{sc: bufio.NewScanner(stdin), out: stdout, echo: !typedAtTerminal(stdin)}
	in.sc.Buffer(make([]byte, 4096), 64<<10)
	if mode == "sms" {
		return simSMS(ctx, e, &p, in, stdout)
	}
	err = simCall(ctx, e, &p, in, stdout)
	// Recording and transcription callbacks come after the call, as Twilio's do.
	if ferr := e.FlushCallbacks(context.WithoutCancel(ctx)); ferr != nil && err == nil {
		err = fmt.Errorf("after the call: %w", ferr)
	}
	return err
}

// maxSimSteps bounds one session, however long stdin is.
const maxSimSteps = 1000

func simSMS(ctx context.Context, e *phonesim.Emulator, p *phoneFlags, in *lineReader, out io.Writer) error {
	fmt.Fprintf(out, "Texting %s from %s. Type a text and press Enter. /quit stops.\n", p.to, p.from)
	send := func(body string) error {
		res, err := e.Text(ctx, p.from, p.to, body)
		if err != nil {
			return simError(err, p.url)
		}
		if len(res.Messages) == 0 {
			fmt.Fprintln(out, "(no reply)")
		}
		for _, m := range res.Messages {
			fmt.Fprintln(out, indent("them> ", m))
		}
		return nil
	}
	if p.keyword != "" {
		fmt.Fprintf(out, "you> %s\n", p.keyword)
		if err := send(p.keyword); err != nil {
			return err
		}
	}
	for range maxSimSteps {
		fmt.Fprint(out, "you> ")
		line, ok := in.next()
		if !ok {
			fmt.Fprintln(out)
			return in.sc.Err()
		}
		switch line {
		case "/quit", "/exit":
			return nil
		case "":
			continue
		}
		if err := send(line); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return nil
}

var keysOnly = regexp.MustCompile(`^[0-9*#]+$`)

func simCall(ctx context.Context, e *phonesim.Emulator, p *phoneFlags, in *lineReader, out io.Writer) error {
	fmt.Fprintf(out, "Calling %s from %s ...\n", p.to, p.from)
	c, err := e.Call(ctx, p.from, p.to)
	if c == nil {
		return simError(err, p.url)
	}
	hint, fresh := true, true
	for range maxSimSteps {
		if fresh {
			for _, h := range c.Heard() {
				fmt.Fprintln(out, indent("phone> ", h))
			}
		}
		fresh = true
		if err != nil {
			c.Hangup()
			return simError(err, p.url)
		}
		var prompt string
		switch c.Waiting() {
		case phonesim.WaitEnded:
			fmt.Fprintln(out, "The call has ended.")
			return nil
		case phonesim.WaitRecord:
			prompt = "Recording. Type what you would say, then press Enter (an empty line says nothing).\nsay> "
		default:
			if hint {
				fmt.Fprintln(out, "(Type keys, like 1, and press Enter. Type words to say them. An empty line is silence. /hangup hangs up.)")
				hint = false
			}
			if g := c.Gather(); g != nil && len(phonesim.MenuKeys(strings.Join(c.Heard(), "\n"))) == 0 {
				// No menu: most likely a pause before something else.
				fmt.Fprintf(out, "(The phone waits %s for a key. Press Enter to wait.)\n", plural(g.Timeout, "second", "seconds"))
			}
			prompt = "keys> "
		}
		fmt.Fprint(out, prompt)
		line, ok := in.next()
		if !ok {
			fmt.Fprintln(out, "\nHanging up.")
			return errors.Join(in.sc.Err(), c.Hangup())
		}
		if ctx.Err() != nil {
			c.Hangup()
			return ctx.Err()
		}
		switch {
		case line == "/hangup" || line == "/quit":
			fmt.Fprintln(out, "You hung up.")
			return c.Hangup()
		case c.Waiting() == phonesim.WaitRecord && line == "":
			err = c.Silence()
		case c.Waiting() == phonesim.WaitRecord:
			err = c.Record(speakingSeconds(line), line)
		case line == "":
			err = c.Silence()
		case keysOnly.MatchString(line):
			err = c.Press(line)
		default:
			if g := c.Gather(); g != nil && !g.Accepts("speech") {
				fmt.Fprintln(out, "This question listens for keys only. Type a key, like 1, and press Enter.")
				fresh = false
				continue
			}
			err = c.Speak(line, 0.9)
		}
	}
	c.Hangup()
	return fmt.Errorf("the call was still going after %d steps, so sim hung up", maxSimSteps)
}

// lineReader reads what the person types. When the input is not a
// terminal (a file, a pipe, a test), it echoes each line after the prompt,
// so the output reads as the conversation it was.
type lineReader struct {
	sc   *bufio.Scanner
	out  io.Writer
	echo bool
}

func (l *lineReader) next() (string, bool) {
	if !l.sc.Scan() {
		return "", false
	}
	line := strings.TrimSpace(l.sc.Text())
	if l.echo {
		fmt.Fprintln(l.out, line)
	}
	return line, true
}

func typedAtTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// speakingSeconds is how long saying text takes, at an easy pace.
func speakingSeconds(text string) int {
	return max(1, int(math.Ceil(float64(len(strings.Fields(text)))/2.5)))
}

func indent(prefix, text string) string {
	pad := strings.Repeat(" ", len(prefix))
	return prefix + strings.ReplaceAll(strings.TrimRight(text, "\n"), "\n", "\n"+pad)
}

// simError explains the usual reasons a webhook fails.
func simError(err error, base string) error {
	if notRunning(err) {
		return noServer(base)
	}
	var se *phonesim.StatusError
	if errors.As(err, &se) {
		switch se.StatusCode {
		case 403:
			return fmt.Errorf("the server refused the request (403): check --token and --public-url match its TWILIO_AUTH_TOKEN and PUBLIC_URL (%w)", err)
		case 404:
			return fmt.Errorf("the server has no such webhook (404): %w", err)
		}
	}
	return err
}

// notRunning reports whether err means nothing listens at the address.
func notRunning(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH)
}

// noServer says, in one sentence, that nothing answers and what to do.
func noServer(base string) error {
	return fmt.Errorf("No Have Your Say server answers at %s. Start one with 'make run'.", strings.TrimRight(base, "/"))
}
