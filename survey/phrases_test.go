package survey

import (
	"strings"
	"testing"
)

// secrecy are words that promise to keep what a member tells us to
// ourselves: we may need to tell someone to keep them safe (issue 15).
var secrecy = []string{"secret", "confidential", "tell anyone", "tell nobody", "tell no one", "nobody will know",
	"no one will know", "between us", "never share", "never pass on"}

// No built-in sentence and no shipped survey promises secrecy.
func TestNoWordingPromisesSecrecy(t *testing.T) {
	texts := map[string]string{"demo survey": string(DemoYAML), "easy-read demo survey": string(EasyReadYAML)}
	for lang, book := range BuiltinPhrases {
		for id, p := range book {
			texts["phrase "+id+" ("+lang+")"] = p
		}
	}
	for name, text := range texts {
		low := strings.ToLower(text)
		for _, s := range secrecy {
			if strings.Contains(low, s) {
				t.Errorf("%s promises secrecy (%q): %q", name, s, text)
			}
		}
	}
	if !strings.Contains(DefaultPhrases["sms-notice"], "we may tell people who can keep you safe") {
		t.Error("texters are not told we may need to tell someone")
	}
}
