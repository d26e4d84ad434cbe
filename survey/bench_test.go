package survey

import "testing"

// BenchmarkStep measures one answer: matching the input and moving on.
func BenchmarkStep(b *testing.B) {
	s := Demo()
	_, sess := Start(s, SMS, Needs{})
	_, sess = Step(s, sess, Input{Text: "yes"})
	inputs := []Input{{Text: "um a bit ok"}, {Text: "3"}, {Text: "hapy"}, {Text: "👍🏽"}}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r, _ := Step(s, sess, inputs[i%len(inputs)])
		if len(r.Prompts) == 0 {
			b.Fatal("no reply")
		}
	}
}

func BenchmarkMatch(b *testing.B) {
	q := Demo().Question("feel")
	b.ReportAllocs()
	for b.Loop() {
		Match(q, "erm I think a bit")
	}
}
