package dashboard

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gorilla/mux"

	"github.com/haveyoursay/haveyoursay/store"
)

// playRecording answers GET /conversations/{id}/recordings/{sid}: a
// member's recording, from our own storage, to a signed-in person (never a
// Twilio address). http.ServeContent answers range requests, so the audio
// player can seek. Each listen is in the audit log: the first request of a
// listen, not every range the player asks for.
func (a *App) playRecording(w http.ResponseWriter, r *http.Request) {
	v := mux.Vars(r)
	rec, err := a.db.ConversationRecording(r.Context(), v["id"], v["sid"])
	if errors.Is(err, store.ErrNotFound) {
		a.notFound(w, r, "recording")
		return
	}
	if err != nil {
		a.serverError(w, r, fmt.Errorf("reading a recording: %w", err))
		return
	}
	if rg := r.Header.Get("Range"); r.Method == http.MethodGet && (rg == "" || strings.HasPrefix(rg, "bytes=0-")) {
		a.audit(r, store.AuditPlayRecording, store.ConversationSubject(rec.ConversationID), map[string]any{"recording": rec.SID})
	}
	w.Header().Set("Content-Type", rec.ContentType)
	http.ServeContent(w, r, "", rec.CreatedAt, bytes.NewReader(rec.Audio))
}
