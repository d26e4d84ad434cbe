// Package webhook checks (and, for the Twilio emulator, computes) Twilio's
// request signatures, the X-Twilio-Signature header that Twilio sends with
// every webhook request.
//
// The algorithm (Twilio's documentation and official SDKs): take the full URL
// that Twilio requested, query string included; append every POST parameter,
// sorted by name, as name followed by value with no separator (all values of
// a repeated name, sorted and de-duplicated); HMAC-SHA1 with the account's
// auth token as key; base64. Twilio is inconsistent about default ports, so a
// signature computed with or without the port is accepted.
package webhook

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// SignatureHeader is the HTTP header that carries Twilio's request signature.
const SignatureHeader = "X-Twilio-Signature"

// Sign returns the signature Twilio would send for a request to fullURL
// (exactly as requested, query string included) with the POST parameters
// form. Pass a nil or empty form for GET requests and JSON bodies.
func Sign(authToken, fullURL string, form url.Values) string {
	return sign(authToken, fullURL, signedParams(form))
}

// signedParams is the part of what is signed that follows the URL: every
// parameter, sorted by name, as name then value (all values of a repeated
// name, sorted and de-duplicated).
func signedParams(form url.Values) []byte {
	names := make([]string, 0, len(form))
	size := 0
	for name, values := range form {
		names = append(names, name)
		for _, v := range values {
			size += len(name) + len(v)
		}
	}
	slices.Sort(names)
	b := make([]byte, 0, size)
	for _, name := range names {
		values := form[name]
		if len(values) > 1 {
			values = slices.Compact(slices.Sorted(slices.Values(values)))
		}
		for _, v := range values {
			b = append(b, name...)
			b = append(b, v...)
		}
	}
	return b
}

func sign(authToken, fullURL string, params []byte) string {
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(fullURL))
	mac.Write(params)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Valid reports whether signature is Twilio's signature of a request to
// fullURL with the POST parameters form. Like Twilio's SDKs it accepts the
// signature computed on the URL as given and on the URL with its port
// removed (when it has one) or with the scheme's default port added (when it
// has none). The comparison is constant-time.
func Valid(authToken, fullURL string, form url.Values, signature string) bool {
	if signature == "" {
		return false
	}
	params := signedParams(form)
	ok := false
	for _, u := range urlVariants(fullURL) {
		// Evaluate every variant: no early exit, so timing does not depend
		// on which variant matched.
		if equal(sign(authToken, u, params), signature) {
			ok = true
		}
	}
	return ok
}

func equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// urlVariants returns fullURL itself plus the same URL with its port removed
// or the default port added. Only the host part of the string is rewritten:
// the rest of the URL stays byte for byte as it was, since the signature is
// computed over the literal string.
func urlVariants(fullURL string) []string {
	variants := []string{fullURL}
	u, err := url.Parse(fullURL)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return variants
	}
	i := strings.Index(fullURL, "://")
	if i < 0 {
		return variants
	}
	head := fullURL[:i+3]
	rest := fullURL[i+3:]
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority, tail := rest[:end], rest[end:]
	userinfo := ""
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		userinfo, authority = authority[:at+1], authority[at+1:]
	}
	host := u.Hostname()
	if strings.Contains(host, ":") { // IPv6 literal
		host = "[" + host + "]"
	}
	var other string
	if u.Port() != "" {
		other = host
	} else {
		var port int
		switch strings.ToLower(u.Scheme) {
		case "https":
			port = 443
		case "http":
			port = 80
		default:
			return variants
		}
		other = net.JoinHostPort(u.Hostname(), strconv.Itoa(port))
	}
	if other != authority {
		variants = append(variants, head+userinfo+other+tail)
	}
	return variants
}
