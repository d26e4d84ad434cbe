package survey

// Event is one thing that happened in a conversation, reported by the
// engine in Reply.Events for the channel to keep. It is one of
// ConsentGiven, ConsentRefused, ConsentNotGiven, Answered, PersonAsked,
// LanguageChosen or Ended.
type Event interface{ event() }

// ConsentGiven: the member said a clear yes to the consent question.
type ConsentGiven struct {
	Words string // what they sent: text, speech or keys
}

// ConsentRefused: the member said a clear no to the consent question.
type ConsentRefused struct {
	Words string
}

// ConsentNotGiven: the member never said a clear yes, and the
// conversation ended without consent (they did not want, or could not
// be understood, at the offer of a person). Nothing they sent is theirs
// to keep.
type ConsentNotGiven struct{}

// Answered is one answer to one question, or a recorded lack of one
// (Skipped, NoAnswer).
type Answered struct {
	Answer
}

// PersonAsked: the member asked for a person, or said yes when offered
// one. The channel books a call back.
type PersonAsked struct {
	Stage      Stage  // where they were: consent, question, offer, done...
	QuestionID string // the question they were at ("" at consent, or after the end)
	Offered    bool   // they said yes to the offer of a person
}

// LanguageChosen: the member chose the language of the conversation.
type LanguageChosen struct {
	Lang string
}

// Ended: the conversation is over, and how.
type Ended struct {
	How How
}

// How is how a conversation ended.
type How string

// Ways a conversation ends.
const (
	Completed How = "completed"  // the thanks were said
	Refused   How = "refused"    // a clear no to consent
	NoConsent How = "no-consent" // never a clear yes: ended at the offer of a person
)

func (ConsentGiven) event()    {}
func (ConsentRefused) event()  {}
func (ConsentNotGiven) event() {}
func (Answered) event()        {}
func (PersonAsked) event()     {}
func (LanguageChosen) event()  {}
func (Ended) event()           {}

// FollowUpConsent: the member answered "Can we text you to tell you what
// we did?" at the end of the survey.
type FollowUpConsent struct {
	Yes bool
}

func (FollowUpConsent) event() {}

// Find returns the first event of type E in events.
func Find[E Event](events []Event) (E, bool) {
	for _, ev := range events {
		if e, ok := ev.(E); ok {
			return e, true
		}
	}
	var zero E
	return zero, false
}
