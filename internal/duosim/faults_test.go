// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duosim

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func authQuery() (string, map[string][]string) {
	return "/admin/v2/logs/authentication", msq("mintime", ms(t0.Add(-time.Hour)), "maxtime", ms(t0), "limit", "1000")
}

func TestFaults(t *testing.T) {
	path, q := authQuery()
	tests := []struct {
		name   string
		faults Faults
		check  func(t *testing.T, r result)
	}{
		{"P429", Faults{P429: 1}, func(t *testing.T, r result) {
			if e := decodeErr(t, r.body); r.status != 429 || e.Code != 42901 || e.Message != "Too Many Requests" {
				t.Fatalf("%d %s", r.status, r.body)
			}
			if r.hdr.Get("Retry-After") != "" {
				t.Fatal("Duo sends no Retry-After (docs/duo-api.md §1.6)")
			}
		}},
		{"P5xx", Faults{P5xx: 1}, func(t *testing.T, r result) {
			if r.status != 500 && r.status != 502 && r.status != 503 {
				t.Fatalf("status %d", r.status)
			}
		}},
		{"PTruncate", Faults{PTruncate: 1}, func(t *testing.T, r result) {
			if r.status != 200 || json.Valid(r.body) || len(r.body) == 0 {
				t.Fatalf("status %d, valid JSON %v (%d bytes)", r.status, json.Valid(r.body), len(r.body))
			}
		}},
		{"none", Faults{}, func(t *testing.T, r result) {
			if r.status != 200 || !json.Valid(r.body) {
				t.Fatalf("status %d", r.status)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := New(Config{Now: fixedClock(t0), Seed: 21, Faults: tc.faults})
			s.Backfill("authentication", 100, t0.Add(-time.Hour), t0)
			for i := 0; i < 20; i++ {
				tc.check(t, do(t, s, defaultSigner(), t0, path, q))
			}
		})
	}
}

// TestFaultsAfterAuthentication: a request with bad credentials gets its
// 401, whatever faults are set.
func TestFaultsAfterAuthentication(t *testing.T) {
	path, q := authQuery()
	s := New(Config{Now: fixedClock(t0), Faults: Faults{P429: 1, P5xx: 1}})
	r := do(t, s, signer{ikey: DefaultIntegrationKey, skey: "wrong"}, t0, path, q)
	if r.status != 401 {
		t.Fatalf("status %d", r.status)
	}
}

func TestRateLimit(t *testing.T) {
	path, q := authQuery()
	clock := t0
	s := New(Config{Now: func() time.Time { return clock }, Faults: Faults{RateLimit: 2}})
	steps := []struct {
		advance time.Duration
		path    string
		status  int
	}{
		{0, path, 200},
		{0, path, 200},                       // burst of 2
		{0, path, 429},                       // over the limit
		{0, "/admin/v2/logs/telephony", 200}, // another endpoint has its own bucket
		{10 * time.Second, path, 429},        // 1/3 token
		{20 * time.Second, path, 200},        // 30 s at 2/min: one token
		{0, path, 429},
	}
	for i, st := range steps {
		clock = clock.Add(st.advance)
		r := do(t, s, defaultSigner(), clock, st.path, q)
		if r.status != st.status {
			t.Fatalf("step %d: status %d, want %d: %s", i, r.status, st.status, r.body)
		}
		if r.status == 429 && decodeErr(t, r.body).Code != 42901 {
			t.Fatalf("step %d: %s", i, r.body)
		}
	}
	stats := s.Stats()
	if got := stats.Requests[path][429]; got != 3 {
		t.Fatalf("stats: %d 429s on %s, want 3 (%v)", got, path, stats.Requests)
	}
	s.SetFaults(Faults{})
	if r := do(t, s, defaultSigner(), clock, path, q); r.status != 200 {
		t.Fatalf("after SetFaults: %d", r.status)
	}
}

// TestSlowHonoursContext: a slow response ends when the client gives up.
func TestSlowHonoursContext(t *testing.T) {
	path, q := authQuery()
	s := New(Config{Now: fixedClock(t0), Faults: Faults{PSlow: 1, Slow: time.Hour}})
	ctx, cancel := context.WithCancel(context.Background())
	req := httptest.NewRequest(http.MethodGet, path+"?"+encode(q), nil).WithContext(ctx)
	defaultSigner().sign(req, t0, nil)
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.ServeHTTP(httptest.NewRecorder(), req)
	}()
	cancel()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("slow response ignored the request's context")
	}
	if got := s.Stats().Requests[path][499]; got != 1 {
		t.Fatalf("abandoned requests counted %d", got)
	}
}

func TestStats(t *testing.T) {
	s := New(Config{Now: fixedClock(t0), Seed: 22})
	s.Backfill("administrator", 1500, t0.Add(-time.Hour), t0.Add(-5*time.Minute))
	do(t, s, defaultSigner(), t0, "/admin/v1/logs/administrator", msq("mintime", "0"))
	do(t, s, signer{ikey: "x", skey: "y"}, t0, "/admin/v1/logs/administrator", msq("mintime", "0"))
	st := s.Stats()
	p := "/admin/v1/logs/administrator"
	if st.Requests[p][200] != 1 || st.Requests[p][401] != 1 || st.Records[p] != 1000 || st.MaxPageSize != 1000 {
		t.Fatalf("stats %+v", st)
	}
}
