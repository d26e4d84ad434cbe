package survey

// The follow-up question (issue 13): a survey with follow_up: true ends,
// after the thanks, with "Can we text you to tell you what we did?" and a
// yes/no menu. The conversation is already complete (Ended was reported
// with the thanks), so a member who does not answer loses nothing. A
// clear yes or no is reported as FollowUpConsent; anything unclear is
// asked once more, then taken as "not now" (nothing is reported).

// askFollowUp asks the question, when the survey wants it.
func (e *engine) askFollowUp() {
	if !e.s.FollowUp {
		return
	}
	e.sess.Stage = StageFollowUp
	e.sess.Tries = 0
	e.followUpPrompts()
}

func (e *engine) followUpPrompts() {
	e.say("tell-me-ask", e.phrase("tell-me-ask"))
	e.say("menu:tell-me", e.menu(e.yesNoQuestion("tell-me")))
}

// stepFollowUp takes the answer to the follow-up question.
func (e *engine) stepFollowUp(in Input) {
	text, _, silent := input(in)
	if !silent {
		b := builtinOf(text)
		v, _, ok, amb := compileMatcher(e.yesNoQuestion("tell-me")).match(text)
		if b == noBuiltin && !ok && !amb {
			b = looseBuiltinOf(text)
		}
		switch {
		case b == biRepeat:
			e.followUpPrompts()
			return
		case b == biHelp:
			e.help(false)
			e.followUpPrompts()
			return
		case ok && (v == "yes" || v == "no"):
			e.emit(FollowUpConsent{Yes: v == "yes"})
			e.sess.Stage, e.sess.Tries = StageDone, 0
			if v == "yes" {
				e.say("tell-me-yes", e.phrase("tell-me-yes"))
			} else {
				e.say("tell-me-no", e.phrase("tell-me-no"))
			}
			return
		}
	}
	e.sess.Tries++
	if e.sess.Tries == 1 {
		e.say("retry", e.phrase("retry"))
		e.followUpPrompts()
		return
	}
	// Twice unclear: we do not text them; nothing more is asked.
	e.sess.Stage, e.sess.Tries = StageDone, 0
	e.say("tell-me-no", e.phrase("tell-me-no"))
}
