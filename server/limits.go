package server

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/webhook"
)

// Rate limits per source, kept in Redis so every server counts together.
// They never refuse Twilio: only failures are counted (a webhook answered
// 403 or 400 because its signature was missing or wrong, a sign-in with a
// wrong password), and a source over its limit is refused only after its
// request has been checked and found unsigned. A request Twilio signed
// with our auth token always goes through, whatever its source has done,
// and costs no Redis round trip: only requests that are not signed are
// looked up.
// If Redis does not answer, nothing is refused: the webhooks' own checks
// and the per-account sign-in lock still stand.
var (
	// badWebhooks: unsigned or badly signed webhook requests from one
	// source. Twilio's requests are signed, so only a misconfigured proxy
	// or someone probing reaches this.
	badWebhooks = store.RateLimit{Count: 30, Period: time.Minute}
	// failedSignIns: wrong passwords from one source, whatever the
	// account (the account lock counts per account).
	failedSignIns = store.RateLimit{Count: 30, Period: 15 * time.Minute}
)

// limiter is the rate-limiting middleware.
type limiter struct {
	redis    *store.Redis
	verifier webhook.Verifier
	log      *slog.Logger
}

// statusWriter remembers the status a handler answered.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Middleware limits webhooks (POST /twilio/...) and sign-in (POST /login)
// per source; everything else passes untouched.
func (l *limiter) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if l == nil || l.redis == nil || r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		var name string
		var limit store.RateLimit
		var failed func(status int) bool
		switch {
		case strings.HasPrefix(r.URL.Path, "/twilio/"):
			name, limit = "webhook", badWebhooks
			failed = func(s int) bool { return s == http.StatusForbidden || s == http.StatusBadRequest }
		case r.URL.Path == "/login":
			name, limit = "sign-in", failedSignIns
			failed = func(s int) bool { return s == http.StatusUnauthorized }
		default:
			next.ServeHTTP(w, r)
			return
		}
		if name == "webhook" && l.verifier.Check(r) == nil {
			// Signed by Twilio: never refused, and nothing to count, so
			// Redis is not asked (the handler does not check it again).
			next.ServeHTTP(w, webhook.Checked(r))
			return
		}
		src := source(r)
		ctx, cancel := context.WithTimeout(r.Context(), 300*time.Millisecond)
		over, wait, err := l.redis.RateOver(ctx, name, src, limit)
		cancel()
		if err != nil {
			l.log.Warn("rate limits cannot be read; not limiting", "err", err)
		}
		if over {
			secs := max(1, int(wait.Round(time.Second)/time.Second))
			w.Header().Set("Retry-After", fmt.Sprint(secs))
			msg := "Too many requests from this address were not signed by Twilio, so this one was ignored. Try again later."
			if name == "sign-in" {
				msg = fmt.Sprintf("There have been too many wrong passwords from this place. Please wait %s and try again.", waitWords(wait))
			}
			http.Error(w, msg, http.StatusTooManyRequests)
			return
		}
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if failed(sw.status) {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 300*time.Millisecond)
			defer cancel()
			if err := l.redis.RateCount(ctx, name, src, limit); err != nil {
				l.log.Warn("counting a refused request", "err", err)
			}
		}
	})
}

func waitWords(d time.Duration) string {
	m := int((d + time.Minute - 1) / time.Minute)
	if m <= 1 {
		return "a minute"
	}
	return fmt.Sprintf("%d minutes", m)
}

// source is where a request came from: the client's address, or, when it
// came through a proxy on this machine or a private network, the address
// that proxy added last to X-Forwarded-For (the one it saw; earlier ones
// can be made up by the client).
func source(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	if ip != nil && (ip.IsLoopback() || ip.IsPrivate()) {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			parts := strings.Split(xff[len(xff)-1], ",")
			if last := strings.TrimSpace(parts[len(parts)-1]); net.ParseIP(last) != nil {
				return last
			}
		}
	}
	return host
}
