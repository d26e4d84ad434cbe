package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io"
	"strings"

	"golang.org/x/crypto/hkdf"
)

// Phones encrypts phone numbers at rest. A number is stored three ways:
// a keyed hash to find it, AES-GCM ciphertext to read it back (only when a
// text must be sent), and a masked form for staff to see.
type Phones struct {
	hashKey []byte
	aead    cipher.AEAD
}

// NewPhones derives the hashing and encryption keys from HYS_SECRET_KEY.
func NewPhones(secret string) (*Phones, error) {
	if len(secret) < 32 {
		return nil, errors.New("HYS_SECRET_KEY must be at least 32 characters")
	}
	derive := func(info string) []byte {
		k := make([]byte, 32)
		if _, err := io.ReadFull(hkdf.New(sha256.New, []byte(secret), nil, []byte(info)), k); err != nil {
			panic(err) // hkdf cannot fail for 32 bytes
		}
		return k
	}
	block, err := aes.NewCipher(derive("haveyoursay phone encryption v1"))
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Phones{hashKey: derive("haveyoursay phone lookup v1"), aead: aead}, nil
}

// Hash returns the lookup key of a number (the same number always gives the
// same hash; the hash does not reveal the number without the secret).
func (p *Phones) Hash(number string) []byte {
	m := hmac.New(sha256.New, p.hashKey)
	m.Write([]byte(number))
	return m.Sum(nil)
}

// HashString is Hash as lowercase hex, for Redis keys.
func (p *Phones) HashString(number string) string {
	const hexdigits = "0123456789abcdef"
	h := p.Hash(number)
	b := make([]byte, 0, 2*len(h))
	for _, c := range h[:16] {
		b = append(b, hexdigits[c>>4], hexdigits[c&15])
	}
	return string(b)
}

// Encrypt returns the number sealed with a random nonce.
func (p *Phones) Encrypt(number string) []byte {
	nonce := make([]byte, p.aead.NonceSize())
	rand.Read(nonce)
	return p.aead.Seal(nonce, nonce, []byte(number), []byte("phone"))
}

// Decrypt opens a number sealed by Encrypt.
func (p *Phones) Decrypt(sealed []byte) (string, error) {
	n := p.aead.NonceSize()
	if len(sealed) < n {
		return "", errors.New("a stored phone number is damaged")
	}
	plain, err := p.aead.Open(nil, sealed[:n], sealed[n:], []byte("phone"))
	if err != nil {
		return "", errors.New("a stored phone number cannot be read with this HYS_SECRET_KEY")
	}
	return string(plain), nil
}

// Mask shows only the country code and the last three digits, which is
// enough for staff to tell two people apart in a list:
// "+447700900123" becomes "+44 ••••••• 123".
func Mask(number string) string {
	digits := strings.TrimPrefix(number, "+")
	if len(digits) < 6 {
		return strings.Repeat("•", len(digits))
	}
	cc := 2
	if strings.HasPrefix(digits, "1") || strings.HasPrefix(digits, "7") {
		cc = 1
	}
	prefix := ""
	if strings.HasPrefix(number, "+") {
		prefix = "+" + digits[:cc] + " "
	} else {
		cc = 0
	}
	middle := len(digits) - cc - 3
	return prefix + strings.Repeat("•", middle) + " " + digits[len(digits)-3:]
}
