package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/haveyoursay/haveyoursay/phonesim"
)

const benchUsage = `Usage:
  haveyoursay bench [flags]

Runs many pretend members at once against a server on this machine: each
texts or phones the survey and answers every question, again and again.
Prints requests a second, latency per webhook (50th, 95th, 99th
percentile), errors and the server's memory. With no flags it loads the
server of 'make run' (or the one at LISTEN_ADDR).
`

// cmdBench runs the load test (phonesim.Load) and prints its report.
func cmdBench(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var p phoneFlags
	p.register(fs, getenv)
	members := fs.Int("members", 10, "how many members talk at once")
	duration := fs.Duration("duration", 30*time.Second, "how long to start new conversations (0: no limit; set --conversations)")
	conversations := fs.Int("conversations", 0, "stop after this many conversations (0: no limit; set --duration)")
	smsShare := fs.Float64("sms", 0.5, "the share of conversations by text, from 0 (all calls) to 1 (all texts)")
	seed := fs.Uint64("seed", 0, "makes the members' choices repeatable (0: random)")
	asJSON := fs.Bool("json", false, "print the report as JSON, for machines")
	if help, err := parseFlags(fs, args, benchUsage, stdout); help || err != nil {
		return err
	}
	p.settle(getenv)
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("haveyoursay bench: unexpected %q.", fs.Arg(0))}
	}
	s, err := p.findSurvey(ctx, getenv)
	if err != nil {
		return err
	}
	if s != nil {
		if p.keyword == "" && len(s.Keywords) > 0 {
			p.keyword = s.Keywords[0]
		}
		explicitTo := false
		fs.Visit(func(f *flag.Flag) { explicitTo = explicitTo || f.Name == "to" })
		if !explicitTo && len(s.Numbers) > 0 {
			p.to = s.Numbers[0]
		}
	}
	if !*asJSON {
		fmt.Fprintf(stderr, "Running %d members against %s ...\n", *members, p.url)
	}
	rep, err := phonesim.Load(ctx, phonesim.LoadConfig{
		URL: p.url, PublicURL: p.publicURL, AccountSID: p.account, AuthToken: p.token,
		Members: *members, Duration: *duration, Conversations: *conversations, SMSShare: *smsShare,
		Keyword: p.keyword, To: p.to, Seed: *seed,
	})
	if notRunning(err) {
		return noServer(p.url)
	}
	if err != nil {
		return fmt.Errorf("haveyoursay bench: %w", err)
	}
	if *asJSON {
		err = rep.WriteJSON(stdout)
	} else {
		err = rep.Print(stdout)
	}
	if err != nil {
		return err
	}
	if rep.Finished == 0 {
		return exitError{code: 1, msg: fmt.Sprintf("No conversation reached the end of the survey. Is the server running at %s, with the same --token and --public-url?", p.url)}
	}
	return nil
}
