package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// APIToken is a bearer token another system uses to read the API. Only a
// hash of the token is kept: the token itself is shown once, when made.
type APIToken struct {
	ID        int64
	Name      string
	Role      string // viewer or staff
	CreatedAt time.Time
	LastUsed  *time.Time
	RevokedAt *time.Time
}

// TokenPrefix starts every API token, so one pasted by mistake (into a
// chat, a repository) is easy to recognise and search for.
const TokenPrefix = "hys_"

// ErrTokenName means a token that is still in use already has the name.
var ErrTokenName = errors.New("a token with that name is already in use: choose another name, or revoke the old one first")

func hashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// AddAPIToken makes a token with a name and a role and returns it with
// its secret, which is never stored and cannot be shown again.
func (db *DB) AddAPIToken(ctx context.Context, name, role string) (APIToken, string, error) {
	b := make([]byte, 32)
	rand.Read(b)
	secret := TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	var t APIToken
	err := db.pool.QueryRow(ctx, `INSERT INTO api_tokens (name, role, token_hash) VALUES ($1, $2, $3)
		RETURNING id, name, role, created_at, last_used_at, revoked_at`, strings.TrimSpace(name), role, hashToken(secret)).
		Scan(&t.ID, &t.Name, &t.Role, &t.CreatedAt, &t.LastUsed, &t.RevokedAt)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return t, "", ErrTokenName
	}
	return t, secret, err
}

// APITokens lists every token, revoked ones too, oldest first.
func (db *DB) APITokens(ctx context.Context) ([]APIToken, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, name, role, created_at, last_used_at, revoked_at FROM api_tokens ORDER BY id`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[APIToken])
}

// RevokeAPIToken stops the token in use with this name (or, when name is
// a number, this id) working at once. ErrNotFound when there is none.
func (db *DB) RevokeAPIToken(ctx context.Context, name string) (APIToken, error) {
	var t APIToken
	err := db.pool.QueryRow(ctx, `UPDATE api_tokens SET revoked_at = now()
		WHERE revoked_at IS NULL AND (lower(name) = lower($1) OR id::text = $1)
		RETURNING id, name, role, created_at, last_used_at, revoked_at`, strings.TrimSpace(name)).
		Scan(&t.ID, &t.Name, &t.Role, &t.CreatedAt, &t.LastUsed, &t.RevokedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return t, ErrNotFound
	}
	return t, err
}

// APITokenFor returns the token in use whose secret this is, or
// ErrNotFound (unknown or revoked). It notes when the token was last used,
// at most once a minute.
func (db *DB) APITokenFor(ctx context.Context, secret string) (APIToken, error) {
	var t APIToken
	if !strings.HasPrefix(secret, TokenPrefix) {
		return t, ErrNotFound
	}
	err := db.pool.QueryRow(ctx, `SELECT id, name, role, created_at, last_used_at, revoked_at FROM api_tokens
		WHERE token_hash = $1 AND revoked_at IS NULL`, hashToken(secret)).
		Scan(&t.ID, &t.Name, &t.Role, &t.CreatedAt, &t.LastUsed, &t.RevokedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return t, ErrNotFound
	}
	if err != nil {
		return t, err
	}
	if t.LastUsed == nil || time.Since(*t.LastUsed) > time.Minute {
		if _, err := db.pool.Exec(ctx, `UPDATE api_tokens SET last_used_at = now() WHERE id = $1`, t.ID); err != nil {
			return t, err
		}
	}
	return t, nil
}
