package dashboard

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gorilla/mux"

	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/survey"
)

// personPage is what a member's page shows.
type personPage struct {
	store.Member
	Number        string // the full number, only after an admin asked for it
	Conversations []store.MemberConversation
	Needs         []needChoice
	Notice        string
}

// needChoice is one communication need, as a checkbox.
type needChoice struct {
	Name, Label, Hint string
	On                bool
}

func needChoices(n survey.Needs) []needChoice {
	return []needChoice{
		{"voice_only", "Voice only", "They prefer the phone: we call them, we never text.", n.VoiceOnly},
		{"easy_read", "Easy read", "The simpler wording first, every time.", n.EasyRead},
		{"emoji_menus", "Emoji menus", "Pictures beside the choices in texts.", n.EmojiMenus},
		{"slow_speech", "Slower speech", "The phone speaks more slowly.", n.SlowSpeech},
		{"supporter", "A supporter answers with me", "Questions are worded for a member and their supporter together.", n.Supporter},
	}
}

var personDone = map[string]string{"needs": "Their communication needs were saved. The next text or call uses them."}

// person reads the {id} of a member's route and the member; it answers
// 404 itself for an unknown one.
func (a *App) person(w http.ResponseWriter, r *http.Request) (store.Member, bool) {
	id, err := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
	if err != nil {
		a.notFound(w, r, "member")
		return store.Member{}, false
	}
	p, err := a.db.Member(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		a.notFound(w, r, "member")
		return p, false
	}
	if err != nil {
		a.serverError(w, r, fmt.Errorf("reading a member: %w", err))
		return p, false
	}
	return p, true
}

func (a *App) personPage(w http.ResponseWriter, r *http.Request, p store.Member, number, notice string) {
	convs, err := a.db.MemberConversations(r.Context(), p.ID, 100)
	if err != nil {
		a.serverError(w, r, fmt.Errorf("listing a member's conversations: %w", err))
		return
	}
	a.render(w, r, "person", "Member "+p.Masked, personPage{Member: p, Number: number, Conversations: convs,
		Needs: needChoices(p.Needs), Notice: notice})
}

// showPerson answers GET /people/{id}: a member. Every view is audited.
func (a *App) showPerson(w http.ResponseWriter, r *http.Request) {
	p, ok := a.person(w, r)
	if !ok {
		return
	}
	a.audit(r, "view-person", fmt.Sprintf("person:%d", p.ID), nil)
	a.personPage(w, r, p, "", personDone[r.URL.Query().Get("done")])
}

// setNeeds answers POST /people/{id}/needs: the boxes ticked are the
// member's communication needs; both channels read them.
func (a *App) setNeeds(w http.ResponseWriter, r *http.Request) {
	if !a.form(w, r) {
		return
	}
	p, ok := a.person(w, r)
	if !ok {
		return
	}
	on := func(name string) bool { return r.PostForm.Get(name) != "" }
	n := survey.Needs{VoiceOnly: on("voice_only"), EasyRead: on("easy_read"), EmojiMenus: on("emoji_menus"),
		SlowSpeech: on("slow_speech"), Supporter: on("supporter")}
	if err := a.db.SetMemberNeeds(r.Context(), p.ID, n); err != nil {
		a.serverError(w, r, fmt.Errorf("saving needs: %w", err))
		return
	}
	a.audit(r, "set-needs", fmt.Sprintf("person:%d", p.ID), map[string]any{"needs": n})
	http.Redirect(w, r, fmt.Sprintf("/people/%d?done=needs", p.ID), http.StatusSeeOther)
}

// reveal answers POST /people/{id}/reveal: an admin sees the full number,
// on this page only (never in an address), and the audit log says so.
func (a *App) reveal(w http.ResponseWriter, r *http.Request) {
	if !a.form(w, r) {
		return
	}
	p, ok := a.person(w, r)
	if !ok {
		return
	}
	if a.phones == nil {
		a.fail(w, r, http.StatusServiceUnavailable, "Full numbers cannot be shown: the server has no key to open them.")
		return
	}
	enc, err := a.db.MemberNumber(r.Context(), p.ID)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	number, err := a.phones.Decrypt(enc)
	if err != nil {
		a.serverError(w, r, fmt.Errorf("opening a number: %w", err))
		return
	}
	a.audit(r, "reveal-number", fmt.Sprintf("person:%d", p.ID), nil)
	a.personPage(w, r, p, number, "")
}
