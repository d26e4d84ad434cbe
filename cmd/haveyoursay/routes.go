package main

import (
	"context"
	"crypto/rand"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/haveyoursay/haveyoursay/ops"
)

// newServer builds the whole HTTP surface. Every URL the service answers is
// listed here.
func newServer(ctx context.Context, d deps) (http.Handler, func(), error) {
	r := mux.NewRouter()
	r.Use(d.metrics.Middleware(d.log))

	// Operations.
	r.HandleFunc("/healthz", ops.Healthz).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/readyz", ops.Checks{
		"postgres": d.db.Ping,
		"redis":    d.redis.Ping,
	}.Readyz).Methods(http.MethodGet)
	r.Handle("/metrics", d.metrics.Handler()).Methods(http.MethodGet)

	return r, func() {}, nil
}

// randomToken returns n random letters and digits.
func randomToken(n int) string {
	const alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
