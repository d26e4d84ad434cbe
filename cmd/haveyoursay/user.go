package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"golang.org/x/term"

	"github.com/haveyoursay/haveyoursay/config"
	"github.com/haveyoursay/haveyoursay/dashboard"
	"github.com/haveyoursay/haveyoursay/store"
)

const userUsage = `Usage:
  haveyoursay user add --email E --role admin|staff|safeguarding|reviewer|viewer [--name N]
  haveyoursay user list
  haveyoursay user disable --email E
  haveyoursay user password --email E

The password is read from standard input when it is not a terminal (one
line), else asked for twice without showing it. Passwords have at least 12
characters. Needs DATABASE_URL; with REDIS_URL, 'disable' and 'password'
also sign the person out everywhere at once.
`

var userCommands = []string{"add", "list", "disable", "password"}

var userHelp = map[string]string{
	"add": `Usage: haveyoursay user add --email E --role admin|staff|safeguarding|reviewer|viewer [--name N]

Adds someone who signs in to the staff dashboard. The password is read from
standard input when it is piped (one line), else asked for twice without
showing it; at least 12 characters.
`,
	"list": `Usage: haveyoursay user list

Lists the people who sign in to the dashboard, their roles, and when each
was last seen.
`,
	"disable": `Usage: haveyoursay user disable --email E

Stops someone signing in, and signs them out everywhere (at once when
REDIS_URL is set, else at their next click).
`,
	"password": `Usage: haveyoursay user password --email E

Sets a new password (read as for 'user add'), signs the person out
everywhere and lifts a lock-out.
`,
}

// cmdUser manages the people who sign in to the dashboard.
func cmdUser(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, userUsage)
		return usageError{}
	}
	if isHelp(args[0]) {
		// "user help add" is "user add --help".
		if len(args) > 1 && slices.Contains(userCommands, args[1]) {
			return cmdUser(ctx, []string{args[1], "--help"}, getenv, stdin, stdout, stderr)
		}
		fmt.Fprint(stdout, userUsage)
		return nil
	}
	fs := flag.NewFlagSet("user "+args[0], flag.ContinueOnError)
	email := new(string)
	if args[0] != "list" {
		fs.StringVar(email, "email", "", "their e-mail address, which they sign in with")
	}
	var role, name *string
	switch args[0] {
	case "add":
		role = fs.String("role", "", "admin, staff, safeguarding, reviewer or viewer")
		name = fs.String("name", "", "their name, as the dashboard shows it (optional)")
	case "list", "disable", "password":
	default:
		return noSuchCommand("haveyoursay user", args[0], userCommands)
	}
	if help, err := parseFlags(fs, args[1:], userHelp[args[0]], stdout); help || err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("haveyoursay user %s: unexpected %q. Give settings as --email E.", args[0], fs.Arg(0))}
	}
	if args[0] != "list" && strings.TrimSpace(*email) == "" {
		return usageError{fmt.Sprintf("haveyoursay user %s: say whose account with --email.", args[0])}
	}
	var r dashboard.Role
	if role != nil {
		if *role == "" {
			return usageError{"haveyoursay user add: say what they may do with --role admin, staff, safeguarding, reviewer or viewer."}
		}
		var err error
		if r, err = dashboard.ParseRole(*role); err != nil {
			return usageError{err.Error()}
		}
	}

	db, err := openDB(ctx, getenv)
	if err != nil {
		return err
	}
	defer db.Close()
	switch args[0] {
	case "list":
		return listUsers(ctx, db, stdout)
	case "add":
		password, err := readPassword(stdin, stderr, "Password for "+*email)
		if err != nil {
			return err
		}
		u, err := dashboard.AddUser(ctx, db, dashboard.NewUser{Email: *email, Name: *name, Role: r, Password: password})
		if err != nil {
			return err
		}
		audit(ctx, db, stderr, "user-added", u.ID, map[string]any{"role": u.Role})
		fmt.Fprintf(stdout, "Added %s as %s. They can sign in now.\n", u.Email, u.Role)
		return nil
	}

	// disable and password sign the person out: through Redis when we can
	// reach it (a disabled account is refused at its next click anyway).
	rdb, closeRedis, err := optionalRedis(ctx, getenv)
	if err != nil {
		return err
	}
	defer closeRedis()
	switch args[0] {
	case "disable":
		u, err := db.StaffUserByEmail(ctx, *email)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("There is no account for %s.", strings.TrimSpace(*email))
		}
		if err != nil {
			return err
		}
		if err := db.DisableStaffUser(ctx, u.ID); err != nil {
			return err
		}
		if rdb != nil {
			if err := rdb.EndStaffSessions(ctx, u.ID); err != nil {
				return fmt.Errorf("The account is disabled, but its sessions could not be ended now (they end at its next click): %w", err)
			}
		}
		audit(ctx, db, stderr, "user-disabled", u.ID, nil)
		fmt.Fprintf(stdout, "%s can no longer sign in, and is signed out everywhere.\n", u.Email)
		return nil
	default: // password
		u, err := db.StaffUserByEmail(ctx, *email)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("There is no account for %s.", strings.TrimSpace(*email))
		}
		if err != nil {
			return err
		}
		password, err := readPassword(stdin, stderr, "New password for "+u.Email)
		if err != nil {
			return err
		}
		if err := dashboard.CheckNewPassword(password); err != nil {
			return err
		}
		if err := db.SetStaffPassword(ctx, u.ID, dashboard.HashPassword(password)); err != nil {
			return err
		}
		note := ""
		if rdb != nil {
			if err := rdb.EndStaffSessions(ctx, u.ID); err != nil {
				return err
			}
			if err := rdb.ClearFailedSignIns(ctx, u.Email); err != nil {
				return err
			}
		} else {
			note = " (REDIS_URL is not set, so browsers already signed in stay signed in until they are idle)"
		}
		audit(ctx, db, stderr, "user-password-set", u.ID, nil)
		fmt.Fprintf(stdout, "%s has a new password%s.\n", u.Email, note)
		return nil
	}
}

func listUsers(ctx context.Context, db *store.DB, stdout io.Writer) error {
	users, err := db.StaffUsers(ctx)
	if err != nil {
		return err
	}
	if len(users) == 0 {
		fmt.Fprintln(stdout, "There are no accounts yet. Add one with: haveyoursay user add --email E --role admin")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "EMAIL\tNAME\tROLE\tSTATUS\tLAST SEEN")
	for _, u := range users {
		status, seen := "can sign in", "never"
		if u.Disabled() {
			status = "disabled " + u.DisabledAt.Local().Format("2006-01-02")
		}
		if u.LastSeenAt != nil {
			seen = u.LastSeenAt.Local().Format("2006-01-02 15:04")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Email, u.Name, u.Role, status, seen)
	}
	return tw.Flush()
}

// readPassword reads one line from stdin when it is piped, or asks twice
// without echo at a terminal.
func readPassword(stdin io.Reader, stderr io.Writer, prompt string) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprintf(stderr, "%s (at least %d characters): ", prompt, dashboard.MinPasswordLength)
		first, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", fmt.Errorf("reading the password: %w", err)
		}
		fmt.Fprint(stderr, "The same again, to be sure: ")
		second, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", fmt.Errorf("reading the password: %w", err)
		}
		if string(first) != string(second) {
			return "", errors.New("The two passwords were not the same, so nothing was changed. Please try again.")
		}
		return string(first), nil
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading the password from standard input: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("No password was given on standard input. Pipe one in (echo 'a long password' | haveyoursay user ...) or run this at a terminal to be asked.")
	}
	return line, nil
}

// optionalRedis connects to REDIS_URL when it is set.
func optionalRedis(ctx context.Context, getenv func(string) string) (*store.Redis, func(), error) {
	url := getenv("REDIS_URL")
	if url == "" {
		return nil, func() {}, nil
	}
	if msg := config.CheckRedisURL(url); msg != "" {
		return nil, nil, errors.New(msg)
	}
	rdb, err := store.OpenRedis(ctx, url, getenv("REDIS_PREFIX"))
	if err != nil {
		return nil, nil, err
	}
	return rdb, func() { rdb.Close() }, nil
}

// audit notes a change made from the command line.
func audit(ctx context.Context, db *store.DB, stderr io.Writer, action string, id int64, detail map[string]any) {
	if err := db.Audit(ctx, "cli", action, fmt.Sprintf("staff:%d", id), detail); err != nil {
		fmt.Fprintf(stderr, "warning: the audit log could not be written: %v\n", err)
	}
}
