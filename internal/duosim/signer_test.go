// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duosim

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // Duo v2 signatures
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// A test-only signer, built on a different code path from the verifier:
// encoding by url.QueryEscape with fix-ups, canonical string by fmt-free
// concatenation, headers hashed from a sorted slice.

type signMode int

const (
	signV2SHA1 signMode = iota
	signV2SHA512
	signV5
)

type signer struct {
	ikey, skey, host string
	mode             signMode
	xDuoDate         bool // send the date as X-Duo-Date (and sign it, under v5)
}

func testEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

func testCanonParams(v url.Values) string {
	var parts []string
	for k, vs := range v {
		for _, x := range vs {
			parts = append(parts, testEscape(k)+"="+testEscape(x))
		}
	}
	sort.Slice(parts, func(i, j int) bool {
		ki, vi, _ := strings.Cut(parts[i], "=")
		kj, vj, _ := strings.Cut(parts[j], "=")
		if ki != kj {
			return ki < kj
		}
		return vi < vj
	})
	return strings.Join(parts, "&")
}

// sign sets the date and Authorization headers of req for the given date.
func (sg signer) sign(req *http.Request, date time.Time, body []byte) {
	ds := date.UTC().Format("Mon, 02 Jan 2006 15:04:05 -0000")
	host := sg.host
	if host == "" {
		host = DefaultHost
	}
	if sg.xDuoDate {
		req.Header.Set("X-Duo-Date", ds)
	} else {
		req.Header.Set("Date", ds)
	}
	canon := ds + "\n" + strings.ToUpper(req.Method) + "\n" + strings.ToLower(host) + "\n" +
		req.URL.Path + "\n" + testCanonParams(req.URL.Query())
	h := sha512.New
	switch sg.mode {
	case signV2SHA1:
		h = sha1.New
	case signV5:
		bh := sha512.Sum512(body)
		var names []string
		for k := range req.Header {
			if strings.HasPrefix(strings.ToLower(k), "x-duo-") {
				names = append(names, strings.ToLower(k))
			}
		}
		sort.Strings(names)
		var hv []string
		for _, n := range names {
			hv = append(hv, n, req.Header.Get(n))
		}
		xh := sha512.Sum512([]byte(strings.Join(hv, "\x00")))
		canon += "\n" + hex.EncodeToString(bh[:]) + "\n" + hex.EncodeToString(xh[:])
	}
	m := hmac.New(h, []byte(sg.skey))
	m.Write([]byte(canon))
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString(
		[]byte(sg.ikey+":"+hex.EncodeToString(m.Sum(nil)))))
}

func defaultSigner() signer {
	return signer{ikey: DefaultIntegrationKey, skey: DefaultSecretKey, mode: signV2SHA512}
}
