// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duosim

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
)

type vector struct {
	ID                   string              `json:"id"`
	Kind                 string              `json:"kind"`
	Params               map[string][]string `json:"params"`
	ExpectedParams       *string             `json:"expected_canonical_params"`
	Date                 string              `json:"date"`
	Method               string              `json:"method"`
	Host                 string              `json:"host"`
	Path                 string              `json:"path"`
	Body                 *string             `json:"body"`
	IKey                 string              `json:"ikey"`
	SKey                 string              `json:"skey"`
	XDuoHeaders          map[string]string   `json:"x_duo_headers"`
	XDuoHeadersSigned    map[string]string   `json:"x_duo_headers_signed"`
	RequestHeadersIn     map[string]string   `json:"request_headers_in"`
	ExpectedCanonical    *string             `json:"expected_canonical"`
	ExpectedLines        map[string]string   `json:"expected_canonical_lines"`
	ExpectedXDuoHash     *string             `json:"expected_x_duo_headers_sha512"`
	ExpectedAuthz        string              `json:"expected_authorization"`
	ExpectedSHA512       *string             `json:"expected_sha512_hex"`
	Input                *string             `json:"input"`
	ExpectedSignatureHex string              `json:"expected_signature_hex"`
}

func loadVectors(t *testing.T) []vector {
	t.Helper()
	b, err := os.ReadFile("testdata/signing-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var vs []vector
	if err := json.Unmarshal(b, &vs); err != nil {
		t.Fatal(err)
	}
	return vs
}

func headerOf(m map[string]string) http.Header {
	h := http.Header{}
	for k, v := range m {
		h.Add(k, v)
	}
	return h
}

func strOr(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// vectorRequest builds the request a client would send for a signature
// vector: v2 POST parameters form-encoded in the body, v5 and GET
// parameters in the query, the date in Date or (duo_hmac) X-Duo-Date.
func vectorRequest(t *testing.T, v vector) (*http.Request, []byte) {
	t.Helper()
	body := []byte(strOr(v.Body))
	query := url.Values(v.Params).Encode()
	isV2Post := v.Kind != "v5_signature" && !strings.EqualFold(v.Method, "GET")
	if isV2Post {
		body = []byte(query)
		query = ""
	}
	target := v.Path
	if query != "" {
		target += "?" + query
	}
	req := httptest.NewRequest(http.MethodGet, target, bytes.NewReader(body))
	req.Method = v.Method
	if isV2Post {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else if len(body) > 0 {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, val := range v.RequestHeadersIn {
		req.Header.Add(k, val)
	}
	for k, val := range v.XDuoHeaders {
		req.Header.Add(k, val)
	}
	if d, ok := v.XDuoHeadersSigned["x-duo-date"]; ok {
		req.Header.Set("X-Duo-Date", d)
	} else {
		req.Header.Set("Date", v.Date)
	}
	req.Header.Set("Authorization", v.ExpectedAuthz)
	return req, body
}

// TestSigningVectors checks the verifier against every vector in
// signing-vectors.json (docs/duo-api.md §2.4).
func TestSigningVectors(t *testing.T) {
	vs := loadVectors(t)
	checked := map[string]int{}
	for _, v := range vs {
		t.Run(v.ID, func(t *testing.T) {
			canon := canonInput{date: v.Date, method: v.Method, host: v.Host, path: v.Path, params: canonParams(v.Params)}
			switch v.Kind {
			case "canonical_params":
				if got := canonParams(v.Params); got != *v.ExpectedParams {
					t.Fatalf("canonParams = %q, want %q", got, *v.ExpectedParams)
				}
			case "v2_canonical":
				got := canon.v2()
				if v.ExpectedCanonical != nil && got != *v.ExpectedCanonical {
					t.Fatalf("v2 canonical = %q, want %q", got, *v.ExpectedCanonical)
				}
				if v.ExpectedLines != nil {
					want := strings.Join([]string{v.ExpectedLines["line1_date"], v.ExpectedLines["line2_method"],
						v.ExpectedLines["line3_host"], v.ExpectedLines["line4_path"], v.ExpectedLines["line5_params"]}, "\n")
					if got != want {
						t.Fatalf("v2 canonical = %q, want %q", got, want)
					}
				}
			case "v5_canonical":
				xh, err := xDuoHeadersHash(headerOf(v.XDuoHeaders))
				if err != nil {
					t.Fatal(err)
				}
				if v.ExpectedXDuoHash != nil && xh != *v.ExpectedXDuoHash {
					t.Fatalf("x-duo hash = %s, want %s", xh, *v.ExpectedXDuoHash)
				}
				got := canon.v2() + "\n" + sha512Hex([]byte(strOr(v.Body))) + "\n" + xh
				if got != *v.ExpectedCanonical {
					t.Fatalf("v5 canonical = %q, want %q", got, *v.ExpectedCanonical)
				}
			case "sha512_hex":
				if got := sha512Hex([]byte(*v.Input)); got != *v.ExpectedSHA512 {
					t.Fatalf("sha512 = %s, want %s", got, *v.ExpectedSHA512)
				}
			case "x_duo_headers_sha512":
				got, err := xDuoHeadersHash(headerOf(v.XDuoHeaders))
				if err != nil || got != *v.ExpectedSHA512 {
					t.Fatalf("x-duo hash = %s (%v), want %s", got, err, *v.ExpectedSHA512)
				}
			case "v2_signature", "v2_canonical_hmac_sha512_signature", "v5_signature":
				if v.ExpectedCanonical != nil && v.Kind != "v5_signature" && canon.v2() != *v.ExpectedCanonical {
					t.Fatalf("v2 canonical = %q, want %q", canon.v2(), *v.ExpectedCanonical)
				}
				date, err := parseDate(v.Date)
				if err != nil {
					t.Fatal(err)
				}
				// The vector's keys serve as both applications' keys: some
				// vectors sign the Accounts API's account list.
				s := New(Config{Host: v.Host, IntegrationKey: v.IKey, SecretKey: v.SKey,
					AccountsIntegrationKey: v.IKey, AccountsSecretKey: v.SKey, Now: fixedClock(date)})
				req, body := vectorRequest(t, v)
				if _, e := s.authenticate(req, body, date); e != nil {
					t.Fatalf("valid vector rejected: %d %s", e.status, e.body)
				}
				// Through ServeHTTP: authenticated, so not a 401 (a path the
				// simulator does not serve is a 404; the account list, which
				// the docs example signs, is served).
				req, _ = vectorRequest(t, v)
				rec := httptest.NewRecorder()
				s.ServeHTTP(rec, req)
				want := http.StatusNotFound
				if v.Path == accountListPath && v.Method == http.MethodPost {
					want = http.StatusOK
				}
				if rec.Code != want {
					t.Fatalf("ServeHTTP = %d %s, want %d after authentication", rec.Code, rec.Body, want)
				}
				// A flipped digit of the signature must fail.
				req, body = vectorRequest(t, v)
				_, pass, ok := req.BasicAuth()
				if !ok || (v.ExpectedSignatureHex != "" && pass != v.ExpectedSignatureHex) {
					t.Fatalf("expected_authorization does not hold the expected signature")
				}
				sig := []byte(pass)
				if sig[5] == '0' {
					sig[5] = '1'
				} else {
					sig[5] = '0'
				}
				req.SetBasicAuth(v.IKey, string(sig))
				if _, e := s.authenticate(req, body, date); e == nil || !bytes.Contains(e.body, []byte("40103")) {
					t.Fatalf("tampered signature not rejected with 40103: %+v", e)
				}
			default:
				t.Fatalf("vector kind %q not handled", v.Kind)
			}
			checked[v.Kind]++
		})
	}
	total := 0
	for _, n := range checked {
		total += n
	}
	if total != 34 || len(vs) != 34 {
		t.Fatalf("checked %d of %d vectors (%v), want all 34", total, len(vs), checked)
	}
	t.Logf("vectors checked by kind: %v", checked)
}

func TestAuthentication(t *testing.T) {
	authQ := msq("mintime", ms(t0.Add(-time.Hour)), "maxtime", ms(t0))
	rotated := New(Config{Now: fixedClock(t0)})
	rotated.SetCredentials("DINEWKEY000000000001", "newsecretkey000000000000000000000000000")
	tests := []struct {
		name   string
		sim    *Sim
		prep   func(req *http.Request)
		sg     signer
		date   time.Time
		status int
		code   int
	}{
		{name: "v2 sha512", sg: defaultSigner(), date: t0, status: 200},
		{name: "v2 sha1", sg: signer{ikey: DefaultIntegrationKey, skey: DefaultSecretKey, mode: signV2SHA1}, date: t0, status: 200},
		{name: "v5 sha512", sg: signer{ikey: DefaultIntegrationKey, skey: DefaultSecretKey, mode: signV5}, date: t0, status: 200},
		{name: "v5 with X-Duo-Date signed", sg: signer{ikey: DefaultIntegrationKey, skey: DefaultSecretKey, mode: signV5, xDuoDate: true}, date: t0, status: 200},
		{name: "v2 with X-Duo-Date", sg: signer{ikey: DefaultIntegrationKey, skey: DefaultSecretKey, mode: signV2SHA512, xDuoDate: true}, date: t0, status: 200},
		{name: "date within skew", sg: defaultSigner(), date: t0.Add(-4 * time.Minute), status: 200},
		{name: "missing credentials", sg: defaultSigner(), date: t0, prep: func(r *http.Request) { r.Header.Del("Authorization") }, status: 401, code: 40101},
		{name: "not basic", sg: defaultSigner(), date: t0, prep: func(r *http.Request) { r.Header.Set("Authorization", "Bearer x") }, status: 401, code: 40101},
		{name: "unknown ikey", sg: signer{ikey: "DIUNKNOWN00000000000", skey: DefaultSecretKey}, date: t0, status: 401, code: 40102},
		{name: "wrong skey", sg: signer{ikey: DefaultIntegrationKey, skey: "wrongsecret0000000000000000000000000000"}, date: t0, status: 401, code: 40103},
		{name: "wrong host", sg: signer{ikey: DefaultIntegrationKey, skey: DefaultSecretKey, host: "api-other.duosecurity.com"}, date: t0, status: 401, code: 40103},
		{name: "tampered params", sg: defaultSigner(), date: t0, prep: func(r *http.Request) { r.URL.RawQuery += "&limit=5" }, status: 401, code: 40103},
		{name: "date header changed after signing", sg: defaultSigner(), date: t0, prep: func(r *http.Request) {
			r.Header.Set("Date", t0.Add(time.Second).Format(time.RFC1123Z))
		}, status: 401, code: 40103},
		{name: "v5 x-duo header added after signing", sg: signer{ikey: DefaultIntegrationKey, skey: DefaultSecretKey, mode: signV5}, date: t0,
			prep: func(r *http.Request) { r.Header.Set("X-Duo-Extra", "1") }, status: 401, code: 40103},
		{name: "old date", sg: defaultSigner(), date: t0.Add(-6 * time.Minute), status: 401, code: 40105},
		{name: "future date", sg: defaultSigner(), date: t0.Add(6 * time.Minute), status: 401, code: 40105},
		{name: "sim clock offset", sim: New(Config{Now: fixedClock(t0), ClockOffset: 10 * time.Minute}), sg: defaultSigner(), date: t0, status: 401, code: 40105},
		{name: "sim clock offset, client corrected", sim: New(Config{Now: fixedClock(t0), ClockOffset: 10 * time.Minute}), sg: defaultSigner(), date: t0.Add(10 * time.Minute), status: 200},
		{name: "no date", sg: defaultSigner(), date: t0, prep: func(r *http.Request) { r.Header.Del("Date") }, status: 401, code: 40105},
		{name: "rotated: old ikey", sim: rotated, sg: defaultSigner(), date: t0, status: 401, code: 40102},
		{name: "rotated: old skey", sim: rotated, sg: signer{ikey: "DINEWKEY000000000001", skey: DefaultSecretKey}, date: t0, status: 401, code: 40103},
		{name: "rotated: new credentials", sim: rotated, sg: signer{ikey: "DINEWKEY000000000001", skey: "newsecretkey000000000000000000000000000"}, date: t0, status: 200},
		{name: "wire order and '+' encoding differ from canonical", sg: defaultSigner(), date: t0, prep: func(r *http.Request) {
			// Same decoded parameters, different bytes on the wire: still valid.
			q := r.URL.Query()
			r.URL.RawQuery = "sort=ts%3Aasc&maxtime=" + q.Get("maxtime") + "&mintime=" + q.Get("mintime") + "&users=a+b%7E"
		}, status: 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.sim
			if s == nil {
				s = New(Config{Now: fixedClock(t0)})
			}
			q := url.Values{}
			for k, v := range authQ {
				q[k] = v
			}
			if strings.HasPrefix(tc.name, "wire order") {
				q.Set("sort", "ts:asc")
				q.Set("users", "a b~")
			}
			req := httptest.NewRequest(http.MethodGet, "/admin/v2/logs/authentication?"+q.Encode(), nil)
			tc.sg.sign(req, tc.date, nil)
			if tc.prep != nil {
				tc.prep(req)
			}
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			if tc.code != 0 {
				e := decodeErr(t, rec.Body.Bytes())
				if e.Code != tc.code || e.Stat != "FAIL" || e.Message == "" {
					t.Fatalf("error %+v, want code %d", e, tc.code)
				}
			}
			wantDate := s.now().UTC().Format(http.TimeFormat)
			if got := rec.Header().Get("Date"); got != wantDate {
				t.Fatalf("Date header %q, want %q", got, wantDate)
			}
		})
	}
}

// TestOverHTTP exercises a real client and server.
func TestOverHTTP(t *testing.T) {
	s := New(Config{Seed: 3})
	now := time.Now()
	s.Backfill("authentication", 50, now.Add(-time.Hour), now.Add(-30*time.Minute))
	srv := httptest.NewServer(s)
	defer srv.Close()
	q := msq("mintime", ms(now.Add(-2*time.Hour)), "maxtime", ms(now.Add(-3*time.Minute)), "limit", "1000", "sort", "ts:asc")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/admin/v2/logs/authentication?"+q.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	signer{ikey: DefaultIntegrationKey, skey: DefaultSecretKey, mode: signV2SHA1}.sign(req, time.Now(), nil)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env struct {
		Stat     string `json:"stat"`
		Response struct {
			Authlogs []json.RawMessage `json:"authlogs"`
		} `json:"response"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || env.Stat != "OK" || len(env.Response.Authlogs) != 50 {
		t.Fatalf("status %d stat %q records %d", resp.StatusCode, env.Stat, len(env.Response.Authlogs))
	}
	if _, err := http.ParseTime(resp.Header.Get("Date")); err != nil {
		t.Fatalf("Date header: %v", err)
	}
}
