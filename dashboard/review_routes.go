package dashboard

// The review pages: the conversations list and search, one conversation
// (answers, recordings, transcripts, themes, notes, flags), and call-backs.
// Each page is one short file (conversations.go, conversation.go,
// recording.go, callbacks.go) with its template in templates/.

import (
	"sync"

	"github.com/gorilla/mux"

	"github.com/haveyoursay/haveyoursay/store"
)

// ReviewConfig is the review pages' own settings, set by the server as
// Config.Review.
type ReviewConfig struct {
	// PageSize is how many conversations a page lists (default 50).
	PageSize int
}

// reviewState is what the review pages keep for the life of the App.
type reviewState struct {
	once    sync.Once
	catalog *store.Catalog // survey definitions, for the questions' words
}

// surveys returns the parsed survey definitions, loaded as needed.
func (a *App) surveys() *store.Catalog {
	a.review.once.Do(func() { a.review.catalog = store.NewCatalog(a.db) })
	return a.review.catalog
}

// reviewRoutes registers the review pages, one line and one comment per
// route, as Routes does.
func (a *App) reviewRoutes(r *mux.Router) {
	const conv = "/conversations/{id}"
	a.get(r, "/conversations", Role.CanReview, a.showConversations)              // filters, search, pages
	a.get(r, conv, Role.CanReview, a.showConversation)                           // every answer; audited
	a.get(r, conv+"/recordings/{sid}", Role.CanReview, a.playRecording)          // the audio, through us; audited
	a.post(r, conv+"/transcripts/{sid}", Role.CanEdit, a.correctTranscript)      // a correction; the original is kept
	a.post(r, conv+"/themes", Role.CanTag, a.changeTheme)                        // add or remove a theme on an answer
	a.post(r, conv+"/notes", Role.CanTag, a.addNote)                             // a note
	a.post(r, conv+"/flags", Role.CanTag, a.raiseFlag)                           // a worry (staff) or "this matters"
	a.post(r, conv+"/flags/{flag}/clear", Role.CanEdit, a.clearFlag)             // dealt with
	a.get(r, "/callbacks", Role.SeesPeople, a.showCallbacks)                     // who is waiting, oldest first
	a.post(r, "/callbacks/{callback:[0-9]+}/done", Role.CanEdit, a.callbackDone) // "I called"
}
