// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoapi

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/config/configretry"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const (
	testHost = "api-test0000.duosecurity.com"
	testIKey = "DITESTINTEGRATIONKY1"
	testSKey = "s3cr3tKEYs3cr3tKEYs3cr3tKEYs3cr3tKEYs3cr"
)

// recorder is an Observer that keeps what it is told.
type recorder struct {
	mu             sync.Mutex
	requests       []recordedRequest
	waits          []time.Duration
	skipped        []int64
	skippedRecords int
}

type recordedRequest struct {
	lt     LogType
	status int
	err    error
}

func (r *recorder) Request(lt LogType, status int, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests = append(r.requests, recordedRequest{lt, status, err})
}

func (r *recorder) RateLimitWait(_ LogType, wait time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.waits = append(r.waits, wait)
}

func (r *recorder) SkippedRecords(_ LogType, n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.skippedRecords += n
}

func (r *recorder) SkippedSecond(_ LogType, second int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.skipped = append(r.skipped, second)
}

func (r *recorder) statuses() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]int, len(r.requests))
	for i, q := range r.requests {
		out[i] = q.status
	}
	return out
}

func (r *recorder) skippedSeconds() []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int64(nil), r.skipped...)
}

// verifySignature checks r's Authorization the way Duo does: rebuilt from what arrived
// (the decoded query, the Date header, the configured host).
func verifySignature(r *http.Request, s Signing) error {
	date := r.Header.Get("Date")
	if date == "" {
		return fmt.Errorf("no Date header")
	}
	if _, err := time.Parse(time.RFC1123Z, date); err != nil {
		return fmt.Errorf("date %q is not RFC1123Z: %w", date, err)
	}
	want, err := s.authorization(testIKey, testSKey, request{
		date: date, method: r.Method, host: testHost, path: r.URL.Path, params: r.URL.Query(),
	})
	if err != nil {
		return err
	}
	if got := r.Header.Get("Authorization"); got != want {
		return fmt.Errorf("bad signature")
	}
	return nil
}

// writeJSON answers with status and body after checking the signature (v5).
func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body)) //nolint:gosec // a test server answering JSON
}

// answer is a handler giving every request the same status and body.
func answer(status int, body string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, status, body) }
}

// signed wraps h with a v5 signature check that answers 401 40103 on a bad signature.
func signed(t *testing.T, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := verifySignature(r, SigningV5); err != nil {
			t.Errorf("request %s: %v", r.URL, err)
			writeJSON(w, 401, `{"stat":"FAIL","code":40103,"message":"Invalid signature in request credentials"}`)
			return
		}
		h(w, r)
	}
}

type testClient struct {
	*Client
	rec  *recorder
	logs *observer.ObservedLogs
}

// newTestClient starts h and returns a client for it with fast retries, no budget and an
// observed debug logger. mod may change the config.
func newTestClient(t *testing.T, h http.Handler, mod func(*Config)) testClient {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	core, logs := observer.New(zapcore.DebugLevel)
	rec := &recorder{}
	cfg := Config{
		BaseURL:        srv.URL,
		Host:           testHost,
		IntegrationKey: testIKey,
		SecretKey:      testSKey,
		Retry: configretry.BackOffConfig{
			Enabled: true, InitialInterval: time.Millisecond, MaxInterval: 5 * time.Millisecond,
			Multiplier: 2, RandomizationFactor: 0.5, MaxElapsedTime: 10 * time.Second,
		},
		Observer: rec,
		Logger:   zap.New(core),
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg, srv.Client())
	require.NoError(t, err)
	return testClient{Client: c, rec: rec, logs: logs}
}

// collect runs Fetch and returns its pages.
func collect(t *testing.T, c *Client, lt LogType, w Window) ([]Page, error) {
	t.Helper()
	var pages []Page
	err := c.Fetch(t.Context(), lt, w, func(p Page) error {
		pages = append(pages, p)
		return nil
	})
	return pages, err
}
