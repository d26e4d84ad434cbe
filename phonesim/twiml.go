package phonesim

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// TwiMLError describes what is wrong with a TwiML document.
type TwiMLError struct {
	Element string // element name, e.g. "Gather"; "" for document-level errors
	Line    int    // line of the element in the document, when known
	Problem string
}

func (e *TwiMLError) Error() string {
	if e.Element == "" {
		return "twiml: " + e.Problem
	}
	if e.Line > 0 {
		return fmt.Sprintf("twiml: <%s> (line %d): %s", e.Element, e.Line, e.Problem)
	}
	return fmt.Sprintf("twiml: <%s>: %s", e.Element, e.Problem)
}

// node is a parsed XML element.
type node struct {
	Name     string
	Attrs    map[string]string
	Order    []string // attribute names in document order
	Children []*node
	Text     string // character data directly inside the element
	Line     int
	items    []any // children and text in order (string | *node)
}

func (n *node) attr(name string) (string, bool) {
	v, ok := n.Attrs[name]
	return v, ok
}

// allText returns all character data in n and its descendants, with
// whitespace collapsed.
func (n *node) allText() string {
	var b strings.Builder
	var walk func(*node)
	walk = func(n *node) {
		for _, it := range n.items {
			switch it := it.(type) {
			case string:
				b.WriteString(it)
			case *node:
				b.WriteByte(' ')
				walk(it)
				b.WriteByte(' ')
			}
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

const xmlNamespace = "http://www.w3.org/XML/1998/namespace"

// parseXML parses a whole document into a tree, strictly.
func parseXML(doc []byte) (*node, error) {
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = true
	var root *node
	var stack []*node
	for {
		line, _ := d.InputPos()
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, &TwiMLError{Problem: "not well-formed XML: " + err.Error()}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n := &node{Name: qname(t.Name), Attrs: map[string]string{}, Line: line}
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
					continue
				}
				k := qname(a.Name)
				if a.Name.Space == xmlNamespace {
					k = "xml:" + a.Name.Local
				}
				if _, dup := n.Attrs[k]; !dup {
					n.Order = append(n.Order, k)
				}
				n.Attrs[k] = a.Value
			}
			if len(stack) == 0 {
				if root != nil {
					return nil, &TwiMLError{Problem: "more than one root element"}
				}
				root = n
			} else {
				p := stack[len(stack)-1]
				p.Children = append(p.Children, n)
				p.items = append(p.items, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) == 0 {
				if strings.TrimSpace(string(t)) != "" {
					return nil, &TwiMLError{Problem: "text outside the root element"}
				}
				continue
			}
			p := stack[len(stack)-1]
			p.Text += string(t)
			p.items = append(p.items, string(t))
		case xml.Directive:
			return nil, &TwiMLError{Problem: "DTD/directives are not allowed in TwiML"}
		}
	}
	if root == nil {
		return nil, &TwiMLError{Problem: "empty document"}
	}
	return root, nil
}

func qname(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	if n.Space == xmlNamespace {
		return "xml:" + n.Local
	}
	return n.Space + ":" + n.Local
}

// ---- attribute value checkers ----

type attrCheck func(v string) string // returns the problem, "" if fine

var (
	anyValue attrCheck = func(string) string { return "" }
	nonEmpty attrCheck = func(v string) string {
		if strings.TrimSpace(v) == "" {
			return "must not be empty"
		}
		return ""
	}
	wholeNumber = func(min int) attrCheck {
		return func(v string) string {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return "is not a whole number"
			}
			if n < min {
				return fmt.Sprintf("must be at least %d", min)
			}
			return ""
		}
	}
	oneOf = func(opts ...string) attrCheck {
		return func(v string) string {
			for _, o := range opts {
				if v == o {
					return ""
				}
			}
			return "must be one of " + strings.Join(opts, ", ")
		}
	}
	boolean            = oneOf("true", "false")
	method             = oneOf("GET", "POST")
	urlValue attrCheck = func(v string) string {
		if strings.TrimSpace(v) == "" {
			return "must not be empty"
		}
		if _, err := url.Parse(strings.TrimSpace(v)); err != nil {
			return "is not a valid URL"
		}
		return ""
	}
	languageTag           = regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$`)
	language    attrCheck = func(v string) string {
		if !languageTag.MatchString(v) {
			return "is not a language tag like en-GB"
		}
		return ""
	}
	gatherFinishOnKey attrCheck = func(v string) string {
		if v == "" || (len(v) == 1 && strings.Contains("0123456789*#", v)) {
			return ""
		}
		return "must be one of 0-9, *, # or empty"
	}
	recordFinishOnKey attrCheck = func(v string) string {
		for _, r := range v {
			if !strings.ContainsRune("0123456789*#", r) {
				return "may only contain 0-9, * and #"
			}
		}
		return ""
	}
	gatherInput attrCheck = func(v string) string {
		f := strings.Fields(v)
		ok := len(f) >= 1 && len(f) <= 2
		seen := map[string]bool{}
		for _, x := range f {
			if (x != "dtmf" && x != "speech") || seen[x] {
				ok = false
			}
			seen[x] = true
		}
		if !ok {
			return `must be "dtmf", "speech" or "dtmf speech"`
		}
		return ""
	}
	speechTimeout attrCheck = func(v string) string {
		if v == "auto" {
			return ""
		}
		if wholeNumber(0)(v) != "" {
			return `must be a whole number of seconds or "auto"`
		}
		return ""
	}
	playDigits           = regexp.MustCompile(`^[0-9*#wW]+$`)
	digits     attrCheck = func(v string) string {
		if !playDigits.MatchString(v) {
			return "may only contain 0-9, *, #, w and W"
		}
		return ""
	}
	recordingEvents attrCheck = func(v string) string {
		f := strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == ',' })
		if len(f) == 0 {
			return "must not be empty"
		}
		for _, x := range f {
			if x != "in-progress" && x != "completed" && x != "absent" {
				return "may only list in-progress, completed, absent"
			}
		}
		return ""
	}
)

type elementSpec struct {
	attrs    map[string]attrCheck
	children []string // allowed child elements
	text     string   // "none", "optional", "required"
}

var voiceVerbs = map[string]elementSpec{
	"Say": {attrs: map[string]attrCheck{"voice": nonEmpty, "language": language, "loop": wholeNumber(0)},
		children: ssmlNames, text: "required"},
	"Play":  {attrs: map[string]attrCheck{"loop": wholeNumber(0), "digits": digits}, text: "optional"},
	"Pause": {attrs: map[string]attrCheck{"length": wholeNumber(0)}, text: "none"},
	"Gather": {attrs: map[string]attrCheck{
		"action": urlValue, "method": method, "timeout": wholeNumber(0), "speechTimeout": speechTimeout,
		"numDigits": wholeNumber(1), "finishOnKey": gatherFinishOnKey, "input": gatherInput, "hints": anyValue,
		"language": language, "actionOnEmptyResult": boolean, "partialResultCallback": urlValue,
		"partialResultCallbackMethod": method, "profanityFilter": boolean, "speechModel": nonEmpty, "enhanced": boolean,
		"bargeIn": boolean, "maxSpeechTime": wholeNumber(1), "debug": boolean,
	}, children: []string{"Say", "Play", "Pause"}, text: "none"},
	"Record": {attrs: map[string]attrCheck{
		"action": urlValue, "method": method, "timeout": wholeNumber(0), "finishOnKey": recordFinishOnKey,
		"maxLength": wholeNumber(1), "playBeep": boolean, "trim": oneOf("trim-silence", "do-not-trim"),
		"recordingStatusCallback": urlValue, "recordingStatusCallbackMethod": method,
		"recordingStatusCallbackEvent": recordingEvents, "transcribe": boolean, "transcribeCallback": urlValue,
		"recordingChannels": oneOf("mono", "dual"),
	}, text: "none"},
	"Redirect": {attrs: map[string]attrCheck{"method": method}, text: "required"},
	"Hangup":   {text: "none"},
	"Reject":   {attrs: map[string]attrCheck{"reason": oneOf("rejected", "busy")}, text: "none"},
	"Dial": {attrs: map[string]attrCheck{
		"action": urlValue, "method": method, "timeout": wholeNumber(1), "callerId": nonEmpty,
		"record": oneOf("do-not-record", "record-from-answer", "record-from-ringing",
			"record-from-answer-dual", "record-from-ringing-dual", "true", "false"),
		"answerOnBridge": boolean, "timeLimit": wholeNumber(1),
	}, children: []string{"Number"}, text: "optional"},
}

var dialChildren = map[string]elementSpec{
	"Number": {attrs: map[string]attrCheck{"sendDigits": digits, "url": urlValue, "method": method,
		"statusCallback": urlValue, "statusCallbackMethod": method, "statusCallbackEvent": anyValue}, text: "required"},
}

var ssmlNames = []string{"prosody", "break", "say-as", "emphasis", "p", "s", "lang"}

var ssmlElements = map[string]elementSpec{
	"prosody":  {attrs: map[string]attrCheck{"rate": nonEmpty, "pitch": nonEmpty, "volume": nonEmpty}, children: ssmlNames, text: "optional"},
	"break":    {attrs: map[string]attrCheck{"strength": oneOf("none", "x-weak", "weak", "medium", "strong", "x-strong"), "time": ssmlTime}, text: "none"},
	"say-as":   {attrs: map[string]attrCheck{"interpret-as": nonEmpty, "format": nonEmpty, "role": nonEmpty}, text: "optional"},
	"emphasis": {attrs: map[string]attrCheck{"level": oneOf("strong", "moderate", "reduced")}, children: ssmlNames, text: "optional"},
	"p":        {children: ssmlNames, text: "optional"},
	"s":        {children: ssmlNames, text: "optional"},
	"lang":     {attrs: map[string]attrCheck{"xml:lang": language}, children: ssmlNames, text: "optional"},
}

var ssmlTimeRE = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?(ms|s)$`)

func ssmlTime(v string) string {
	if !ssmlTimeRE.MatchString(v) {
		return `must be a time like "500ms" or "2s"`
	}
	return ""
}

var messagingVerbs = map[string]elementSpec{
	"Message": {attrs: map[string]attrCheck{"to": nonEmpty, "from": nonEmpty, "action": urlValue,
		"method": method, "statusCallback": urlValue}, children: []string{"Body", "Media"}, text: "optional"},
	"Redirect": {attrs: map[string]attrCheck{"method": method}, text: "required"},
}

var messageChildren = map[string]elementSpec{
	"Body":  {text: "optional"},
	"Media": {text: "required"},
}

// CheckVoiceTwiML reports whether doc is valid voice TwiML: well-formed XML
// with a <Response> root holding only documented voice verbs with their
// documented attributes, valid attribute values and correct nesting.
func CheckVoiceTwiML(doc []byte) error {
	_, err := parseVoice(doc)
	return err
}

// CheckMessagingTwiML reports whether doc is valid messaging TwiML.
func CheckMessagingTwiML(doc []byte) error {
	_, err := parseMessaging(doc)
	return err
}

func parseVoice(doc []byte) (*node, error) {
	root, err := parseRoot(doc)
	if err != nil {
		return nil, err
	}
	for _, v := range root.Children {
		spec, ok := voiceVerbs[v.Name]
		if !ok {
			return nil, unknown(v, "Response")
		}
		if err := checkElement(v, spec, voiceChild); err != nil {
			return nil, err
		}
		switch v.Name {
		case "Play":
			_, hasDigits := v.attr("digits")
			u := strings.TrimSpace(v.Text)
			if u == "" && !hasDigits {
				return nil, &TwiMLError{Element: "Play", Line: v.Line, Problem: "needs a URL (or a digits attribute)"}
			}
			if u != "" {
				if pu, err := url.Parse(u); err != nil || (pu.Scheme != "" && pu.Scheme != "http" && pu.Scheme != "https") {
					return nil, &TwiMLError{Element: "Play", Line: v.Line, Problem: fmt.Sprintf("%q is not an http(s) URL", u)}
				}
			}
		case "Say":
			if n := len([]rune(v.allText())); n > 4096 {
				return nil, &TwiMLError{Element: "Say", Line: v.Line, Problem: fmt.Sprintf("text is %d characters; the limit is 4096", n)}
			}
		case "Dial":
			if strings.TrimSpace(v.Text) == "" && len(v.Children) == 0 {
				return nil, &TwiMLError{Element: "Dial", Line: v.Line, Problem: "needs a number to dial"}
			}
			if strings.TrimSpace(v.Text) != "" && len(v.Children) > 0 {
				return nil, &TwiMLError{Element: "Dial", Line: v.Line, Problem: "has both text and <Number> children"}
			}
		case "Redirect":
			if err := urlValue(strings.TrimSpace(v.Text)); err != "" {
				return nil, &TwiMLError{Element: "Redirect", Line: v.Line, Problem: "URL " + err}
			}
		}
		if v.Name == "Gather" {
			for _, c := range v.Children {
				if c.Name == "Play" && strings.TrimSpace(c.Text) == "" {
					if _, ok := c.attr("digits"); !ok {
						return nil, &TwiMLError{Element: "Play", Line: c.Line, Problem: "needs a URL"}
					}
				}
			}
		}
	}
	return root, nil
}

func voiceChild(parent, c *node) (elementSpec, bool) {
	var s elementSpec
	var ok bool
	switch {
	case parent.Name == "Say":
		s, ok = ssmlElements[c.Name]
	case parent.Name == "Gather":
		s, ok = voiceVerbs[c.Name]
	case parent.Name == "Dial":
		s, ok = dialChildren[c.Name]
	default:
		if _, isSSML := ssmlElements[parent.Name]; isSSML {
			s, ok = ssmlElements[c.Name]
		}
	}
	return s, ok
}

func parseMessaging(doc []byte) (*node, error) {
	root, err := parseRoot(doc)
	if err != nil {
		return nil, err
	}
	for _, v := range root.Children {
		spec, ok := messagingVerbs[v.Name]
		if !ok {
			return nil, unknown(v, "Response")
		}
		if err := checkElement(v, spec, func(_, c *node) (elementSpec, bool) {
			s, ok := messageChildren[c.Name]
			return s, ok
		}); err != nil {
			return nil, err
		}
		if v.Name == "Message" {
			media := 0
			for _, c := range v.Children {
				if c.Name == "Media" {
					media++
				}
			}
			if len(v.Children) > 0 && strings.TrimSpace(v.Text) != "" {
				return nil, &TwiMLError{Element: "Message", Line: v.Line, Problem: "mixes text with <Body>/<Media> children"}
			}
			if media > 10 {
				return nil, &TwiMLError{Element: "Message", Line: v.Line, Problem: "more than 10 <Media>"}
			}
			bodies := 0
			for _, c := range v.Children {
				if c.Name == "Body" {
					bodies++
				}
			}
			if bodies > 1 {
				return nil, &TwiMLError{Element: "Message", Line: v.Line, Problem: "more than one <Body>"}
			}
		}
		if v.Name == "Redirect" {
			if err := urlValue(strings.TrimSpace(v.Text)); err != "" {
				return nil, &TwiMLError{Element: "Redirect", Line: v.Line, Problem: "URL " + err}
			}
		}
	}
	return root, nil
}

func parseRoot(doc []byte) (*node, error) {
	root, err := parseXML(doc)
	if err != nil {
		return nil, err
	}
	if root.Name != "Response" {
		return nil, &TwiMLError{Element: root.Name, Line: root.Line, Problem: "root element must be <Response>"}
	}
	if len(root.Attrs) > 0 {
		return nil, &TwiMLError{Element: "Response", Line: root.Line, Problem: fmt.Sprintf("unexpected attribute %q", root.Order[0])}
	}
	if strings.TrimSpace(root.Text) != "" {
		return nil, &TwiMLError{Element: "Response", Line: root.Line, Problem: fmt.Sprintf("unexpected text %q", strings.TrimSpace(root.Text))}
	}
	return root, nil
}

func unknown(n *node, parent string) error {
	if strings.EqualFold(n.Name, "SayAs") {
		return &TwiMLError{Element: n.Name, Line: n.Line, Problem: "SSML element names are lower-case (Twilio error 12200): write <say-as>"}
	}
	for _, name := range ssmlNames {
		if strings.EqualFold(name, n.Name) && name != n.Name {
			return &TwiMLError{Element: n.Name, Line: n.Line, Problem: "SSML element names are lower-case (Twilio error 12200): write <" + name + ">"}
		}
	}
	for _, names := range []map[string]elementSpec{voiceVerbs, messagingVerbs, dialChildren, messageChildren} {
		for name := range names {
			if strings.EqualFold(name, n.Name) && name != n.Name {
				return &TwiMLError{Element: n.Name, Line: n.Line, Problem: fmt.Sprintf("unknown element (names are case-sensitive: <%s>)", name)}
			}
		}
	}
	return &TwiMLError{Element: n.Name, Line: n.Line, Problem: fmt.Sprintf("is not allowed inside <%s>", parent)}
}

// checkElement checks n's attributes and text against spec, and its
// children recursively with childSpec.
func checkElement(n *node, spec elementSpec, childSpec func(parent, child *node) (elementSpec, bool)) error {
	for _, k := range n.Order {
		check, ok := spec.attrs[k]
		if !ok {
			return &TwiMLError{Element: n.Name, Line: n.Line, Problem: fmt.Sprintf("unknown attribute %q", k)}
		}
		if p := check(n.Attrs[k]); p != "" {
			return &TwiMLError{Element: n.Name, Line: n.Line, Problem: fmt.Sprintf("attribute %s=%q %s", k, n.Attrs[k], p)}
		}
	}
	if spec.text == "none" && strings.TrimSpace(n.Text) != "" {
		return &TwiMLError{Element: n.Name, Line: n.Line, Problem: fmt.Sprintf("unexpected text %q", strings.TrimSpace(n.Text))}
	}
	for _, c := range n.Children {
		allowed := false
		for _, name := range spec.children {
			if name == c.Name {
				allowed = true
			}
		}
		cs, known := childSpec(n, c)
		if !allowed || !known {
			return unknown(c, n.Name)
		}
		if err := checkElement(c, cs, childSpec); err != nil {
			return err
		}
	}
	if spec.text == "required" && strings.TrimSpace(n.allText()) == "" {
		return &TwiMLError{Element: n.Name, Line: n.Line, Problem: "must not be empty"}
	}
	return nil
}
