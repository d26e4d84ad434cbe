package dashboard

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/haveyoursay/haveyoursay/store"
)

// MinPasswordLength is the shortest password accepted. Length, not
// symbols, is what makes a password hard to guess.
const MinPasswordLength = 12

// argonCost is how hard a new hash is to compute: RFC 9106's second
// recommended option (64 MiB), lighter on memory for small servers. Each
// hash records its own cost, so raising it later keeps old ones working.
type cost struct {
	time, memory uint32 // passes; KiB
	threads      uint8
}

var defaultArgonCost = cost{3, 64 * 1024, 2}

var argonCost = defaultArgonCost

const argonKeyLen = 32

// HashPassword returns an argon2id hash in the PHC string format:
// $argon2id$v=19$m=65536,t=3,p=2$salt$hash.
func HashPassword(password string) string { return hashPassword(password, argonCost) }

func hashPassword(password string, c cost) string {
	salt := make([]byte, 16)
	rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, c.time, c.memory, c.threads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, c.memory, c.time, c.threads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// CheckPassword reports whether password matches a hash made by
// HashPassword (with whatever settings it was made with).
func CheckPassword(encoded, password string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var version int
	var mem, iters uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &iters, &threads); err != nil || iters == 0 || threads == 0 {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, iters, mem, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash is checked when nobody has the e-mail address typed, so a
// wrong address takes as long as a wrong password.
var dummyHash = HashPassword(rand.Text())

// CheckNewPassword says in a sentence what is wrong with a new password.
func CheckNewPassword(password string) error {
	if n := utf8.RuneCountInString(password); n < MinPasswordLength {
		return fmt.Errorf("That password is too short (%d characters): use at least %d. A few words together make a good one.", n, MinPasswordLength)
	}
	if len(password) > 1024 {
		return errors.New("That password is too long: use at most 1,024 characters.")
	}
	return nil
}

// checkEmail returns the address cleaned up, or a sentence.
func checkEmail(email string) (string, error) {
	email = strings.TrimSpace(email)
	if email == "" {
		return "", errors.New("Please give an e-mail address.")
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || !strings.Contains(email, "@") || len(email) > 254 {
		return "", fmt.Errorf("%q is not an e-mail address we can use. It should look like name@example.org.", email)
	}
	return email, nil
}

// NewUser is an account to add.
type NewUser struct {
	Email, Name, Password string
	Role                  Role
}

// AddUser checks and adds an account. Every refusal is a sentence for the
// person adding it (the users page and `haveyoursay user add` show it).
func AddUser(ctx context.Context, db *store.DB, nu NewUser) (store.StaffUser, error) {
	email, err := checkEmail(nu.Email)
	if err != nil {
		return store.StaffUser{}, err
	}
	if !nu.Role.Valid() {
		if _, err := ParseRole(string(nu.Role)); err != nil {
			return store.StaffUser{}, err
		}
	}
	name := strings.TrimSpace(nu.Name)
	if utf8.RuneCountInString(name) > 100 {
		return store.StaffUser{}, errors.New("That name is too long: use at most 100 characters.")
	}
	if err := CheckNewPassword(nu.Password); err != nil {
		return store.StaffUser{}, err
	}
	u, err := db.AddStaffUser(ctx, email, name, string(nu.Role), HashPassword(nu.Password))
	if errors.Is(err, store.ErrDuplicateEmail) {
		return u, fmt.Errorf("There is already an account for %s.", email)
	}
	return u, err
}

// SetPassword gives an account a new password. Its sessions end (so a
// lost laptop stops working) and any lock on it is lifted.
func SetPassword(ctx context.Context, db *store.DB, rdb *store.Redis, email, password string) error {
	u, err := db.StaffUserByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("There is no account for %s.", strings.TrimSpace(email))
	}
	if err != nil {
		return err
	}
	if err := CheckNewPassword(password); err != nil {
		return err
	}
	if err := db.SetStaffPassword(ctx, u.ID, HashPassword(password)); err != nil {
		return err
	}
	if err := rdb.EndStaffSessions(ctx, u.ID); err != nil {
		return err
	}
	return rdb.ClearFailedSignIns(ctx, u.Email)
}

// DisableUser stops an account signing in and ends its sessions.
func DisableUser(ctx context.Context, db *store.DB, rdb *store.Redis, email string) (store.StaffUser, error) {
	u, err := db.StaffUserByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		return u, fmt.Errorf("There is no account for %s.", strings.TrimSpace(email))
	}
	if err != nil {
		return u, err
	}
	if err := db.DisableStaffUser(ctx, u.ID); err != nil {
		return u, err
	}
	return u, rdb.EndStaffSessions(ctx, u.ID)
}

// DemoAdminEmail is the account `haveyoursay dev` signs in with.
const DemoAdminEmail = "admin@example.org"

// EnsureDemoAdmin makes sure the dev server has an admin to sign in with
// and returns its e-mail address and a password. A new password is set
// each time, so the one printed always works.
func EnsureDemoAdmin(ctx context.Context, db *store.DB, rdb *store.Redis) (email, password string, err error) {
	password = strings.ToLower(rand.Text()[:16])
	_, err = db.StaffUserByEmail(ctx, DemoAdminEmail)
	switch {
	case errors.Is(err, store.ErrNotFound):
		_, err = AddUser(ctx, db, NewUser{Email: DemoAdminEmail, Name: "Demo admin", Role: Admin, Password: password})
	case err == nil:
		err = SetPassword(ctx, db, rdb, DemoAdminEmail, password)
	}
	if err != nil {
		return "", "", fmt.Errorf("making the demo admin: %w", err)
	}
	return DemoAdminEmail, password, nil
}
