package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/haveyoursay/haveyoursay/store"
)

const tokenUsage = `Usage:
  haveyoursay token add --name N --role viewer|staff
  haveyoursay token list
  haveyoursay token revoke --name N

A token lets another system read the API at /api/v1/ (send it as
"Authorization: Bearer TOKEN"). 'add' prints the token once: only a hash of
it is kept, so copy it then. A viewer token lists surveys and their Flow
Results descriptors; a staff token also reads conversations and answers.
'revoke' stops a token working at once. Needs DATABASE_URL.
`

// cmdToken manages the API's bearer tokens.
func cmdToken(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, tokenUsage)
		return usageError{}
	}
	if isHelp(args[0]) {
		fmt.Fprint(stdout, tokenUsage)
		return nil
	}
	fs := flag.NewFlagSet("token "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, tokenUsage); fs.PrintDefaults() }
	var name, role *string
	switch args[0] {
	case "add":
		name = fs.String("name", "", "what the token is for, e.g. case-system")
		role = fs.String("role", "", "viewer (surveys only) or staff (conversations and answers too)")
	case "revoke":
		name = fs.String("name", "", "the name (or number) of the token to stop")
	case "list":
	default:
		fmt.Fprint(stderr, tokenUsage)
		return usageError{fmt.Sprintf("haveyoursay token: there is no command %q.", args[0])}
	}
	if len(args) > 1 && isHelp(args[1]) {
		fs.SetOutput(stdout)
		fmt.Fprint(stdout, tokenUsage)
		fs.PrintDefaults()
		return nil
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageError{}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("haveyoursay token %s: unexpected %q. Give settings as --name N.", args[0], fs.Arg(0))}
	}
	if name != nil && strings.TrimSpace(*name) == "" {
		return usageError{fmt.Sprintf("haveyoursay token %s: say which token with --name.", args[0])}
	}
	if role != nil {
		*role = strings.ToLower(strings.TrimSpace(*role))
		if *role != "viewer" && *role != "staff" {
			return usageError{"haveyoursay token add: say what it may read with --role viewer or --role staff."}
		}
	}
	db, err := openDB(ctx, getenv)
	if err != nil {
		return err
	}
	defer db.Close()
	switch args[0] {
	case "add":
		t, secret, err := db.AddAPIToken(ctx, *name, *role)
		if err != nil {
			return err
		}
		if err := db.Audit(ctx, "cli", "token-added", fmt.Sprintf("token:%d", t.ID), map[string]any{"name": t.Name, "role": t.Role}); err != nil {
			fmt.Fprintf(stderr, "warning: the audit log could not be written: %v\n", err)
		}
		fmt.Fprintln(stdout, secret)
		fmt.Fprintf(stderr, "Token %q (%s) made. Copy it now: it is not shown again.\n", t.Name, t.Role)
		return nil
	case "revoke":
		t, err := db.RevokeAPIToken(ctx, *name)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("There is no token in use called %q. 'haveyoursay token list' shows them.", strings.TrimSpace(*name))
		}
		if err != nil {
			return err
		}
		if err := db.Audit(ctx, "cli", "token-revoked", fmt.Sprintf("token:%d", t.ID), map[string]any{"name": t.Name}); err != nil {
			fmt.Fprintf(stderr, "warning: the audit log could not be written: %v\n", err)
		}
		fmt.Fprintf(stdout, "Token %q no longer works.\n", t.Name)
		return nil
	}
	tokens, err := db.APITokens(ctx)
	if err != nil {
		return err
	}
	if len(tokens) == 0 {
		fmt.Fprintln(stdout, "There are no API tokens yet. Make one with: haveyoursay token add --name N --role viewer|staff")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NUMBER\tNAME\tROLE\tMADE\tLAST USED\tSTATE")
	for _, t := range tokens {
		used, state := "never", "in use"
		if t.LastUsed != nil {
			used = t.LastUsed.Local().Format("2006-01-02 15:04")
		}
		if t.RevokedAt != nil {
			state = "revoked " + t.RevokedAt.Local().Format("2006-01-02 15:04")
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Role, t.CreatedAt.Local().Format("2006-01-02 15:04"), used, state)
	}
	return tw.Flush()
}
