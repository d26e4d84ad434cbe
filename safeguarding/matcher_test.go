package safeguarding

import (
	"strings"
	"testing"
)

func TestMatchFindsRiskPhrases(t *testing.T) {
	m := Default()
	cases := []struct{ text, want string }{
		{"the staff shout at me and I feel scared", "shout at me"},
		{"He HIT ME!!", "hit me"},
		{"my brother hits me when mum is out", "hits me"},
		{"they are hurting me", "hurting me"},
		{"I am scared of the man next door", "scared"},
		{"I don't feel safe at home", "dont feel safe"},
		{"i dont feel safe", "dont feel safe"},
		{"it is not safe here", "not safe"},
		{"I want to kill myself", "kill myself"},
		{"kms", "kms"},
		{"thinking about sucide", "sucid*"},
		{"suicidal thoughts", "suicid*"},
		{"I self-harm", "self harm"},
		{"i selfharm sometimes", "selfharm"},
		{"I just want to end it all", "end it all"},
		{"she is abusive to me", "abus*"},
		{"this is abuse", "abus*"},
		{"my carer took my money", "took my money"},
		{"they do harm to people", "harm"},
		{"I’m being bullied", "bullied"},
		{"Je suis ok but they punched me", "punch*"},
	}
	for _, c := range cases {
		got, ok := m.Match(c.text)
		if !ok || got != c.want {
			t.Errorf("Match(%q) = %q, %v; want %q", c.text, got, ok, c.want)
		}
	}
}

func TestMatchLeavesOrdinaryWordsAlone(t *testing.T) {
	m := Default()
	for _, text := range []string{
		"I love the harmony singing group",  // harm inside another word
		"the pharmacy is near",              // harm inside a word
		"they hit the ball to me",           // hit, me, not "hit me"
		"the white meat is nice",            // hit me across words: "w-hit me-at"
		"I feel safe and happy",             // safe, not "not safe"
		"Yes",                               // an answer
		"3",                                 //
		"I like the kitchen and the garden", //
		"The staff are kind. I am happy.",   //
		"we went to the abbey",              // abb, not abus
		"the end",                           //
		"",                                  //
		"👍",                                 //
	} {
		if id, ok := m.Match(text); ok {
			t.Errorf("Match(%q) found %q; want nothing", text, id)
		}
	}
}

func TestExtraPhrasesFromAFile(t *testing.T) {
	file := "# our own words\n\nmoney gone\n  lonel*  \n"
	extra, err := ReadPhrases(strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	if len(extra) != 2 {
		t.Fatalf("read %q; want 2 phrases", extra)
	}
	m, err := New(extra)
	if err != nil {
		t.Fatal(err)
	}
	if m.Len() != Default().Len()+2 {
		t.Errorf("Len = %d; want the defaults and 2 more (%d)", m.Len(), Default().Len()+2)
	}
	for text, want := range map[string]string{"My MONEY, gone again": "money gone", "I feel so lonely": "lonel*", "loneliness": "lonel*"} {
		if got, ok := m.Match(text); !ok || got != want {
			t.Errorf("Match(%q) = %q, %v; want %q", text, got, ok, want)
		}
	}
	if got, ok := m.Match("lonel"); !ok || got != "lonel*" {
		t.Errorf("a stem matches the word itself: got %q, %v", got, ok)
	}
}

func TestBadPhrasesAreRefusedWithTheLine(t *testing.T) {
	for _, c := range []struct{ file, want string }{
		{"ok\n!!!\n", "line 2"},
		{"a*\n", "at least 3 letters"},
		{"ab*c\n", "may only end a word"},
	} {
		_, err := ReadPhrases(strings.NewReader(c.file))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ReadPhrases(%q) = %v; want an error saying %q", c.file, err, c.want)
		}
	}
	if _, err := New([]string{"*"}); err == nil {
		t.Error("New accepted a phrase with no words")
	}
}

func TestDefaultPhrasesAllParse(t *testing.T) {
	for _, p := range DefaultPhrases {
		if _, err := parse(p); err != nil {
			t.Errorf("shipped phrase %q: %v", p, err)
		}
	}
}

func FuzzMatch(f *testing.F) {
	f.Add("he hits me")
	f.Add("harmony")
	f.Fuzz(func(t *testing.T, s string) {
		m := Default()
		id, ok := m.Match(s)
		if ok && id == "" {
			t.Fatal("a match with no phrase")
		}
	})
}

func BenchmarkMatch(b *testing.B) {
	m := Default()
	text := "The staff are kind to me most days but sometimes the food is cold and I would like to go out more often with my friends."
	b.ReportAllocs()
	for b.Loop() {
		m.Match(text)
	}
}
