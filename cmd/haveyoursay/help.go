package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
)

// How every command explains itself: `X --help`, `X -h`, `X help` and
// `haveyoursay help X` print X's help on standard output and exit 0; a
// wrong flag exits 2 with one sentence. A command with flags uses
// parseFlags; one with subcommands answers isHelp(args[0]) itself.

// isHelp reports whether an argument asks for help.
func isHelp(arg string) bool {
	switch arg {
	case "help", "-h", "-help", "--help":
		return true
	}
	return false
}

// parseFlags parses args with fs. When they ask for help it prints usage
// and then fs's flags, each once with its default, to stdout and returns
// true. A wrong flag is a usageError naming the flag and how to see the
// right ones. Use it as
//
//	if help, err := parseFlags(fs, args, usage, stdout); help || err != nil {
//		return err
//	}
func parseFlags(fs *flag.FlagSet, args []string, usage string, stdout io.Writer) (bool, error) {
	if len(args) > 0 && args[0] == "help" {
		printHelp(stdout, fs, usage)
		return true, nil
	}
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		printHelp(stdout, fs, usage)
		return true, nil
	}
	if err != nil {
		return false, usageError{fmt.Sprintf("haveyoursay %s: %s. See 'haveyoursay %s --help'.", fs.Name(), flagMistake(err), fs.Name())}
	}
	return false, nil
}

// printHelp writes usage, then "Flags:" and the flags when fs has any.
func printHelp(w io.Writer, fs *flag.FlagSet, usage string) {
	fmt.Fprint(w, usage)
	any := false
	fs.VisitAll(func(*flag.Flag) { any = true })
	if !any {
		return
	}
	if !strings.HasSuffix(usage, "\n\n") {
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, "Flags:")
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

var (
	unknownFlag = regexp.MustCompile(`^flag provided but not defined: (-+\S+)$`)
	needsValue  = regexp.MustCompile(`^flag needs an argument: (-+\S+)$`)
	badValue    = regexp.MustCompile(`^invalid (?:boolean )?value "(.*)" for flag (-+\S+): .*$`)
)

// flagMistake says what the flag package's error means, in plain words.
func flagMistake(err error) string {
	msg := err.Error()
	if m := unknownFlag.FindStringSubmatch(msg); m != nil {
		return "there is no flag " + m[1]
	}
	if m := needsValue.FindStringSubmatch(msg); m != nil {
		return m[1] + " needs a value after it"
	}
	if m := badValue.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("%q is not a value %s takes", m[1], m[2])
	}
	return msg
}

// commandLine matches a command's line in usage: "  haveyoursay NAME ...".
var commandLine = regexp.MustCompile(`(?m)^  haveyoursay ([a-z][a-z-]*)`)

// commandNames lists the commands named in the usage text, so a command
// added with one usage line is known to `help` and to suggestions.
func commandNames() []string {
	var names []string
	for _, m := range commandLine.FindAllStringSubmatch(usage, -1) {
		if !slices.Contains(names, m[1]) {
			names = append(names, m[1])
		}
	}
	return names
}

// noSuchCommand is the answer to a command (or subcommand) that does not
// exist: it names the nearest known one when one is close.
func noSuchCommand(prefix, got string, known []string) error {
	msg := fmt.Sprintf("%s: there is no command %q.", prefix, got)
	if near := nearest(got, known); near != "" {
		msg += fmt.Sprintf(" Did you mean %q?", near)
	}
	return usageError{msg + fmt.Sprintf(" Run '%s help' to see them all.", prefix)}
}

// nearest returns the known word closest to got by edit distance, when it
// is close enough to be a likely typo (or got starts it), else "".
func nearest(got string, known []string) string {
	got = strings.ToLower(got)
	best, bestDist := "", 0
	for _, k := range known {
		d := editDistance(got, k)
		if len(got) >= 2 && strings.HasPrefix(k, got) {
			d = min(d, 1)
		}
		if best == "" || d < bestDist {
			best, bestDist = k, d
		}
	}
	if best == "" || bestDist > max(1, min(3, len(best)/2)) {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, counting a
// swap of two neighbouring letters as one edit.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range rb {
		d[0][j+1] = j + 1
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
