// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duosim

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // Duo's v2 signature is HMAC-SHA1 (docs/duo-api.md §2.1).
	"crypto/sha512"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"hash"
	"mime"
	"net/http"
	"net/mail"
	"net/url"
	"sort"
	"strings"
	"time"
)

// The verifier rebuilds the canonical request from what it received, the way
// Duo's server does (docs/duo-api.md §2): it decodes the query (and a form body), then
// re-encodes and sorts the parameters itself, so the wire order and encoding
// of the query string do not matter, only the decoded values.

// credKind is the application a key pair belongs to.
type credKind int

const (
	credAdmin    credKind = 1 << iota // the parent's Admin API application
	credAccounts                      // the parent's Accounts API application
)

// authenticate checks the request's credentials and returns the account it
// is for: the parent, or the child named by account_id. It answers 401 when
// the request is not signed by current credentials with a fresh Date, and
// 403 40301 when the keys are of the wrong application for the request.
func (s *Sim) authenticate(r *http.Request, body []byte, now time.Time) (*Account, *response) {
	if r.Header.Get("Authorization") == "" {
		return nil, errorResponse(401, 40101, "Missing request credentials", "")
	}
	user, pass, ok := r.BasicAuth()
	if !ok {
		return nil, errorResponse(401, 40101, "Missing request credentials", "Authorization is not HTTP Basic")
	}
	type cred struct {
		skey string
		kind credKind
	}
	var creds []cred
	ikey, skey := s.credentials()
	aikey, askey := s.accountsCredentials()
	if subtle.ConstantTimeCompare([]byte(user), []byte(ikey)) == 1 {
		creds = append(creds, cred{skey, credAdmin})
	}
	if subtle.ConstantTimeCompare([]byte(user), []byte(aikey)) == 1 {
		creds = append(creds, cred{askey, credAccounts})
	}
	if len(creds) == 0 {
		return nil, errorResponse(401, 40102, "Invalid integration key in request credentials", "")
	}
	sig, err := hex.DecodeString(pass)
	if err != nil || (len(sig) != sha1.Size && len(sig) != sha512.Size) {
		return nil, badSignature()
	}

	// docs/duo-api.md §2: the date may come in Date or X-Duo-Date.
	var dates []string
	for _, name := range []string{"Date", "X-Duo-Date"} {
		if v := r.Header.Get(name); v != "" && (len(dates) == 0 || dates[0] != v) {
			dates = append(dates, v)
		}
	}
	if len(dates) == 0 {
		return nil, errorResponse(401, 40105, "Bad request timestamp", "no Date or X-Duo-Date header")
	}

	params, err := requestParams(r, body)
	if err != nil {
		return nil, badSignature()
	}
	// A request for a child is signed for the child's api_hostname; the
	// parent's is accepted too unless StrictChildHost (docs/duo-api.md §3.9).
	// A child that has left the list keeps its hostname, and is refused
	// after the signature check.
	accountID := firstOr(params["account_id"], "")
	child := s.child(accountID)
	hosts := []string{s.host}
	if child != nil {
		switch ch := child.APIHostname(); {
		case s.strictChildHost:
			hosts = []string{ch}
		case !strings.EqualFold(ch, s.host):
			hosts = []string{ch, s.host}
		}
	}
	in := canonInput{
		method: r.Method,
		path:   r.URL.Path,
		params: canonParams(params),
	}
	var v5Tail string
	if len(sig) == sha512.Size {
		xh, err := xDuoHeadersHash(r.Header)
		if err != nil {
			return nil, badSignature()
		}
		v5Tail = sha512Hex(body) + "\n" + xh
	}

	matched := ""
	var kind credKind
	for _, c := range creds {
		for _, host := range hosts {
			in.host = host
			for _, d := range dates {
				in.date = d
				var ok bool
				switch len(sig) {
				case sha1.Size:
					ok = macEqual(sha1.New, c.skey, in.v2(), sig)
				case sha512.Size:
					// Detect the canonical form by trying both (docs/duo-api.md §2.1, §2.2).
					ok = macEqual(sha512.New, c.skey, in.v2(), sig) ||
						macEqual(sha512.New, c.skey, in.v2()+"\n"+v5Tail, sig)
				}
				if ok && matched == "" {
					matched = d
				}
				if ok {
					kind |= c.kind
				}
			}
		}
	}
	if matched == "" {
		return nil, badSignature()
	}
	t, err := parseDate(matched)
	if err != nil {
		return nil, errorResponse(401, 40105, "Bad request timestamp", "the request date cannot be parsed")
	}
	if d := t.Sub(now); d > s.skew || d < -s.skew {
		return nil, errorResponse(401, 40105, "Bad request timestamp", "")
	}
	return s.authorize(r.URL.Path, kind, params["account_id"], child)
}

// authorize checks that the application whose keys signed the request may
// make it: the Accounts API keys list children and read any child, the
// Admin API keys read the parent. A wrong pairing is Duo's 403 40301
// "Wrong integration type for this API." (docs/duo-api.md §1.1).
func (s *Sim) authorize(path string, kind credKind, accountIDs []string, child *Account) (*Account, *response) {
	wrongType := errorResponse(http.StatusForbidden, 40301, "Access forbidden", "Wrong integration type for this API.")
	switch {
	case strings.HasPrefix(path, "/accounts/"):
		if kind&credAccounts == 0 {
			return nil, wrongType
		}
		return s.parent, nil
	case len(accountIDs) > 0:
		if kind&credAccounts == 0 {
			return nil, wrongType
		}
		if len(accountIDs) > 1 {
			return nil, paramError("'account_id' given more than once")
		}
		if child == nil || s.listedChild(child.id) == nil {
			// Not documented; the simulator's reading is that a parent has
			// no access to an account that is not its child [U].
			return nil, errorResponse(http.StatusForbidden, 40301, "Access forbidden", "account_id is not a child account of this parent")
		}
		return child, nil
	}
	if kind&credAdmin == 0 {
		return nil, wrongType
	}
	return s.parent, nil
}

func badSignature() *response {
	return errorResponse(401, 40103, "Invalid signature in request credentials", "")
}

func macEqual(h func() hash.Hash, key, msg string, sig []byte) bool {
	m := hmac.New(h, []byte(key))
	m.Write([]byte(msg))
	return hmac.Equal(m.Sum(nil), sig)
}

func sha512Hex(b []byte) string {
	sum := sha512.Sum512(b)
	return hex.EncodeToString(sum[:])
}

// canonInput holds canonical lines 1-5 (docs/duo-api.md §2.1).
type canonInput struct {
	date, method, host, path, params string
}

func (c canonInput) v2() string {
	return strings.Join([]string{
		c.date,
		strings.ToUpper(c.method),
		strings.ToLower(c.host),
		c.path,
		c.params,
	}, "\n")
}

// requestParams collects the decoded request parameters: the query string,
// plus a form-encoded body for POST/PUT/PATCH signed with v2 (docs/duo-api.md §1.2).
func requestParams(r *http.Request, body []byte) (map[string][]string, error) {
	params, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, err
	}
	if len(body) > 0 && r.Method != http.MethodGet && r.Method != http.MethodDelete {
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if ct == "application/x-www-form-urlencoded" {
			form, err := url.ParseQuery(string(body))
			if err != nil {
				return nil, err
			}
			for k, vs := range form {
				params[k] = append(params[k], vs...)
			}
		}
	}
	return params, nil
}

// canonParams builds canonical line 5 (docs/duo-api.md §2.3): every key and value
// percent-encoded with only RFC 3986 unreserved bytes left as they are and
// upper-case hex, pairs sorted by encoded key and then by encoded value,
// joined with '&'.
func canonParams(params map[string][]string) string {
	type pair struct{ k, v string }
	pairs := make([]pair, 0, len(params))
	for k, vs := range params {
		ek := duoEscape(k)
		for _, v := range vs {
			pairs = append(pairs, pair{ek, duoEscape(v)})
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	var sb strings.Builder
	for i, p := range pairs {
		if i > 0 {
			sb.WriteByte('&')
		}
		sb.WriteString(p.k)
		sb.WriteByte('=')
		sb.WriteString(p.v)
	}
	return sb.String()
}

func duoEscape(s string) string {
	const upperHex = "0123456789ABCDEF"
	var sb strings.Builder
	sb.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9',
			c == '-', c == '.', c == '_', c == '~':
			sb.WriteByte(c)
		default:
			sb.WriteByte('%')
			sb.WriteByte(upperHex[c>>4])
			sb.WriteByte(upperHex[c&0xf])
		}
	}
	return sb.String()
}

var errHeader = errors.New("invalid X-Duo header")

// xDuoHeadersHash is canonical line 7 of v5 (docs/duo-api.md §2.2): the X-Duo-*
// headers, names lower-cased and sorted, joined name,value,... with NUL,
// SHA-512 hex. A header sent twice or containing NUL is refused.
func xDuoHeadersHash(h http.Header) (string, error) {
	type kv struct{ k, v string }
	var list []kv
	for name, vs := range h {
		ln := strings.ToLower(name)
		if !strings.HasPrefix(ln, "x-duo-") {
			continue
		}
		if len(vs) != 1 || strings.ContainsRune(vs[0], 0) {
			return "", errHeader
		}
		list = append(list, kv{ln, vs[0]})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].k < list[j].k })
	parts := make([]string, 0, 2*len(list))
	for _, e := range list {
		parts = append(parts, e.k, e.v)
	}
	return sha512Hex([]byte(strings.Join(parts, "\x00"))), nil
}

// parseDate reads an RFC 2822 / RFC 1123Z date (docs/duo-api.md §2): Python's
// "-0000" form, Go's "+0000" form, and HTTP's "GMT" form.
func parseDate(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC1123Z, time.RFC1123, http.TimeFormat} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return mail.ParseDate(s)
}
