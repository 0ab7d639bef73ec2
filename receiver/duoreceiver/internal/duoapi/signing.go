// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoapi

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // HMAC-SHA1 is one of the digests Duo accepts (docs/duo-api.md §2.1); only used when configured.
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"sort"
	"strings"
)

// Signing selects how requests are signed (docs/duo-api.md §2).
type Signing string

const (
	// SigningV5 is the 7-line canonical request (docs/duo-api.md §2.2) signed with HMAC-SHA512.
	SigningV5 Signing = "v5"
	// SigningV2SHA512 is the 5-line canonical request (docs/duo-api.md §2.1) signed with HMAC-SHA512,
	// what duo_api_golang, duo_api_nodejs and duo_client_java send.
	SigningV2SHA512 Signing = "v2-sha512"
	// SigningV2SHA1 is the 5-line canonical request signed with HMAC-SHA1, Duo's original
	// documented scheme.
	SigningV2SHA1 Signing = "v2-sha1"

	// DefaultSigning is what "" means. v5 is the default of duo_client_python since June
	// 2023 (commit 0758e86) and the only scheme duo_hmac_python, Duo's reference signer,
	// emits (docs/duo-api.md §2.2); it is Duo's current scheme, it binds the body and the X-Duo
	// headers as well, and it uses SHA-512 where the old documentation used SHA-1.
	DefaultSigning = SigningV5
)

// Validate reports whether s names a known signing scheme ("" is the default).
func (s Signing) Validate() error {
	switch s {
	case "", SigningV5, SigningV2SHA512, SigningV2SHA1:
		return nil
	}
	return fmt.Errorf("unknown signing %q: want %q, %q or %q", string(s), SigningV5, SigningV2SHA512, SigningV2SHA1)
}

// sha512Empty is the hex SHA-512 of "", line 6 of a v5 GET and line 7 without X-Duo
// headers (docs/duo-api.md §2.2).
const sha512Empty = "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"

// canonParams builds line 5 of the canonical request with duo_client_python's algorithm
// (docs/duo-api.md §2.3): every key and value percent-encoded leaving only RFC 3986 unreserved
// characters, upper-case hex, pairs sorted by encoded key and, within a key, by encoded
// value, joined with '&'.
func canonParams(params map[string][]string) string {
	if len(params) == 0 {
		return ""
	}
	type pair struct{ k, v string }
	pairs := make([]pair, 0, len(params))
	for k, vs := range params {
		ek := escape(k)
		for _, v := range vs {
			pairs = append(pairs, pair{ek, escape(v)})
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String()
}

func unreserved(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// escape percent-encodes every byte of s but the RFC 3986 unreserved ones, with upper-case
// hex (a space is %20, never '+').
func escape(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hexUpper = "0123456789ABCDEF"
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			b = append(b, c)
			continue
		}
		b = append(b, '%', hexUpper[c>>4], hexUpper[c&15])
	}
	return string(b)
}

// canonicalV2 is the 5-line canonical request (docs/duo-api.md §2.1): date, upper-cased method,
// lower-cased host, path, canonical parameters, joined by '\n' with no trailing newline.
func canonicalV2(date, method, host, path, params string) string {
	return strings.Join([]string{date, strings.ToUpper(method), strings.ToLower(host), path, params}, "\n")
}

// canonicalV5 is the 7-line canonical request (docs/duo-api.md §2.2): the five v2 lines, the hex
// SHA-512 of the body and the hex SHA-512 of the canonical X-Duo header string.
func canonicalV5(date, method, host, path, params string, body []byte, xDuoHash string) string {
	bodyHash := sha512Empty
	if len(body) > 0 {
		bodyHash = sha512Hex(body)
	}
	return canonicalV2(date, method, host, path, params) + "\n" + bodyHash + "\n" + xDuoHash
}

func sha512Hex(b []byte) string {
	sum := sha512.Sum512(b)
	return hex.EncodeToString(sum[:])
}

// canonXDuoHeaders hashes the X-Duo-* headers a v5 request signs (docs/duo-api.md §2.2): names
// lower-cased and sorted, then name, value, name, value... joined with NUL, SHA-512 hex.
// Like duo_client_python it rejects a name that does not start with x-duo-, a NUL in a
// name or value, and a name given twice (case-insensitively).
func canonXDuoHeaders(headers map[string]string) (string, error) {
	if len(headers) == 0 {
		return sha512Empty, nil
	}
	lower := make(map[string]string, len(headers))
	names := make([]string, 0, len(headers))
	for name, value := range headers {
		n := strings.ToLower(name)
		if !strings.HasPrefix(n, "x-duo-") {
			return "", fmt.Errorf("header %q is not an x-duo- header", name)
		}
		if strings.IndexByte(n, 0) >= 0 || strings.IndexByte(value, 0) >= 0 {
			return "", fmt.Errorf("header %q contains a NUL byte", name)
		}
		if _, dup := lower[n]; dup {
			return "", fmt.Errorf("header %q given twice", name)
		}
		lower[n] = value
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, 0, 2*len(names))
	for _, n := range names {
		parts = append(parts, n, lower[n])
	}
	return sha512Hex([]byte(strings.Join(parts, "\x00"))), nil
}

// request is what a signature covers.
type request struct {
	date, method, host, path string
	params                   map[string][]string
	body                     []byte
	xDuo                     map[string]string // X-Duo-* headers sent and signed (v5 only)
}

var errXDuoV2 = errors.New("x-duo headers can only be signed with v5")

// canonical returns the string to sign under s and the HMAC hash to sign it with.
func (s Signing) canonical(r request) (string, func() hash.Hash, error) {
	params := canonParams(r.params)
	switch s {
	case "", SigningV5:
		xh, err := canonXDuoHeaders(r.xDuo)
		if err != nil {
			return "", nil, err
		}
		return canonicalV5(r.date, r.method, r.host, r.path, params, r.body, xh), sha512.New, nil
	case SigningV2SHA512, SigningV2SHA1:
		if len(r.xDuo) > 0 {
			return "", nil, errXDuoV2
		}
		h := sha512.New
		if s == SigningV2SHA1 {
			h = sha1.New
		}
		return canonicalV2(r.date, r.method, r.host, r.path, params), h, nil
	}
	return "", nil, s.Validate()
}

// signature returns the lower-case hex HMAC of r under s, keyed with skey.
func (s Signing) signature(skey string, r request) (string, error) {
	canon, h, err := s.canonical(r)
	if err != nil {
		return "", err
	}
	mac := hmac.New(h, []byte(skey))
	mac.Write([]byte(canon))
	return hex.EncodeToString(mac.Sum(nil)), nil
}

// authorization returns the Authorization header value for r: HTTP Basic with the
// integration key as user and the hex signature as password (docs/duo-api.md §2). The value is a
// credential: it must never reach a log line or an error.
func (s Signing) authorization(ikey, skey string, r request) (string, error) {
	sig, err := s.signature(skey, r)
	if err != nil {
		return "", err
	}
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(ikey+":"+sig)), nil
}
