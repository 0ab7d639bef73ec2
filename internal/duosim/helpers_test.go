// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duosim

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"
)

// t0 is a fixed simulator clock for tests.
var t0 = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

type result struct {
	status int
	body   []byte
	hdr    http.Header
}

// do sends a signed GET through ServeHTTP.
func do(t testing.TB, s *Sim, sg signer, date time.Time, path string, q url.Values) result {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path+"?"+q.Encode(), nil)
	sg.sign(req, date, nil)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	return result{status: rec.Code, body: rec.Body.Bytes(), hdr: rec.Header()}
}

// duoErr is Duo's error envelope.
type duoErr struct {
	Stat          string `json:"stat"`
	Code          int    `json:"code"`
	Message       string `json:"message"`
	MessageDetail string `json:"message_detail"`
}

func decodeErr(t testing.TB, b []byte) duoErr {
	t.Helper()
	var e duoErr
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("error body is not JSON: %v: %s", err, b)
	}
	return e
}

func msq(kv ...string) url.Values {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Add(kv[i], kv[i+1])
	}
	return q
}

func ms(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

func newSigned(t testing.TB, method, path string) *http.Request {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	defaultSigner().sign(req, t0, nil)
	return req
}

func serve(s *Sim, req *http.Request) result {
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	return result{status: rec.Code, body: rec.Body.Bytes(), hdr: rec.Header()}
}

func contextWithTimeout(t testing.TB, d time.Duration) (context.Context, context.CancelFunc) {
	t.Helper()
	return context.WithTimeout(context.Background(), d)
}

func encode(q url.Values) string { return q.Encode() }
