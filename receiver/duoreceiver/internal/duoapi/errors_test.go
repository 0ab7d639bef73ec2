// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/config/configretry"
)

const (
	okAuthPage = `{"stat":"OK","response":{"authlogs":[{"txid":"t1","isotimestamp":"2026-11-20T10:00:00.000001+00:00","timestamp":1795168800}],"metadata":{"next_offset":null}}}`
	truncated  = `{"stat":"OK","response":{"authlogs":[{"txid":"t1","isotimestamp":"2026-11-20T10:0`
)

// scripted answers the i-th request with steps[i] (the last step repeats).
type scripted struct {
	t     *testing.T
	mu    sync.Mutex
	n     int
	auths []string
	steps []func(w http.ResponseWriter, r *http.Request)
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	i := min(s.n, len(s.steps)-1)
	s.n++
	s.auths = append(s.auths, r.Header.Get("Authorization"))
	s.mu.Unlock()
	assert.NoError(s.t, verifySignature(r, SigningV5))
	s.steps[i](w, r)
}

func (s *scripted) authorizations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.auths...)
}

func (s *scripted) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

// hangUp closes the connection without an answer: a transport error.
func hangUp(w http.ResponseWriter, _ *http.Request) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		_ = conn.Close()
	}
}

// cutBody promises a long body and sends part of it.
func cutBody(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Length", "4096")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, truncated)
}

func window() Window { return Window{Start: testNow.Add(-2 * time.Hour), End: testNow.Add(-time.Hour)} }

func TestRetriedToSuccess(t *testing.T) {
	tests := []struct {
		name         string
		steps        []func(http.ResponseWriter, *http.Request)
		wantStatuses []int
		wantWaits    bool // a 429 backoff is reported as a rate-limit wait
	}{
		{"429", []func(http.ResponseWriter, *http.Request){
			answer(429, `{"stat":"FAIL","code":42901,"message":"Too Many Requests"}`), answer(200, okAuthPage),
		}, []int{429, 200}, true},
		{"500 502 503", []func(http.ResponseWriter, *http.Request){
			answer(500, `{"stat":"FAIL","code":50000,"message":"Internal server error"}`),
			answer(502, `<html>bad gateway</html>`),
			answer(503, ``),
			answer(200, okAuthPage),
		}, []int{500, 502, 503, 200}, false},
		{"truncated JSON", []func(http.ResponseWriter, *http.Request){
			answer(200, truncated), answer(200, okAuthPage),
		}, []int{200, 200}, false},
		{"body cut short", []func(http.ResponseWriter, *http.Request){
			cutBody, answer(200, okAuthPage),
		}, []int{200, 200}, false},
		{"connection closed", []func(http.ResponseWriter, *http.Request){
			hangUp, answer(200, okAuthPage),
		}, []int{0, 200}, false},
		{"200 with stat FAIL 42901", []func(http.ResponseWriter, *http.Request){
			answer(200, `{"stat":"FAIL","code":42901,"message":"Too Many Requests"}`), answer(200, okAuthPage),
		}, []int{200, 200}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := &scripted{t: t, steps: tt.steps}
			c := newTestClient(t, srv, func(c *Config) { c.Now = fixedNow })
			pages, err := collect(t, c.Client, Authentication, window())
			require.NoError(t, err)
			require.Len(t, pages, 1)
			require.Len(t, pages[0].Records, 1)
			assert.Equal(t, "t1", pages[0].Records[0].ID)
			assert.Equal(t, tt.wantStatuses, c.rec.statuses())
			c.rec.mu.Lock()
			for i, q := range c.rec.requests {
				assert.Equal(t, Authentication, q.lt)
				if i < len(c.rec.requests)-1 {
					assert.True(t, IsRetryable(q.err), "attempt %d: %v", i, q.err)
				} else {
					assert.NoError(t, q.err)
				}
			}
			assert.Equal(t, tt.wantWaits, len(c.rec.waits) > 0)
			c.rec.mu.Unlock()
		})
	}
}

func TestRetryLimits(t *testing.T) {
	tests := []struct {
		name      string
		retry     configretry.BackOffConfig
		wantCalls func(n int) bool
	}{
		{"disabled: one attempt", configretry.BackOffConfig{Enabled: false}, func(n int) bool { return n == 1 }},
		{"gives up after max elapsed time", configretry.BackOffConfig{
			Enabled: true, InitialInterval: 20 * time.Millisecond, MaxInterval: 20 * time.Millisecond, MaxElapsedTime: 100 * time.Millisecond,
		}, func(n int) bool { return n >= 2 && n <= 7 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := &scripted{t: t, steps: []func(http.ResponseWriter, *http.Request){answer(503, "")}}
			c := newTestClient(t, srv, func(c *Config) { c.Now = fixedNow; c.Retry = tt.retry })
			_, err := collect(t, c.Client, Telephony, window())
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, 503, apiErr.Status)
			assert.Equal(t, "Service Unavailable", apiErr.Message)
			assert.True(t, IsRetryable(err))
			assert.True(t, tt.wantCalls(srv.count()), "calls: %d", srv.count())
		})
	}
}

func TestErrorsTyped(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		body      string
		want      APIError
		wantText  string
		wantCreds bool
	}{
		{"400 string code with detail", 400, `{"stat":"FAIL","code":"40002","message":"Invalid request parameters","message_detail":"mintime must be within the past 180 days"}`,
			APIError{Status: 400, Code: 40002, Message: "Invalid request parameters", Detail: "mintime must be within the past 180 days"},
			"duo api: GET /admin/v2/logs/authentication: 400 40002 Invalid request parameters: mintime must be within the past 180 days", false},
		{"401 bad signature", 401, `{"stat":"FAIL","code":40103,"message":"Invalid signature in request credentials"}`,
			APIError{Status: 401, Code: 40103, Message: "Invalid signature in request credentials"},
			"duo api: GET /admin/v2/logs/authentication: 401 40103 Invalid signature in request credentials", true},
		{"401 unknown ikey", 401, `{"code": 40102, "message": "Invalid integration key in request credentials", "stat": "FAIL"}`,
			APIError{Status: 401, Code: 40102, Message: "Invalid integration key in request credentials"}, "", true},
		{"403 wrong integration type", 403, `{"stat":"FAIL","code":40301,"message":"Access forbidden","message_detail":"Wrong integration type for this API."}`,
			APIError{Status: 403, Code: 40301, Message: "Access forbidden", Detail: "Wrong integration type for this API."},
			"duo api: GET /admin/v2/logs/authentication: 403 40301 Access forbidden: Wrong integration type for this API.", true},
		{"404", 404, `{"stat":"FAIL","code":40401,"message":"Resource not found"}`,
			APIError{Status: 404, Code: 40401, Message: "Resource not found"}, "", false},
		{"401 from a proxy, not JSON", 401, `<html><body>Unauthorized</body></html>`,
			APIError{Status: 401, Message: "Unauthorized"}, "duo api: GET /admin/v2/logs/authentication: 401 Unauthorized", true},
		{"400 float code", 400, `{"stat":"FAIL","code":40002.0,"message":"Invalid request parameters"}`,
			APIError{Status: 400, Code: 40002, Message: "Invalid request parameters"}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := &scripted{t: t, steps: []func(http.ResponseWriter, *http.Request){answer(tt.status, tt.body)}}
			c := newTestClient(t, srv, func(c *Config) { c.Now = fixedNow })
			pages, err := collect(t, c.Client, Authentication, window())
			require.Error(t, err)
			assert.Empty(t, pages)
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr)
			tt.want.Path = "/admin/v2/logs/authentication"
			assert.Equal(t, tt.want, *apiErr)
			if tt.wantText != "" {
				assert.Equal(t, tt.wantText, err.Error())
			}
			assert.False(t, IsRetryable(err))
			assert.Equal(t, tt.wantCreds, IsCredentialsError(err))
			assert.Equal(t, 1, srv.count(), "not retried")
		})
	}
}

// skewedDuo is a fake Duo whose clock runs ahead: it dates its answers with its own clock
// and answers 401 40105 to a request Date more than 5 minutes off.
type skewedDuo struct {
	t      *testing.T
	ahead  time.Duration
	always bool
	mu     sync.Mutex
	n      int
}

func (s *skewedDuo) calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

func (s *skewedDuo) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.n++
	s.mu.Unlock()
	now := time.Now().Add(s.ahead)
	w.Header().Set("Date", now.UTC().Format(http.TimeFormat))
	d, err := time.Parse(time.RFC1123Z, r.Header.Get("Date"))
	require.NoError(s.t, err)
	assert.NoError(s.t, verifySignature(r, SigningV5))
	if s.always || d.Sub(now).Abs() > 5*time.Minute {
		writeJSON(w, 401, `{"stat":"FAIL","code":40105,"message":"Bad request timestamp"}`)
		return
	}
	writeJSON(w, 200, `{"stat":"OK","response":{"user_count":1}}`)
}

func TestClockSkewRetriedOnceWithLearnedOffset(t *testing.T) {
	tests := []struct {
		name      string
		ahead     time.Duration
		always    bool
		wantErr   bool
		wantCalls int
	}{
		{"duo 10 minutes ahead", 10 * time.Minute, false, false, 2},
		{"duo 20 minutes behind", -20 * time.Minute, false, false, 2},
		{"rejected again: one retry only", 10 * time.Minute, true, true, 2},
		{"clocks agree", 0, false, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := &skewedDuo{t: t, ahead: tt.ahead, always: tt.always}
			c := newTestClient(t, srv, func(c *Config) { c.Retry.Enabled = false })
			_, err := c.Summary(t.Context())
			assert.Equal(t, tt.wantCalls, srv.calls())
			if tt.wantErr {
				var apiErr *APIError
				require.ErrorAs(t, err, &apiErr)
				assert.Equal(t, 40105, apiErr.Code)
				assert.True(t, IsCredentialsError(err))
				return
			}
			require.NoError(t, err)
			assert.InDelta(t, tt.ahead.Seconds(), c.ClockOffset().Seconds(), 2)
			// The offset is kept: the next request is right the first time.
			_, err = c.Summary(t.Context())
			require.NoError(t, err)
			assert.Equal(t, tt.wantCalls+1, srv.calls())
		})
	}
}

func TestFetchCancelStopsPromptly(t *testing.T) {
	tests := []struct {
		name string
		h    http.HandlerFunc
		mod  func(*Config)
	}{
		{"request in flight", func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
		}, nil},
		{"backing off", answer(500, ""), func(c *Config) {
			c.Retry = configretry.BackOffConfig{Enabled: true, InitialInterval: time.Hour, MaxInterval: time.Hour}
		}},
		{"waiting on the budget", func(w http.ResponseWriter, r *http.Request) {
			q := r.URL.Query()
			next := "null"
			if q.Get("next_offset") == "" {
				next = `"1,a"`
			}
			writeJSON(w, 200, `{"stat":"OK","response":{"items":[],"metadata":{"next_offset":`+next+`}}}`)
		}, func(c *Config) { c.RateLimit = 1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newTestClient(t, tt.h, func(c *Config) {
				c.Now = fixedNow
				if tt.mod != nil {
					tt.mod(c)
				}
			})
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan error, 1)
			go func() {
				done <- c.Fetch(ctx, Activity, window(), func(Page) error { return nil })
			}()
			time.Sleep(100 * time.Millisecond) // let it reach the state under test
			start := time.Now()
			cancel()
			select {
			case err := <-done:
				assert.ErrorIs(t, err, context.Canceled)
				assert.False(t, IsRetryable(err))
				assert.Less(t, time.Since(start), 5*time.Second)
			case <-time.After(5 * time.Second):
				t.Fatal("Fetch did not return within 5 s of cancel")
			}
		})
	}
}

// TestSecretNeverLeaks drives every error path and checks that neither the secret key nor
// any Authorization header value sent appears in an error or a log line.
func TestSecretNeverLeaks(t *testing.T) {
	echo := func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 401, fmt.Sprintf(`{"stat":"FAIL","code":40103,"message":"bad %s with %s","message_detail":%q}`,
			r.Header.Get("Authorization"), testSKey, strings.TrimPrefix(r.Header.Get("Authorization"), "Basic ")))
	}
	tests := []struct {
		name  string
		steps []func(http.ResponseWriter, *http.Request)
		lt    LogType
		w     Window
		ctx   func() (context.Context, context.CancelFunc)
	}{
		{"400", []func(http.ResponseWriter, *http.Request){answer(400, `{"stat":"FAIL","code":40002,"message":"Invalid request parameters"}`)}, Authentication, window(), nil},
		{"401", []func(http.ResponseWriter, *http.Request){answer(401, `{"stat":"FAIL","code":40103,"message":"Invalid signature in request credentials"}`)}, Administrator, window(), nil},
		{"403", []func(http.ResponseWriter, *http.Request){answer(403, `{"stat":"FAIL","code":40301,"message":"Access forbidden"}`)}, Telephony, window(), nil},
		{"404", []func(http.ResponseWriter, *http.Request){answer(404, `not found`)}, Activity, window(), nil},
		{"40105 twice", []func(http.ResponseWriter, *http.Request){answer(401, `{"stat":"FAIL","code":40105,"message":"Bad request timestamp"}`)}, TrustMonitor, window(), nil},
		{"429 until giving up", []func(http.ResponseWriter, *http.Request){answer(429, `{"stat":"FAIL","code":42901,"message":"Too Many Requests"}`)}, OfflineEnrollment, window(), nil},
		{"5xx until giving up", []func(http.ResponseWriter, *http.Request){answer(502, `<html>`)}, Authentication, window(), nil},
		{"truncated until giving up", []func(http.ResponseWriter, *http.Request){answer(200, truncated)}, Authentication, window(), nil},
		{"transport error", []func(http.ResponseWriter, *http.Request){hangUp}, Authentication, window(), nil},
		{"stat FAIL in 200", []func(http.ResponseWriter, *http.Request){answer(200, `{"stat":"FAIL","code":40002,"message":"x"}`)}, Authentication, window(), nil},
		{"server echoes the credentials", []func(http.ResponseWriter, *http.Request){echo}, Authentication, window(), nil},
		{"cursor stuck", []func(http.ResponseWriter, *http.Request){answer(200, `{"stat":"OK","response":{"events":[],"metadata":{"next_offset":"7"}}}`), answer(200, `{"stat":"OK","response":{"events":[],"metadata":{"next_offset":"7"}}}`)}, TrustMonitor, window(), nil},
		{"window too old", []func(http.ResponseWriter, *http.Request){answer(200, okAuthPage)}, Authentication, Window{Start: testNow.Add(-200 * 24 * time.Hour), End: testNow}, nil},
		{"cancelled", []func(http.ResponseWriter, *http.Request){answer(503, "")}, Authentication, window(), func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 30*time.Millisecond)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := &scripted{t: t, steps: tt.steps}
			c := newTestClient(t, srv, func(c *Config) {
				c.Now = fixedNow
				c.Retry.MaxElapsedTime = 50 * time.Millisecond
				if tt.ctx != nil {
					c.Retry.MaxElapsedTime = 0
				}
			})
			ctx := t.Context()
			if tt.ctx != nil {
				var cancel context.CancelFunc
				ctx, cancel = tt.ctx()
				defer cancel()
			}
			err := c.Fetch(ctx, tt.lt, tt.w, func(Page) error { return nil })
			require.Error(t, err)
			texts := []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)}
			c.rec.mu.Lock()
			for _, q := range c.rec.requests {
				if q.err != nil {
					texts = append(texts, q.err.Error(), fmt.Sprintf("%#v", q.err))
				}
			}
			c.rec.mu.Unlock()
			for _, e := range c.logs.All() {
				texts = append(texts, e.Message, fmt.Sprint(e.ContextMap()))
			}
			auths := srv.authorizations()
			if !errors.Is(err, ErrWindowTooOld) {
				require.NotEmpty(t, auths, "requests were sent")
			}
			secrets := append([]string{testSKey}, auths...)
			for _, a := range auths {
				secrets = append(secrets, strings.TrimPrefix(a, "Basic "))
			}
			for _, text := range texts {
				for _, secret := range secrets {
					if secret != "" {
						assert.NotContains(t, text, secret)
					}
				}
			}
		})
	}
	_, err := New(Config{BaseURL: "ftp://x", SecretKey: testSKey}, nil)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), testSKey)
}

func TestIsRetryable(t *testing.T) {
	tests := []struct {
		name        string
		err         error
		retryable   bool
		credentials bool
		status      int // StatusOf
	}{
		{"nil", nil, false, false, 0},
		{"429", &APIError{Status: 429, Code: 42901}, true, false, 429},
		{"500", &APIError{Status: 500}, true, false, 500},
		{"503 wrapped", fmt.Errorf("poll: %w", &APIError{Status: 503}), true, false, 503},
		{"400", &APIError{Status: 400, Code: 40002}, false, false, 400},
		{"401", &APIError{Status: 401, Code: 40103}, false, true, 401},
		{"403", &APIError{Status: 403, Code: 40301}, false, true, 403},
		{"404", &APIError{Status: 404, Code: 40401}, false, false, 404},
		{"200 stat FAIL 42901", &APIError{Status: 200, Code: 42901}, true, false, 429},
		{"200 stat FAIL 40103", &APIError{Status: 200, Code: 40103}, false, true, 401},
		{"decode", &decodeError{path: "/x", msg: "truncated"}, true, false, 0},
		{"unexpected EOF", io.ErrUnexpectedEOF, true, false, 0},
		{"deadline", context.DeadlineExceeded, true, false, 0},
		{"canceled", context.Canceled, false, false, 0},
		{"canceled in url error", &url.Error{Op: "Get", URL: "u", Err: context.Canceled}, false, false, 0},
		{"dial", &net.OpError{Op: "dial", Err: errors.New("refused")}, true, false, 0},
		{"too old", ErrWindowTooOld, false, false, 0},
		{"other", errors.New("fn failed"), false, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.retryable, IsRetryable(tt.err))
			assert.Equal(t, tt.credentials, IsCredentialsError(tt.err))
			assert.Equal(t, tt.status, StatusOf(tt.err))
		})
	}
}

func TestNewValidates(t *testing.T) {
	good := Config{BaseURL: "https://" + testHost, IntegrationKey: testIKey, SecretKey: testSKey}
	tests := []struct {
		name    string
		mod     func(*Config)
		wantErr string
	}{
		{"good", func(*Config) {}, ""},
		{"host from base URL", func(c *Config) { c.Host = "" }, ""},
		{"bad scheme", func(c *Config) { c.BaseURL = "ftp://x" }, "http or https"},
		{"no host", func(c *Config) { c.BaseURL = "https://" }, "no host"},
		{"query", func(c *Config) { c.BaseURL = "https://x/?a=b" }, "query"},
		{"no ikey", func(c *Config) { c.IntegrationKey = "" }, "integration key"},
		{"no skey", func(c *Config) { c.SecretKey = "" }, "secret key"},
		{"bad signing", func(c *Config) { c.Signing = "v4" }, "unknown signing"},
		{"negative rate", func(c *Config) { c.RateLimit = -1 }, "rate limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good
			tt.mod(&cfg)
			c, err := New(cfg, nil)
			if tt.wantErr == "" {
				require.NoError(t, err)
				assert.Equal(t, testHost, c.host)
				assert.Equal(t, DefaultTimeout, c.hc.Timeout)
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

// TestTransportErrorKeepsTheQueryOut: a transport error names the endpoint but not the
// request's query (the window, filter values, account_id), which would otherwise reach
// the logs and the health status with every failed request.
func TestTransportErrorKeepsTheQueryOut(t *testing.T) {
	srv := &scripted{t: t, steps: []func(http.ResponseWriter, *http.Request){hangUp}}
	c := newTestClient(t, srv, func(c *Config) {
		c.Now = fixedNow
		c.Retry.Enabled = false
		c.Params = map[LogType]map[string][]string{Authentication: {"users": {"DUSECRETUSERID"}}}
	})
	err := c.Fetch(t.Context(), Authentication, window(), func(Page) error { return nil })
	require.Error(t, err)
	var ue *url.Error
	require.ErrorAs(t, err, &ue, "still a transport error, retried as one")
	assert.Contains(t, err.Error(), "/admin/v2/logs/authentication")
	for _, q := range []string{"DUSECRETUSERID", "mintime=", "maxtime=", "?"} {
		assert.NotContains(t, err.Error(), q)
	}
}
