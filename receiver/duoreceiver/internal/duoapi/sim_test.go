// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoapi

import (
	"context"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/config/configretry"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-duo/otelcol-duo/internal/duosim"
	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/jsondoc"
)

// Acceptance tests of issue #2 (client half) against the simulator.

type simHarness struct {
	sim  *duosim.Sim
	c    *Client
	rec  *recorder
	logs *observer.ObservedLogs
}

func newSimHarness(t *testing.T, simCfg duosim.Config, mod func(*Config)) simHarness {
	t.Helper()
	if simCfg.Seed == 0 {
		simCfg.Seed = 42
	}
	sim := duosim.New(simCfg)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	core, logs := observer.New(zapcore.DebugLevel)
	rec := &recorder{}
	cfg := Config{
		BaseURL:        srv.URL,
		Host:           duosim.DefaultHost,
		IntegrationKey: duosim.DefaultIntegrationKey,
		SecretKey:      duosim.DefaultSecretKey,
		Retry: configretry.BackOffConfig{
			Enabled: true, InitialInterval: time.Millisecond, MaxInterval: 10 * time.Millisecond,
			Multiplier: 2, RandomizationFactor: 0.5, MaxElapsedTime: 30 * time.Second,
		},
		Observer: rec,
		Logger:   zap.New(core),
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg, srv.Client())
	require.NoError(t, err)
	return simHarness{sim: sim, c: c, rec: rec, logs: logs}
}

// fetchAll reads w and returns every record. It also holds Fetch to the lifetime of a
// record's values: readable in the callback, released for the next page once it has
// returned (a kept Value then panics), while Raw, ID and Time stay as they were.
func (h simHarness) fetchAll(t *testing.T, lt LogType, w Window) []Record {
	t.Helper()
	var out []Record
	err := h.c.Fetch(t.Context(), lt, w, func(p Page) error {
		for _, r := range p.Records {
			require.Equal(t, jsondoc.Kind('{'), r.Value.Kind(), "the callback reads the values")
		}
		out = append(out, p.Records...)
		return nil
	})
	require.NoError(t, err)
	if len(out) > 0 {
		assert.Panics(t, func() { out[0].Value.Kind() }, "released once the callback returned")
	}
	return out
}

func pageLimit(lt LogType) int {
	if lt == TrustMonitor {
		return 500
	}
	return 1000
}

// checkExactlyOnce compares what came back with the simulator's events: by id for the
// types that carry one, by content (with multiplicity) for v1, and the times.
func checkExactlyOnce(t *testing.T, lt LogType, events []duosim.Event, got []Record) {
	t.Helper()
	require.Equal(t, len(events), len(got), "record count")
	if lt.V1() {
		want := map[string]int{}
		for _, e := range events {
			want[string(e.Raw)]++
		}
		ids := map[string]bool{}
		for _, r := range got {
			want[r.Raw]--
			assert.False(t, ids[r.ID], "id %s twice", r.ID)
			ids[r.ID] = true
		}
		for raw, n := range want {
			assert.Zero(t, n, "record %s: %d missing (negative: extra)", raw, n)
		}
		return
	}
	byID := make(map[string]duosim.Event, len(events))
	for _, e := range events {
		byID[e.ID] = e
	}
	seen := map[string]bool{}
	for _, r := range got {
		e, ok := byID[r.ID]
		require.True(t, ok, "unknown id %s", r.ID)
		assert.False(t, seen[r.ID], "id %s twice", r.ID)
		seen[r.ID] = true
		assert.True(t, e.Time.Equal(r.Time), "%s: time %s, want %s", r.ID, r.Time, e.Time)
		assert.Equal(t, string(e.Raw), r.Raw)
	}
}

func TestSimBackfillEveryEventOnce(t *testing.T) {
	now := time.Now()
	from, to := now.Add(-3*time.Hour), now.Add(-time.Hour)
	for _, lt := range LogTypes {
		t.Run(string(lt), func(t *testing.T) {
			h := newSimHarness(t, duosim.Config{}, nil)
			h.sim.Backfill(string(lt), 10000, from, to)
			// v1 times are whole seconds: the event at from+0.3s is at the second of from.
			got := h.fetchAll(t, lt, Window{Start: from.Truncate(time.Second), End: to})
			checkExactlyOnce(t, lt, h.sim.Events(string(lt)), got)
			st := h.sim.Stats()
			assert.LessOrEqual(t, st.MaxPageSize, pageLimit(lt), "no page over the limit")
			reqs := st.Requests[Path(lt)]
			assert.Equal(t, map[int]int{200: reqs[200]}, reqs, "only 200s")
			assert.LessOrEqual(t, reqs[200], 10000/pageLimit(lt)+3, "pages are full")
			assert.Empty(t, h.rec.skippedSeconds())
			for _, r := range got {
				assert.False(t, r.Time.IsZero())
			}
		})
	}
}

func TestSimV1BurstsAndTwins(t *testing.T) {
	now := time.Now()
	sec := now.Add(-time.Hour).Truncate(time.Second)
	w := Window{Start: sec.Add(-10 * time.Second), End: sec.Add(10 * time.Second)}
	tests := []struct {
		name        string
		setup       func(s *duosim.Sim, lt string)
		wantN       int
		wantSkipped []int64
		maxRequests int
	}{
		{"999 in one second complete", func(s *duosim.Sim, lt string) {
			s.Burst(lt, 999, sec)
		}, 999, nil, 1},
		{"1000 in one second steps on", func(s *duosim.Sim, lt string) {
			s.Burst(lt, 1000, sec)
			s.Burst(lt, 20, sec.Add(time.Second))
		}, 1020, []int64{sec.Unix()}, 2},
		{"1500 in one second: 500 unreadable, never loops", func(s *duosim.Sim, lt string) {
			s.Burst(lt, 1500, sec)
			s.Burst(lt, 20, sec.Add(2*time.Second))
		}, 1020, []int64{sec.Unix()}, 2},
		{"twins straddling the page cut all arrive", func(s *duosim.Sim, lt string) {
			s.Burst(lt, 997, sec.Add(-time.Second))
			s.Twins(lt, 5, sec)
			s.Burst(lt, 10, sec.Add(time.Second))
		}, 1012, nil, 2},
		{"1000 twins in one second", func(s *duosim.Sim, lt string) {
			s.Twins(lt, 1000, sec)
			s.Twins(lt, 3, sec.Add(time.Second))
		}, 1003, []int64{sec.Unix()}, 2},
	}
	for _, lt := range []LogType{Administrator, OfflineEnrollment} {
		for _, tt := range tests {
			t.Run(string(lt)+"/"+tt.name, func(t *testing.T) {
				h := newSimHarness(t, duosim.Config{}, nil)
				tt.setup(h.sim, string(lt))
				got := h.fetchAll(t, lt, w)
				assert.Len(t, got, tt.wantN)
				if tt.wantSkipped == nil {
					checkExactlyOnce(t, lt, h.sim.Events(string(lt)), got)
				}
				assert.Equal(t, tt.wantSkipped, h.rec.skippedSeconds())
				assert.Equal(t, len(tt.wantSkipped), h.logs.FilterMessageSnippet("stepping over it").Len())
				reqs := h.sim.Stats().Requests[Path(lt)][200]
				assert.LessOrEqual(t, reqs, tt.maxRequests)
			})
		}
	}
}

func TestSimFaultsRetriedToSuccess(t *testing.T) {
	now := time.Now()
	from, to := now.Add(-3*time.Hour), now.Add(-time.Hour)
	tests := []struct {
		name   string
		faults duosim.Faults
		want   []int // statuses the simulator must have answered at least once
	}{
		{"429", duosim.Faults{P429: 0.4}, []int{429}},
		{"5xx", duosim.Faults{P5xx: 0.4}, nil},
		{"truncated bodies", duosim.Faults{PTruncate: 0.4}, nil},
		{"everything", duosim.Faults{P429: 0.2, P5xx: 0.2, PTruncate: 0.2}, []int{429}},
	}
	for _, lt := range []LogType{Authentication, Administrator, TrustMonitor} {
		for _, tt := range tests {
			t.Run(string(lt)+"/"+tt.name, func(t *testing.T) {
				h := newSimHarness(t, duosim.Config{Faults: tt.faults}, nil)
				h.sim.Backfill(string(lt), 10000, from, to)
				got := h.fetchAll(t, lt, Window{Start: from.Truncate(time.Second), End: to})
				checkExactlyOnce(t, lt, h.sim.Events(string(lt)), got)
				reqs := h.sim.Stats().Requests[Path(lt)]
				for _, s := range tt.want {
					assert.Positive(t, reqs[s], "statuses %v", reqs)
				}
				var failed int
				for s, n := range reqs {
					if s != 200 {
						failed += n
					}
				}
				if tt.faults.PTruncate == 0 {
					assert.Positive(t, failed, "statuses %v", reqs)
				} else {
					assert.Greater(t, reqs[200], 10000/pageLimit(lt)+1, "truncated 200s were asked again: %v", reqs)
				}
			})
		}
	}
}

func TestSimRejections(t *testing.T) {
	now := time.Now()
	w := Window{Start: now.Add(-2 * time.Hour), End: now.Add(-time.Hour)}
	tests := []struct {
		name      string
		sim       duosim.Config
		mod       func(*Config)
		wantCode  int
		wantCreds bool
		wantCalls int
	}{
		{"wrong secret key", duosim.Config{}, func(c *Config) { c.SecretKey = "wrongsecretkeywrongsecretkeywrongsecret0" }, 40103, true, 1},
		{"wrong integration key", duosim.Config{}, func(c *Config) { c.IntegrationKey = "DIWRONGWRONGWRONGWR0" }, 40102, true, 1},
		{"wrong host signed", duosim.Config{}, func(c *Config) { c.Host = "api-other000.duosecurity.com" }, 40103, true, 1},
		{"v2-sha1 wrong key", duosim.Config{}, func(c *Config) { c.Signing = SigningV2SHA1; c.SecretKey = "x" }, 40103, true, 1},
		// The client's clock is 200 days behind: its own check passes, the first answer
		// (40105) teaches it Duo's clock, and the retry is then refused as too old.
		{"mintime too old for duo", duosim.Config{}, func(c *Config) {
			c.Now = func() time.Time { return time.Now().Add(-200 * 24 * time.Hour) }
		}, 40002, false, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newSimHarness(t, tt.sim, tt.mod)
			ww := w
			if tt.wantCode == 40002 {
				ww = Window{Start: w.Start.Add(-200 * 24 * time.Hour), End: w.End.Add(-200 * 24 * time.Hour)}
			}
			_, err := collectCtx(t, h.c, Authentication, ww)
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tt.wantCode, apiErr.Code, "%v", err)
			assert.NotEmpty(t, apiErr.Message)
			assert.Equal(t, tt.wantCreds, IsCredentialsError(err))
			assert.False(t, IsRetryable(err))
			assert.Len(t, h.rec.statuses(), tt.wantCalls)
			if tt.wantCode == 40002 {
				assert.Equal(t, 400, apiErr.Status)
				assert.Contains(t, apiErr.Detail, "180 days")
			}
		})
	}
}

func collectCtx(t *testing.T, c *Client, lt LogType, w Window) ([]Page, error) {
	return collect(t, c, lt, w)
}

func TestSimClockSkew(t *testing.T) {
	tests := []struct {
		name   string
		offset time.Duration
		calls  []int
	}{
		{"duo's clock an hour behind: 40105 then ok", -time.Hour, []int{401, 200}},
		{"duo's clock 10 minutes ahead: 40105 then ok", 10 * time.Minute, []int{401, 200}},
		{"within tolerance", time.Minute, []int{200}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newSimHarness(t, duosim.Config{ClockOffset: tt.offset}, func(c *Config) { c.Retry.Enabled = false })
			_, err := h.c.Summary(t.Context())
			require.NoError(t, err)
			assert.Equal(t, tt.calls, h.rec.statuses())
			if len(tt.calls) > 1 {
				assert.InDelta(t, tt.offset.Seconds(), h.c.ClockOffset().Seconds(), 2)
			}
			assert.Equal(t, tt.calls[len(tt.calls)-1], 200)
		})
	}
}

func TestSimSummary(t *testing.T) {
	h := newSimHarness(t, duosim.Config{}, nil)
	got, err := h.c.Summary(t.Context())
	require.NoError(t, err)
	for _, k := range []string{"admin_count", "integration_count", "telephony_credits_remaining", "user_count"} {
		assert.Contains(t, got, k)
	}
}

// TestSimRateLimitSettles runs the budget against the simulator's real limit of 30
// requests a minute for several minutes of wall time. It is the target of the later
// benchmark; set DUOAPI_SLOW_TESTS=1 to run it.
func TestSimRateLimitSettles(t *testing.T) {
	if os.Getenv("DUOAPI_SLOW_TESTS") == "" {
		t.Skip("slow: set DUOAPI_SLOW_TESTS=1")
	}
	run := 6 * time.Minute
	if d, err := time.ParseDuration(os.Getenv("DUOAPI_SLOW_RUN")); err == nil {
		run = d
	}
	const limit = 30.0
	h := newSimHarness(t, duosim.Config{Faults: duosim.Faults{RateLimit: limit}}, func(c *Config) {
		c.RateLimit = 60
		c.Retry = configretry.BackOffConfig{Enabled: true, InitialInterval: time.Second, MaxInterval: 30 * time.Second, Multiplier: 1.5, RandomizationFactor: 0.5}
	})
	now := time.Now()
	h.sim.Backfill(string(Authentication), 1000*int(limit*run.Minutes()*2), now.Add(-5*time.Hour), now.Add(-time.Hour))
	ctx, cancel := context.WithTimeout(t.Context(), run)
	defer cancel()
	var mu sync.Mutex
	pages := 0
	start := time.Now()
	err := h.c.Fetch(ctx, Authentication, Window{Start: now.Add(-5 * time.Hour), End: now.Add(-time.Hour)}, func(Page) error {
		mu.Lock()
		pages++
		mu.Unlock()
		return nil
	})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	elapsed := time.Since(start)
	reqs := h.sim.Stats().Requests[Path(Authentication)]
	allowed := limit*elapsed.Minutes() + 2 // the burst
	share := float64(reqs[200]) / allowed
	rate429 := float64(reqs[429]) / float64(reqs[200]+reqs[429])
	t.Logf("run %s: 200=%d 429=%d allowed=%.0f share=%.3f 429-rate=%.4f budget now %.1f/min",
		elapsed.Round(time.Second), reqs[200], reqs[429], allowed, share, rate429, h.c.budgets[Authentication].perMinute())
	for _, e := range h.logs.FilterMessageSnippet("rate limited").All() {
		t.Logf("%s 429, budget halved to %.1f/min", e.Time.Sub(start).Round(time.Millisecond), e.ContextMap()["budget_per_minute"])
	}
	assert.GreaterOrEqual(t, share, 0.90)
	assert.Less(t, rate429, 0.05)
}
