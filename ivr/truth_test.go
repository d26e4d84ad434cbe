package ivr_test

import (
	"encoding/json"
	"encoding/xml"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/haveyoursay/haveyoursay/ivr"
	"github.com/haveyoursay/haveyoursay/phonesim"
)

var update = flag.Bool("update", false, "rewrite the truth files in testdata/ with what the code does now")

// A truth file is a call told step by step: the webhook Twilio sends and
// its form, the TwiML we answer (attributes sorted, URLs shown as the
// state they carry) and the rows in Postgres afterwards. Run
// `go test ./ivr -run TestTruthFiles -update` to rewrite them, and read the
// diff.
type truthFile struct {
	Comment string      `json:"comment"`
	Surveys []string    `json:"surveys,omitempty"` // YAML files in testdata; default the demo survey
	Steps   []truthStep `json:"steps"`
}

type truthStep struct {
	// Webhook is "incoming", "gather" (the last <Gather>'s action),
	// "redirect" (the last <Redirect>, no input), "record" (the last
	// <Record>'s action) or "status" (the call ended).
	Webhook string            `json:"webhook"`
	Form    map[string]string `json:"form,omitempty"`
	TwiML   []string          `json:"twiml"`
	Rows    []string          `json:"rows"`
}

const truthCallSid = "CA00000000000000000000000000000042"

func TestTruthFiles(t *testing.T) {
	files, err := filepath.Glob("testdata/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no truth files: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".json"), func(t *testing.T) {
			t.Parallel()
			runTruthFile(t, file)
		})
	}
}

func runTruthFile(t *testing.T, file string) {
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var tf truthFile
	if err := json.Unmarshal(b, &tf); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	var surveys []string
	for _, s := range tf.Surveys {
		y, err := os.ReadFile(filepath.Join("testdata", s))
		if err != nil {
			t.Fatal(err)
		}
		surveys = append(surveys, string(y))
	}
	e := newEnv(t, options{surveys: surveys})
	var last *tnode
	for i := range tf.Steps {
		st := &tf.Steps[i]
		form := url.Values{"CallSid": {truthCallSid}, "AccountSid": {accountSID}, "From": {member}, "To": {ourNumber}}
		for k, v := range st.Form {
			form.Set(k, v)
		}
		target := ""
		switch st.Webhook {
		case "incoming":
			target = ivr.PathIncoming
		case "status":
			target = ivr.PathStatus
		case "gather", "redirect", "record":
			name := map[string]string{"gather": "Gather", "redirect": "Redirect", "record": "Record"}[st.Webhook]
			n := last.find(name)
			if n == nil {
				t.Fatalf("step %d: the last TwiML has no <%s>", i+1, name)
			}
			target = n.attrs["action"]
			if name == "Redirect" {
				target = strings.TrimSpace(n.text)
			}
		default:
			t.Fatalf("step %d: unknown webhook %q", i+1, st.Webhook)
		}
		r, err := e.sim.PostForm(e.ctx, target, form)
		if err != nil || r.StatusCode != 200 {
			t.Fatalf("step %d: %v %+v", i+1, err, r)
		}
		if err := phonesim.CheckVoiceTwiML(r.Body); err != nil {
			t.Fatalf("step %d: invalid TwiML: %v\n%s", i+1, err, r.Body)
		}
		last = parseTwiML(t, r.Body)
		got := append([]string{}, last.lines(e, 0)...)
		e.flush()
		rows := append([]string{}, truthRows(e)...)
		if *update {
			st.TwiML, st.Rows = got, rows
			continue
		}
		if strings.Join(got, "\n") != strings.Join(st.TwiML, "\n") {
			t.Errorf("step %d (%s %v): TwiML differs\n got: %s\nwant: %s", i+1, st.Webhook, st.Form,
				strings.Join(got, "\n      "), strings.Join(st.TwiML, "\n      "))
		}
		if strings.Join(rows, "\n") != strings.Join(st.Rows, "\n") {
			t.Errorf("step %d (%s %v): rows differ\n got: %s\nwant: %s", i+1, st.Webhook, st.Form,
				strings.Join(rows, "\n      "), strings.Join(st.Rows, "\n      "))
		}
	}
	if *update {
		out, _ := json.MarshalIndent(tf, "", "  ")
		if err := os.WriteFile(file, append(out, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func truthRows(e *env) []string {
	var rows []string
	q, err := e.db.Pool.Query(e.ctx, `SELECT id, status, coalesce(consent, ''), language FROM conversations ORDER BY started_at`)
	if err != nil {
		e.t.Fatal(err)
	}
	for q.Next() {
		var id, status, consent, lang string
		q.Scan(&id, &status, &consent, &lang)
		rows = append(rows, fmt.Sprintf("conversation %s: %s, consent %q, language %s", id, status, consent, lang))
	}
	q.Close()
	q, err = e.db.Pool.Query(e.ctx, `SELECT question_id, value, raw, via, no_answer, skipped, dedupe_key FROM answers ORDER BY dedupe_key`)
	if err != nil {
		e.t.Fatal(err)
	}
	for q.Next() {
		var a answerRow
		q.Scan(&a.Question, &a.Value, &a.Raw, &a.Via, &a.NoAnswer, &a.Skipped, &a.Key)
		line := fmt.Sprintf("answer %s: %q via %s (raw %q, key %s)", a.Question, a.Value, a.Via, a.Raw, a.Key)
		if a.NoAnswer {
			line += " no answer"
		}
		if a.Skipped {
			line += " skipped"
		}
		rows = append(rows, line)
	}
	q.Close()
	q, err = e.db.Pool.Query(e.ctx, `SELECT coalesce(conversation_id, ''), channel, reason FROM callbacks ORDER BY id`)
	if err != nil {
		e.t.Fatal(err)
	}
	for q.Next() {
		var conv, ch, reason string
		q.Scan(&conv, &ch, &reason)
		rows = append(rows, fmt.Sprintf("call back (%s) for %s: %s", ch, conv, reason))
	}
	q.Close()
	return rows
}

// tnode is a parsed TwiML element.
type tnode struct {
	name     string
	attrs    map[string]string
	text     string
	children []*tnode
}

func parseTwiML(t *testing.T, doc []byte) *tnode {
	d := xml.NewDecoder(strings.NewReader(string(doc)))
	var stack []*tnode
	root := &tnode{}
	stack = append(stack, root)
	for {
		tok, err := d.Token()
		if err != nil {
			break
		}
		switch x := tok.(type) {
		case xml.StartElement:
			n := &tnode{name: x.Name.Local, attrs: map[string]string{}}
			for _, a := range x.Attr {
				n.attrs[a.Name.Local] = a.Value
			}
			p := stack[len(stack)-1]
			p.children = append(p.children, n)
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			stack[len(stack)-1].text += string(x)
		}
	}
	if len(root.children) != 1 {
		t.Fatalf("no single root element in %s", doc)
	}
	return root.children[0]
}

func (n *tnode) find(name string) *tnode {
	var found *tnode
	for _, c := range n.children {
		if c.name == name {
			found = c // the last one
		}
		if f := c.find(name); f != nil && name != "Redirect" {
			found = f
		}
	}
	return found
}

// lines shows the document one element a line, children indented.
func (n *tnode) lines(e *env, depth int) []string {
	base := e.srv.URL
	var out []string
	if n.name != "Response" {
		keys := make([]string, 0, len(n.attrs))
		for k := range n.attrs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		b.WriteString(strings.Repeat("  ", depth-1) + n.name)
		for _, k := range keys {
			v := n.attrs[k]
			if strings.HasPrefix(v, base) {
				v = showURL(e, v)
			}
			fmt.Fprintf(&b, " %s=%q", k, v)
		}
		if t := strings.TrimSpace(n.text); t != "" {
			if strings.HasPrefix(t, base) {
				t = showURL(e, t)
			}
			b.WriteString(": " + t)
		}
		out = append(out, b.String())
	}
	for _, c := range n.children {
		out = append(out, c.lines(e, depth+1)...)
	}
	return out
}

// showURL shows one of our URLs with the state it carries opened.
func showURL(e *env, raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	q := u.Query()
	s := strings.TrimPrefix(u.Path, "/twilio/voice")
	if st := q.Get("st"); st != "" {
		var v struct {
			N     int    `json:"n"`
			Mode  string `json:"m"`
			Tries int    `json:"t"`
			S     struct {
				Stage    string `json:"stage"`
				Question string `json:"question"`
				Tries    int    `json:"tries"`
				Lang     string `json:"lang"`
			} `json:"s"`
		}
		b, err := ivr.OpenState(e.h, st)
		if err != nil {
			e.t.Errorf("%s carries a state we cannot open: %v", raw, err)
		}
		json.Unmarshal(b, &v)
		s += fmt.Sprintf("[step %d %s%s", v.N, v.Mode, v.S.Stage)
		if v.S.Question != "" {
			s += " " + v.S.Question
		}
		if v.S.Tries+v.Tries > 0 {
			s += fmt.Sprintf(" tries %d", v.S.Tries+v.Tries)
		}
		s += " " + v.S.Lang + "]"
		q.Del("st")
	}
	if len(q) > 0 {
		s += "?" + strings.ReplaceAll(q.Encode(), truthCallSid, "{CallSid}")
	}
	return s
}
