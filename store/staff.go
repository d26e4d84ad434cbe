package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/redis/go-redis/v9"
)

// ErrDuplicateEmail means a staff account with that e-mail address exists.
var ErrDuplicateEmail = errors.New("there is already an account with that e-mail address")

// StaffUser is a person who signs in to the dashboard.
type StaffUser struct {
	ID           int64
	Email        string
	Name         string
	Role         string
	PasswordHash string
	CreatedAt    time.Time
	DisabledAt   *time.Time
	LastSeenAt   *time.Time // the latest request (kept to the minute)
	PreviousSeen *time.Time // LastSeenAt when the current sign-in began
}

// Disabled reports whether the account may no longer sign in.
func (u StaffUser) Disabled() bool { return u.DisabledAt != nil }

const staffColumns = `id, email, name, role, password_hash, created_at, disabled_at, last_seen_at, previous_seen_at`

func scanStaff(row pgx.Row) (StaffUser, error) {
	var u StaffUser
	err := row.Scan(&u.ID, &u.Email, &u.Name, &u.Role, &u.PasswordHash, &u.CreatedAt, &u.DisabledAt, &u.LastSeenAt, &u.PreviousSeen)
	if errors.Is(err, pgx.ErrNoRows) {
		return u, ErrNotFound
	}
	return u, err
}

// AddStaffUser creates an account. The role is checked by the database as
// well as by the caller; ErrDuplicateEmail when the address is taken (in
// any case).
func (db *DB) AddStaffUser(ctx context.Context, email, name, role, passwordHash string) (StaffUser, error) {
	u, err := scanStaff(db.pool.QueryRow(ctx, `
		INSERT INTO staff_users (email, name, role, password_hash) VALUES ($1, $2, $3, $4)
		RETURNING `+staffColumns, strings.TrimSpace(email), strings.TrimSpace(name), role, passwordHash))
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return u, ErrDuplicateEmail
	}
	return u, err
}

// StaffUserByEmail finds an account by e-mail address, whatever its case.
func (db *DB) StaffUserByEmail(ctx context.Context, email string) (StaffUser, error) {
	return scanStaff(db.pool.QueryRow(ctx, `SELECT `+staffColumns+` FROM staff_users WHERE lower(email) = lower($1)`, strings.TrimSpace(email)))
}

// StaffUserByID finds an account by its id.
func (db *DB) StaffUserByID(ctx context.Context, id int64) (StaffUser, error) {
	return scanStaff(db.pool.QueryRow(ctx, `SELECT `+staffColumns+` FROM staff_users WHERE id = $1`, id))
}

// StaffUsers lists every account, enabled ones first, then by e-mail.
func (db *DB) StaffUsers(ctx context.Context) ([]StaffUser, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+staffColumns+` FROM staff_users ORDER BY disabled_at IS NOT NULL, lower(email)`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []StaffUser
	for rows.Next() {
		u, err := scanStaff(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

func (db *DB) updateStaff(ctx context.Context, sql string, args ...any) error {
	tag, err := db.pool.Exec(ctx, sql, args...)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// SetStaffRole changes what an account may do.
func (db *DB) SetStaffRole(ctx context.Context, id int64, role string) error {
	return db.updateStaff(ctx, `UPDATE staff_users SET role = $2, updated_at = now() WHERE id = $1`, id, role)
}

// SetStaffPassword replaces an account's password hash.
func (db *DB) SetStaffPassword(ctx context.Context, id int64, passwordHash string) error {
	return db.updateStaff(ctx, `UPDATE staff_users SET password_hash = $2, updated_at = now() WHERE id = $1`, id, passwordHash)
}

// DisableStaffUser stops an account signing in. It stays in the list (and
// in the audit log) with the time it was disabled.
func (db *DB) DisableStaffUser(ctx context.Context, id int64) error {
	return db.updateStaff(ctx, `UPDATE staff_users SET disabled_at = coalesce(disabled_at, now()), updated_at = now() WHERE id = $1`, id)
}

// EnableStaffUser lets a disabled account sign in again.
func (db *DB) EnableStaffUser(ctx context.Context, id int64) error {
	return db.updateStaff(ctx, `UPDATE staff_users SET disabled_at = NULL, updated_at = now() WHERE id = $1`, id)
}

// StartStaffVisit is called when someone signs in: what they last saw
// becomes "my last visit" for the home page.
func (db *DB) StartStaffVisit(ctx context.Context, id int64, at time.Time) error {
	return db.updateStaff(ctx, `UPDATE staff_users SET previous_seen_at = last_seen_at, last_seen_at = $2 WHERE id = $1`, id, at)
}

// SeeStaff notes that someone is using the dashboard, at most once a
// minute per person.
func (db *DB) SeeStaff(ctx context.Context, id int64, at time.Time) error {
	_, err := db.pool.Exec(ctx, `UPDATE staff_users SET last_seen_at = $2::timestamptz
		WHERE id = $1 AND (last_seen_at IS NULL OR last_seen_at < $2::timestamptz - interval '1 minute')`, id, at)
	return err
}

// ---- sessions and failed sign-ins, in Redis ----

// StaffSession is a signed-in browser.
type StaffSession struct {
	UserID  int64     `json:"user"`
	Started time.Time `json:"started"`
}

// The cookie carries a random token; Redis keys carry only its hash, so a
// copy of Redis does not hold live sessions.
func (r *Redis) staffSessionKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return r.Key("staff", "session", hex.EncodeToString(sum[:]))
}

func (r *Redis) staffSessionsKey(userID int64) string {
	return r.Key("staff", "sessions", strconv.FormatInt(userID, 10))
}

// NewStaffSession starts a session for a user and returns its token, to
// put in a cookie. It ends after idle without a request.
func (r *Redis) NewStaffSession(ctx context.Context, s StaffSession, idle time.Duration) (string, error) {
	token := rand.Text()
	key := r.staffSessionKey(token)
	if err := r.PutJSON(ctx, key, s, idle); err != nil {
		return "", err
	}
	set := r.staffSessionsKey(s.UserID)
	pipe := r.client.TxPipeline()
	pipe.SAdd(ctx, set, key)
	pipe.Expire(ctx, set, 30*24*time.Hour)
	_, err := pipe.Exec(ctx)
	return token, err
}

// StaffSessionFor returns the session of a token and keeps it alive for
// another idle period; found is false when it has ended.
func (r *Redis) StaffSessionFor(ctx context.Context, token string, idle time.Duration) (s StaffSession, found bool, err error) {
	if token == "" {
		return s, false, nil
	}
	key := r.staffSessionKey(token)
	found, err = r.GetJSON(ctx, key, &s)
	if err != nil || !found {
		return s, found, err
	}
	return s, true, r.client.Expire(ctx, key, idle).Err()
}

// EndStaffSession signs a browser out.
func (r *Redis) EndStaffSession(ctx context.Context, token string) error {
	if token == "" {
		return nil
	}
	return r.client.Del(ctx, r.staffSessionKey(token)).Err()
}

// EndStaffSessions signs a user out everywhere (disabled, or a new
// password).
func (r *Redis) EndStaffSessions(ctx context.Context, userID int64) error {
	set := r.staffSessionsKey(userID)
	keys, err := r.client.SMembers(ctx, set).Result()
	if err != nil {
		return err
	}
	return r.client.Del(ctx, append(keys, set)...).Err()
}

func (r *Redis) failedSignInKey(email string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(email))))
	return r.Key("staff", "failed", hex.EncodeToString(sum[:16]))
}

// FailSignIn counts a wrong password for an e-mail address and returns
// how many there have been in the window that started with the first.
func (r *Redis) FailSignIn(ctx context.Context, email string, window time.Duration) (int, error) {
	key := r.failedSignInKey(email)
	pipe := r.client.TxPipeline()
	n := pipe.Incr(ctx, key)
	pipe.ExpireNX(ctx, key, window)
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, err
	}
	return int(n.Val()), nil
}

// FailedSignIns returns how many wrong passwords an address has had lately
// and how long until they are forgotten.
func (r *Redis) FailedSignIns(ctx context.Context, email string) (int, time.Duration, error) {
	key := r.failedSignInKey(email)
	pipe := r.client.Pipeline()
	get := pipe.Get(ctx, key)
	ttl := pipe.PTTL(ctx, key)
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return 0, 0, err
	}
	n, _ := get.Int()
	return n, max(ttl.Val(), 0), nil
}

// ClearFailedSignIns forgets wrong passwords: after a good sign-in, or a
// new password set by an admin.
func (r *Redis) ClearFailedSignIns(ctx context.Context, email string) error {
	return r.client.Del(ctx, r.failedSignInKey(email)).Err()
}
