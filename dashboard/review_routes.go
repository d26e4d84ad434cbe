package dashboard

// This file belongs to the review engineer (branch dash-review): the
// conversations list and search, one conversation, and call-backs. Each
// page is one short file (conversations.go, conversation.go,
// callbacks.go) with its template in templates/.

import "github.com/gorilla/mux"

// ReviewConfig is the review pages' own settings (e.g. office hours for
// call-back texts), set by the server as Config.Review.
type ReviewConfig struct{}

// reviewState is what the review pages keep for the life of the App.
type reviewState struct{}

// reviewRoutes registers the review pages, one line and one comment per
// route, as Routes does. Use a.get / a.post with a Role method:
//
//	a.get(r, "/conversations", Role.CanReview, a.showConversations)       // filters and search
//	a.get(r, "/conversations/{id}", Role.CanReview, a.showConversation)   // one conversation
//	a.post(r, "/conversations/{id}/tags", Role.CanTag, a.tagAnswer)       // add or remove a theme
//	a.get(r, "/callbacks", Role.SeesPeople, a.showCallbacks)              // who is waiting
func (a *App) reviewRoutes(r *mux.Router) {}
