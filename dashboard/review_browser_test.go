package dashboard

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// The review work in a real browser, on the skeleton's harness: search
// for a words answer, open it, tag, note and flag it; open a call, play
// its recording until the audio element can play, correct the transcript
// and see the original kept; mark a call-back done; then the easy-read
// view as a member reviewer. Every page is screenshotted and checked by
// axe-core.
func TestBrowserReview(t *testing.T) {
	ta := newTestApp(t)
	d := seedReview(t, ta)
	c := ta.chromeAs(t, Staff)

	// Search for a words answer and open its conversation.
	c.open("/conversations")
	c.check("conversations")
	c.fill("#q", "minibus")
	c.submit("form[role=search] button[type=submit]")
	c.waitFor("the search finds the text", `document.querySelector('a[href="/conversations/`+d.text+`"]') !== null && document.querySelectorAll('tbody tr').length === 1`)
	c.check("search")
	c.run(chromedp.Click(chromedp.CSS(`a[href="/conversations/` + d.text + `"]`)))
	c.waitFor("the conversation opens", `document.body.innerText.includes('The minibus is always late') && document.querySelector('#answer-`+fmt.Sprint(d.textAnswer)+`') !== null`)
	c.check("conversation-text")

	// Tag, note and flag the words answer.
	answer := fmt.Sprint(d.textAnswer)
	c.fill("#theme-"+answer, "transport")
	c.submit("#answer-" + answer + " form.add-theme button[type=submit]")
	c.waitFor("the theme is added", `document.body.innerText.includes('The theme was saved') && [...document.querySelectorAll('#answer-`+answer+` .tag')].some(e => e.innerText === 'transport')`)
	c.run(chromedp.Click(chromedp.CSS("#answer-" + answer + " summary")))
	c.eval(`document.querySelector('#note-` + answer + `').value = 'Ask the transport team <today>'; ''`)
	c.submit("#answer-" + answer + " form[action$='/notes'] button[type=submit]")
	c.waitFor("the note is saved", `document.body.innerText.includes('Your note was saved') && document.querySelector('#answer-`+answer+` .notes').innerText.includes('Ask the transport team <today>')`)
	c.fill("#worry-reason", "Sounds upset about getting there")
	c.submit("#worry-reason ~ button")
	c.waitFor("the worry is flagged", `document.body.innerText.includes('The flag was saved') && document.querySelector('.flags').innerText.includes('Sounds upset')`)
	c.check("conversation-tagged-noted-flagged")

	// The call: play the recording, then correct its transcript.
	c.open("/conversations?q=shouting")
	c.waitFor("the search finds the call", `document.querySelector('a[href="/conversations/`+d.call+`"]') !== null`)
	c.run(chromedp.Click(chromedp.CSS(`a[href="/conversations/` + d.call + `"]`)))
	c.waitFor("the call opens", `document.querySelector('audio') !== null`)
	c.eval(`(() => { const a = document.querySelector('audio'); window.canPlay = false;
		a.addEventListener('canplay', () => window.canPlay = true); a.muted = true; a.load(); a.play().catch(() => {}); return '' })()`)
	c.waitFor("the recording can play", `window.canPlay === true && document.querySelector('audio').readyState >= 3 && document.querySelector('audio').duration > 0.9`)
	c.check("conversation-call")
	c.eval(`document.querySelector('#transcript-` + d.recording + `').value = 'the staff shout at me on Mondays'; ''`)
	c.submit("form[action$='/transcripts/" + d.recording + "'] button[type=submit]")
	c.waitFor("the correction is shown with the original kept", `document.body.innerText.includes('The transcript was corrected') &&
		[...document.querySelectorAll('.said')].some(e => e.innerText.includes('on Mondays')) && document.querySelector('.original').innerText.includes('the staff shout at me sometimes')`)
	c.check("transcript-corrected")

	// Call-backs: "I called".
	c.open("/callbacks")
	c.waitFor("the call-back is listed", fmt.Sprintf(`document.querySelector('#callback-%d') !== null`, d.callback))
	c.check("callbacks")
	c.eval(fmt.Sprintf(`document.querySelector('#outcome-%d').value = 'reached'; document.querySelector('#note-%d').value = 'All sorted'; ''`, d.callback, d.callback))
	c.submit(fmt.Sprintf("form[action='/callbacks/%d/done'] button[type=submit]", d.callback))
	c.waitFor("the call-back is done", `document.body.innerText.includes('Nobody is waiting') && document.body.innerText.includes('All sorted')`)
	c.check("callbacks-done")

	// A member reviewer: the easy-read view, one answer at a time.
	r := ta.chromeAs(t, Reviewer)
	r.open("/conversations?q=shouting")
	r.waitFor("the reviewer finds the call", `document.querySelector('a[href="/conversations/`+d.call+`"]') !== null`)
	r.check("easy-conversations")
	r.open("/conversations/" + d.call + "?step=1")
	r.waitFor("one answer on the screen", `document.body.innerText.includes('Answer 2 of 2') && document.querySelector('audio') !== null`)
	r.check("easy-conversation-step")
	r.submit(".easy-actions button.big")
	r.waitFor("this matters is saved", `document.body.innerText.includes('Someone said this matters')`)
	r.check("easy-this-matters")
	html := r.eval(`document.documentElement.outerHTML`)
	if m := phoneLike.FindString(html); m != "" || strings.Contains(html, "/people/") {
		t.Errorf("the easy-read page shows a number or a member link: %q", m)
	}
}
