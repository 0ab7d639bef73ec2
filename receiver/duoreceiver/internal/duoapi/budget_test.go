// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoapi

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/config/configretry"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func TestBudgetReserveSpacesRequests(t *testing.T) {
	tests := []struct {
		name      string
		perMinute float64
		wantWaits []time.Duration // waits of successive reservations made at t0
	}{
		{"30 a minute", 30, []time.Duration{0, 2 * time.Second, 4 * time.Second}},
		{"2 a minute", 2, []time.Duration{0, 30 * time.Second, 60 * time.Second}},
		{"600 a minute", 600, []time.Duration{0, 100 * time.Millisecond, 200 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBudget(tt.perMinute, func() time.Time { return t0 })
			for i, want := range tt.wantWaits {
				assert.InDelta(t, want.Seconds(), b.reserve(t0).Seconds(), 1e-6, "reservation %d", i)
			}
		})
	}
	assert.Nil(t, newBudget(0, nil), "a rate of 0 means no budget")
}

// feed gives b one answer per character of answers ('o' a success, 'x' a 429), one every
// step from *now, and returns how many of the 429s cut the rate.
func feed(b *budget, now *time.Time, step time.Duration, answers string) (cuts int) {
	for _, c := range answers {
		*now = now.Add(step)
		b.reserve(*now)
		if c == 'x' {
			if b.limited(*now) {
				cuts++
			}
		} else {
			b.accepted(*now)
		}
	}
	return cuts
}

func TestBudgetCutsOnlyOnClusters(t *testing.T) {
	tests := []struct {
		name    string
		noise   float64 // expected noise already learned
		answers string
		want    int // cuts
	}{
		{"successes only", 0, strings.Repeat("o", 40), 0},
		{"a lone 429 after a streak", 0, strings.Repeat("o", 30) + "x" + strings.Repeat("o", 9), 0},
		{"lone 429s far apart", 0, strings.Repeat(strings.Repeat("o", 40)+"x", 5), 0},
		{"the first answers are too few to judge", 0, "xx" + strings.Repeat("o", 5), 0},
		{"two 429s among sixteen answers", 0, strings.Repeat("o", 14) + "xx", 1},
		{"two 429s a few answers apart", 0, strings.Repeat("o", 20) + "xooox", 1},
		{"30% 429s when 30% is the expected noise", 0.3, strings.Repeat("oooxoooxox", 6), 0},
		{"two thirds 429s when 30% is the expected noise", 0.3, strings.Repeat("o", 16) + strings.Repeat("xxxxxxxo", 3), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := t0
			b := newBudget(60, func() time.Time { return now })
			b.noise = tt.noise
			assert.Equal(t, tt.want, feed(b, &now, time.Second, tt.answers))
			if tt.want == 0 {
				assert.InDelta(t, 60, b.perMinute(), 1e-9, "no cut, no change of rate")
			}
		})
	}
}

func TestBudgetJudgesItsCuts(t *testing.T) {
	const warm = "oooo" // the first answers at the old rate are not counted
	tests := []struct {
		name          string
		low, high     string // answers at the lower rate, then at the old one
		wantPerMinute float64
		wantProved    bool
		wantNoise     float64
	}{
		{"429s vanish at the lower rate: the cut stays", strings.Repeat("o", 16), "", 30, true, 0},
		{"429s thicker at the old rate: the cut stays", "ooxoooxooooxoooo", warm + "xxoxxxoxxxxoxxxx", 30, true, 0},
		{"half as many get through at the old rate: the cut stays", "xxxxxxxxxxxxxxoo", warm + strings.Repeat("x", 16), 30, true, 0},
		{"429s as thick at both rates: noise, undone", "ooxoooxooooxooxo", warm + "oxooooxoooxooxoo", 60, false, 8.0 / 32},
		{"fewer than before the cut, as many at both rates: noise", "oooxoooxoooxoooo", warm + "ooxoooxoooxooooo", 60, false, 6.0 / 32},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := t0
			b := newBudget(60, func() time.Time { return now })
			// Half of the answers 429 before the cut: successes at 32 a minute, the cut
			// takes the rate to half of 60.
			require.Equal(t, 1, feed(b, &now, time.Second, strings.Repeat("o", 8)+strings.Repeat("x", 8)))
			require.InDelta(t, 30, b.perMinute(), 1e-9)
			require.NotNil(t, b.probe)
			feed(b, &now, 2*time.Second, tt.low)
			if tt.high != "" {
				require.NotNil(t, b.probe, "unclear at the lower rate: the old rate is tried")
				assert.InDelta(t, 60, b.perMinute(), 1e-9)
				feed(b, &now, time.Second, tt.high)
			}
			assert.Nil(t, b.probe, "judged")
			assert.InDelta(t, tt.wantPerMinute, b.perMinute(), 1e-9)
			assert.Equal(t, tt.wantProved, b.congested)
			if tt.wantProved {
				assert.InDelta(t, 30/settleMargin, 60*b.ceiling, 1e-9, "the ceiling is where the cut aimed under")
			} else {
				assert.Zero(t, b.ceiling)
			}
			assert.InDelta(t, tt.wantNoise, b.noise, 1e-9, "the expected noise is the share seen at both rates")
		})
	}
}

func TestBudgetHoldsUnderTheCeilingThenRelaxes(t *testing.T) {
	now := t0
	b := newBudget(60, func() time.Time { return now })
	require.Equal(t, 1, feed(b, &now, time.Second, strings.Repeat("o", 8)+strings.Repeat("x", 8)))
	feed(b, &now, 2*time.Second, strings.Repeat("o", 16))
	require.True(t, b.congested)
	// The cut aimed just under the successes seen past the limit: it holds there.
	now = now.Add(2 * time.Minute)
	b.reserve(now)
	assert.InDelta(t, 30, b.perMinute(), 1e-9)
	// After a long time without a cut the ceiling relaxes, and the rate with it.
	b.reserve(now.Add(time.Hour))
	assert.Greater(t, b.perMinute(), 30.0)
	assert.LessOrEqual(t, b.perMinute(), 60.0)
}

// TestBudgetFloor: cuts stop at Duo's documented 2 requests a minute; only 429s that go on
// at that rate take it below.
func TestBudgetFloor(t *testing.T) {
	now := t0
	b := newBudget(60, func() time.Time { return now })
	step := func() time.Duration { return time.Duration(float64(time.Minute) / b.perMinute()) }
	feed(b, &now, step(), strings.Repeat("o", 16))
	// Clusters of 429s, each cut proved by the successes that follow at the lower rate.
	for i := 0; b.perMinute() > minPerMinute+1e-9; i++ {
		require.Less(t, i, 40, "the rate does not come down to the floor")
		require.Equal(t, 1, feed(b, &now, step(), "xx"))
		feed(b, &now, step(), strings.Repeat("o", 16))
		require.True(t, b.congested)
		require.GreaterOrEqual(t, b.perMinute(), minPerMinute-1e-9, "no cut takes the rate below the floor")
	}
	// At the floor, a cluster of 429s is cut for, and proved.
	require.Equal(t, 1, feed(b, &now, step(), "xx"))
	feed(b, &now, step(), strings.Repeat("o", 16))
	assert.Less(t, b.perMinute(), minPerMinute)
	assert.GreaterOrEqual(t, b.perMinute(), 60*minRateShare-1e-9)

	// A configured rate under the floor is the floor.
	low := newBudget(1, func() time.Time { return now })
	assert.InDelta(t, 1.0/60, low.floor, 1e-12)
}

func TestBudgetNeverExceedsConfiguredRate(t *testing.T) {
	b := newBudget(10, nil)
	now := t0
	b.last, b.lastStep, b.lastRelax = now, now, now
	for i := range 1000 {
		now = now.Add(time.Hour)
		b.reserve(now)
		require.LessOrEqual(t, b.perMinute(), 10.0, "step %d", i)
	}
}

// modelRun is what simulateLimiter saw.
type modelRun struct {
	share    float64 // of the allowed throughput served (of the offered one when limit is 0)
	share429 float64 // of requests answered 429
	settled  float64 // of requests answered 429 once settled: after 2 min, or 40 allowed requests
	minRate  float64 // lowest budget, requests a minute, after the first minute
	endRate  float64 // budget at the end, requests a minute
}

// simulateLimiter drives a budget on a virtual clock against a model of Duo's limiter (a
// token bucket of limit requests a minute, burst 2, like the simulator's; 0 = no limit)
// that also answers a share noise of requests 429 whatever their pace, the client sending
// back to back as a backfill does, with 0-40 ms of network time; after a 429 the client
// retries when the budget lets it, as Client.get does.
func simulateLimiter(configured, limit, noise float64, run time.Duration, seed uint64) modelRun {
	return simulateDemand(configured, limit, noise, 0, run, seed)
}

// simulateDemand is simulateLimiter with a client that has only demand requests a minute
// to send (0 = as many as the budget allows), retries included, as a receiver that is
// caught up does.
func simulateDemand(configured, limit, noise, demand float64, run time.Duration, seed uint64) modelRun {
	// Finding a limit takes a few dozen answers: long at a low limit.
	settleTime := 2 * time.Minute
	if limit > 0 {
		settleTime = max(settleTime, time.Duration(40/limit*float64(time.Minute)))
	}
	start := t0
	now := start
	b := newBudget(configured, func() time.Time { return now })
	rng := rand.New(rand.NewPCG(seed, 7)) //nolint:gosec // a reproducible model, not security
	srvRate, srvTokens, srvLast := limit/60, 2.0, now
	var ok, limited, okLater, limitedLater int
	m := modelRun{minRate: configured}
	next := now // when the next request is needed
	for end := now.Add(run); now.Before(end); {
		if demand > 0 {
			now = later(now, next)
			next = now.Add(time.Duration(float64(time.Minute) / demand))
		}
		now = now.Add(b.reserve(now))
		now = now.Add(time.Duration(rng.Float64() * float64(40*time.Millisecond)))
		srvTokens = min(2, srvTokens+now.Sub(srvLast).Seconds()*srvRate)
		srvLast = now
		if (limit == 0 || srvTokens >= 1) && rng.Float64() >= noise {
			if limit > 0 {
				srvTokens--
			}
			ok++
			if now.Sub(start) > settleTime {
				okLater++
			}
			b.accepted(now)
			now = now.Add(30 * time.Millisecond)
		} else {
			limited++
			if now.Sub(start) > settleTime {
				limitedLater++
			}
			b.limited(now)
			now = now.Add(30 * time.Millisecond)
		}
		if now.Sub(start) > time.Minute {
			m.minRate = min(m.minRate, b.perMinute())
		}
	}
	allowed := limit*run.Minutes() + 2
	if limit == 0 {
		allowed = configured * run.Minutes()
	}
	m.share = float64(ok) / allowed
	m.share429 = float64(limited) / float64(ok+limited)
	m.settled = float64(limitedLater) / float64(max(okLater+limitedLater, 1))
	m.endRate = b.perMinute()
	return m
}

// TestBudgetSettlesUnderServerLimit checks the target of the simulator test and the
// benchmark (against a real limit below the configured rate, >= 90% of the allowed
// throughput with < 5% of requests answered 429) on the model, averaged over seeds, over
// the whole run and once settled (modelRun.settled).
func TestBudgetSettlesUnderServerLimit(t *testing.T) {
	tests := []struct {
		name       string
		limit      float64 // server, per minute
		configured float64 // client's starting rate, per minute
		run        time.Duration
		minShare   float64
		max429     float64 // over the whole run...
		maxSettled float64 // ...and once settled
	}{
		{"twice the limit, 15 min", 30, 60, 15 * time.Minute, 0.90, 0.05, 0.05},
		{"twice the limit, 6 min", 30, 60, 6 * time.Minute, 0.90, 0.05, 0.05},
		{"four times the limit, 15 min", 30, 120, 15 * time.Minute, 0.90, 0.05, 0.05},
		// From twenty times the limit, the first limit found rests on a few successes and
		// is low; relaxing it takes a while.
		{"twenty times the limit, 45 min", 30, 600, 45 * time.Minute, 0.90, 0.05, 0.05},
		{"just over the limit, 15 min", 30, 31, 15 * time.Minute, 0.90, 0.05, 0.05},
		{"at the limit", 30, 30, 15 * time.Minute, 0.98, 0, 0},
		{"duo's documented 2 a minute", 2, 4, 6 * time.Hour, 0.90, 0.05, 0.05},
		// At one request a minute the first cuts take tens of minutes to prove.
		{"a limit under 2 a minute is followed", 1, 60, 6 * time.Hour, 0.90, 0.20, 0.05},
		{"under the limit: the configured rate is a ceiling", 30, 20, 15 * time.Minute, 0.66, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const seeds = 8
			var share, r429, settled float64
			for seed := range uint64(seeds) {
				m := simulateLimiter(tt.configured, tt.limit, 0, tt.run, seed)
				share += m.share / seeds
				r429 += m.share429 / seeds
				settled += m.settled / seeds
			}
			t.Logf("share of allowed throughput %.3f, 429s %.4f, once settled %.4f", share, r429, settled)
			assert.GreaterOrEqual(t, share, tt.minShare)
			assert.LessOrEqual(t, r429, tt.max429)
			assert.LessOrEqual(t, settled, tt.maxSettled)
		})
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// TestBudgetIgnoresNoise: 429s that come whatever our pace, with no real limit. The
// budget must stay at half of the configured rate or more in every run, and end near it.
func TestBudgetIgnoresNoise(t *testing.T) {
	tests := []struct {
		name       string
		configured float64
		noise      float64
		demand     float64 // requests a minute to send; 0 = as many as allowed
		run        time.Duration
		minLowest  float64 // share of the configured rate, in every run
		minEnd     float64 // share of the configured rate, averaged over seeds
	}{
		{"30% of 60 a minute", 60, 0.3, 0, 15 * time.Minute, 0.5, 0.9},
		{"30% of 120 a minute", 120, 0.3, 0, 15 * time.Minute, 0.5, 0.9},
		{"10% of 60 a minute", 60, 0.1, 0, 15 * time.Minute, 0.5, 0.9},
		{"30% of duo's 2 a minute", 2, 0.3, 0, 3 * time.Hour, 0.5, 0.9},
		{"30% of 60 a minute, 15 needed", 60, 0.3, 15, 30 * time.Minute, 0.5, 0.9},
		{"30% of duo's 2 a minute, 1.5 needed", 2, 0.3, 1.5, 6 * time.Hour, 0.5, 0.9},
		// Most answers 429 now and then: a probe may cut deep for a while, then undoes it.
		{"50% of 60 a minute", 60, 0.5, 0, 15 * time.Minute, minCut, 0.9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const seeds = 16
			lowest, end := tt.configured, 0.0
			for seed := range uint64(seeds) {
				m := simulateDemand(tt.configured, 0, tt.noise, tt.demand, tt.run, seed)
				lowest = min(lowest, m.minRate)
				end += m.endRate / seeds
			}
			t.Logf("lowest budget %.1f/min, mean at the end %.1f/min", lowest, end)
			assert.GreaterOrEqual(t, lowest, tt.minLowest*tt.configured-1e-9)
			assert.GreaterOrEqual(t, end, tt.minEnd*tt.configured)
		})
	}
}

func TestBudgetWaitHonoursContext(t *testing.T) {
	b := newBudget(1, nil) // one a minute: the second wait is 60 s
	_, err := b.wait(context.Background())
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = b.wait(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.InDelta(t, 0, b.tokens, 0.1, "the abandoned token is given back")
}

// TestClientPacesA429ByTheBudget: with a budget, the retry of a 429 waits for the budget
// (whose bucket the 429 emptied), not for the retry backoff on top: that would hide from
// the budget the rate at which Duo answered. Without a budget the backoff paces it.
func TestClientPacesA429ByTheBudget(t *testing.T) {
	tooMany := answer(429, `{"stat":"FAIL","code":42901,"message":"Too Many Requests"}`)
	tests := []struct {
		name      string
		rateLimit float64
		backoff   time.Duration
		wantWait  func(time.Duration) bool // the waits reported, summed
	}{
		{"budget", 600, time.Hour, func(d time.Duration) bool { return d > 0 && d <= 200*time.Millisecond }},
		{"no budget", 0, 20 * time.Millisecond, func(d time.Duration) bool { return d >= 10*time.Millisecond && d < time.Hour }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := &scripted{t: t, steps: []func(http.ResponseWriter, *http.Request){tooMany, answer(200, okAuthPage)}}
			c := newTestClient(t, srv, func(c *Config) {
				c.Now = fixedNow
				c.RateLimit = tt.rateLimit
				c.Retry = configretry.BackOffConfig{Enabled: true, InitialInterval: tt.backoff, MaxInterval: tt.backoff, Multiplier: 1}
			})
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			require.NoError(t, c.Fetch(ctx, Authentication, window(), func(Page) error { return nil }))
			assert.Equal(t, []int{429, 200}, c.rec.statuses())
			c.rec.mu.Lock()
			defer c.rec.mu.Unlock()
			var sum time.Duration
			for _, w := range c.rec.waits {
				sum += w
			}
			assert.True(t, tt.wantWait(sum), "waited %s in all", sum)
		})
	}
}
