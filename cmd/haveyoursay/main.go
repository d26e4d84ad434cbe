// Command haveyoursay is the one binary of Have Your Say. This package only
// wires the other packages together: it holds no logic of its own.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if msg := err.Error(); msg != "" {
			fmt.Fprintln(os.Stderr, msg)
		}
		os.Exit(exitCode(err))
	}
}

// usageError is a mistake in how the command was called: exit 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// exitError carries a specific exit code with an already-printed message.
type exitError struct {
	code int
	msg  string
}

func (e exitError) Error() string { return e.msg }

func exitCode(err error) int {
	var ue usageError
	if errors.As(err, &ue) {
		return 2
	}
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 1
}

const usage = `haveyoursay: phone-line and SMS feedback for co-production.

Usage:
  haveyoursay dev                    run everything on this machine, no set-up needed
  haveyoursay serve                  run the server (settings from the environment)
  haveyoursay migrate                bring the database up to date
  haveyoursay survey lint FILE...    check survey files, with easy-read advice
  haveyoursay survey import FILE...  load survey files into the database
  haveyoursay survey list            list the surveys in the database
  haveyoursay send --survey ID --to FILE.csv
                                     invite a list of numbers by text
  haveyoursay sim sms|call --survey ID
                                     talk to a running server from this terminal
  haveyoursay user add --email E --role admin|staff|reviewer|viewer|safeguarding [--name N]
                                     let someone sign in to the staff dashboard
  haveyoursay user list|disable|password
                                     list, switch off, or set a password for dashboard users
  haveyoursay export --survey ID --format csv|json|floip [--since DATE] [--until DATE] [--out PATH]
                                     write a survey's answers for spreadsheets or other systems
  haveyoursay token add|list|revoke  API tokens for other systems (add --name N --role viewer|staff)
  haveyoursay bench                  load-test a running server with simulated members
  haveyoursay audio add|list|remove|session --survey ID
                                     recorded prompts in members' own voices
  haveyoursay themes import|lint|list FILE
                                     the charity's themes, in its own words
  haveyoursay keys rotate            move stored numbers to a new HYS_SECRET_KEY
  haveyoursay forget --number N      erase everything about a number (the member asked)
  haveyoursay retention list|set|run how long each survey keeps answers and recordings

Run 'haveyoursay help COMMAND' (or 'haveyoursay COMMAND --help') to see what a
command does and its flags. With 'make run' running in this folder, the
commands use its database and server with no settings (see .hys/dev.env).
The README lists every setting.
`

// ownSettings are the commands that read the environment alone: never
// the settings of a running dev (see devSettings).
var ownSettings = map[string]bool{"serve": true, "dev": true, "migrate": true}

var commandHelp = map[string]string{
	"serve": `Usage: haveyoursay serve

Runs the server for Twilio's webhooks. Every setting comes from the
environment: DATABASE_URL, REDIS_URL, TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN,
PUBLIC_URL and HYS_SECRET_KEY are needed; the README lists the others.
Run 'haveyoursay migrate' first after an upgrade.
`,
	"dev": `Usage: haveyoursay dev

Runs everything on this machine with no set-up: a private PostgreSQL (data in
.hys/pgdata, or DATABASE_URL), a private Redis that keeps conversations across
a restart (data in .hys/redis, or REDIS_URL), the demo surveys, the staff
dashboard at http://localhost:8080/ (it prints a demo admin's sign-in) and a
pretend phone at http://localhost:8080/try. An empty database gets about 300
demo conversations (HYS_DEMO_CONVERSATIONS=0 for none). Nothing reaches a
real phone. While it runs, .hys/dev.env holds its settings, so the other
commands (survey, send, user, sim ...) work with no environment. LISTEN_ADDR
changes the port; HYS_DATA_DIR the folder. Ctrl-C stops it all.
`,
	"migrate": `Usage: haveyoursay migrate

Brings the database named by DATABASE_URL up to date. It is safe to run again.
`,
}

// run is the whole program: main only supplies the real environment.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageError{}
	}
	if !ownSettings[args[0]] {
		// The other commands find a running `make run` by themselves.
		getenv = devSettings(getenv)
	}
	switch args[0] {
	case "serve", "dev", "migrate":
		// These take no arguments: settings come from the environment.
		if len(args) > 1 {
			if isHelp(args[1]) {
				fmt.Fprint(stdout, commandHelp[args[0]])
				return nil
			}
			fmt.Fprint(stderr, commandHelp[args[0]])
			return usageError{fmt.Sprintf("haveyoursay %s takes no arguments (it was given %q): its settings come from the environment.", args[0], args[1])}
		}
		switch args[0] {
		case "serve":
			return cmdServe(ctx, getenv, stdout, stderr)
		case "dev":
			return cmdDev(ctx, getenv, stdout, stderr)
		}
		return cmdMigrate(ctx, getenv, stdout, stderr)
	case "survey":
		return cmdSurvey(ctx, args[1:], getenv, stdout, stderr)
	case "send":
		return cmdSend(ctx, args[1:], getenv, stdin, stdout, stderr)
	case "sim":
		return cmdSim(ctx, args[1:], getenv, stdin, stdout, stderr)
	case "user":
		return cmdUser(ctx, args[1:], getenv, stdin, stdout, stderr)
	case "export":
		return cmdExport(ctx, args[1:], getenv, stdin, stdout, stderr)
	case "token":
		return cmdToken(ctx, args[1:], getenv, stdin, stdout, stderr)
	case "bench":
		return cmdBench(ctx, args[1:], getenv, stdin, stdout, stderr)
	case "keys":
		return cmdKeys(ctx, args[1:], getenv, stdin, stdout, stderr)
	case "forget":
		return cmdForget(ctx, args[1:], getenv, stdin, stdout, stderr)
	case "retention":
		return cmdRetention(ctx, args[1:], getenv, stdin, stdout, stderr)
	case "audio":
		return cmdAudio(ctx, args[1:], getenv, stdin, stdout, stderr)
	case "themes":
		return cmdThemes(ctx, args[1:], getenv, stdin, stdout, stderr)
	case "help", "-h", "-help", "--help":
		// "help CMD [SUB]" is "CMD [SUB] --help" (an unknown CMD gets a suggestion).
		if len(args) > 1 && !isHelp(args[1]) {
			return run(ctx, append(slices.Clone(args[1:]), "--help"), getenv, stdin, stdout, stderr)
		}
		fmt.Fprint(stdout, usage)
		return nil
	default:
		return noSuchCommand("haveyoursay", args[0], commandNames())
	}
}
