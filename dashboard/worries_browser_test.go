package dashboard

import (
	"fmt"
	"testing"
)

// TestBrowserWorries: the safeguarding lead opens the Worries queue and a
// worry, records what they did and who they told, and closes it; every
// page screenshotted and checked by axe-core.
func TestBrowserWorries(t *testing.T) {
	ta := newTestApp(t)
	d := seedReview(t, ta)
	text, hand := seedWorries(t, ta, d)
	c := ta.chromeAs(t, Safeguarding)

	c.open("/worries")
	c.waitFor("both worries are listed", fmt.Sprintf(`document.querySelector('a[href="/worries/%d"]') !== null && document.querySelector('a[href="/worries/%d"]') !== null`, text, hand))
	c.check("worries")

	c.open(fmt.Sprintf("/worries/%d", text))
	c.waitFor("the worry opens", `document.body.innerText.includes('The staff shout at me and I feel scared') && document.body.innerText.includes('Looked at it')`)
	c.check("worry")
	c.fill("#did", "Called the member. They are safe tonight.")
	c.fill("#told", "Adult social care duty team")
	c.fill("#next", "close")
	c.submit("form[action$='/actions'] button[type=submit]")
	c.waitFor("the worry is closed", `document.body.innerText.includes('The worry is closed') && document.body.innerText.includes('Adult social care duty team')`)
	c.check("worry-closed")

	c.open("/worries")
	c.waitFor("the closed worry is listed as closed", `document.body.innerText.includes('Closed lately')`)
	c.check("worries-one-closed")
}
