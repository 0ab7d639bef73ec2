// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoapi

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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

func TestBudgetHalvesAndCreepsBackUnderTheLimit(t *testing.T) {
	b := newBudget(60, func() time.Time { return t0 })
	now := t0
	b.reserve(now)
	b.limited(now)
	assert.InDelta(t, 30, b.perMinute(), 1e-9, "a 429 halves the rate")
	assert.InDelta(t, 1, b.ceiling, 1e-9, "the ceiling is the rate the 429 came at (1/s)")

	// No creeping before a quiet spell (3 token intervals at 0.5/s = 6 s).
	b.reserve(now.Add(5 * time.Second))
	assert.InDelta(t, 30, b.perMinute(), 1e-9)
	// A longer quiet: creeps back to 93% of the 429 rate, never to it.
	now = now.Add(2 * time.Minute)
	b.reserve(now)
	assert.InDelta(t, 60*settleMargin, b.perMinute(), 1e-9)

	// A second 429 below the first lowers the memory.
	b.limited(now)
	assert.InDelta(t, 30*settleMargin, b.perMinute(), 1e-9)
	b.reserve(now.Add(2 * time.Minute))
	assert.InDelta(t, 60*settleMargin*settleMargin, b.perMinute(), 1e-9)

	// After a long time without a 429 the memory relaxes, and the rate with it.
	b.reserve(now.Add(time.Hour))
	assert.Greater(t, b.perMinute(), 60*settleMargin*settleMargin)
	assert.LessOrEqual(t, b.perMinute(), 60.0)
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
	b.limited(now)
	for range 20 {
		b.limited(now)
	}
	assert.InDelta(t, 10.0/64, b.perMinute(), 1e-9, "halving stops at the floor")
}

// simulateLimiter drives a budget on a virtual clock against a model of Duo's limiter (a
// token bucket of limit requests a minute, burst 2, like the simulator's), the client
// sending back to back as a backfill does, with 0-40 ms of network time and the client's
// jittered backoff after each 429 (1 s, x1.5 per consecutive 429). It returns the share
// of the allowed throughput served and the share of requests answered 429.
func simulateLimiter(configured, limit float64, run time.Duration, seed uint64) (share, rate429 float64) {
	now := t0
	b := newBudget(configured, func() time.Time { return now })
	rng := rand.New(rand.NewPCG(seed, 7)) //nolint:gosec // a reproducible model, not security
	srvRate, srvTokens, srvLast := limit/60, 2.0, now
	var ok, limited, consecutive int
	for end := now.Add(run); now.Before(end); {
		now = now.Add(b.reserve(now))
		now = now.Add(time.Duration(rng.Float64() * float64(40*time.Millisecond)))
		srvTokens = min(2, srvTokens+now.Sub(srvLast).Seconds()*srvRate)
		srvLast = now
		if srvTokens >= 1 {
			srvTokens--
			ok++
			consecutive = 0
			now = now.Add(30 * time.Millisecond)
			continue
		}
		limited++
		b.limited(now)
		backoff := float64(time.Second) * math.Pow(1.5, float64(consecutive))
		consecutive++
		now = now.Add(time.Duration(backoff * (0.5 + rng.Float64())))
	}
	return float64(ok) / (limit*run.Minutes() + 2), float64(limited) / float64(ok+limited)
}

// TestBudgetSettlesUnderServerLimit checks the target of the later benchmark (against a
// limit of 30 a minute, >= 90% of the allowed throughput with < 5% of requests answered
// 429) on the model, averaged over seeds.
func TestBudgetSettlesUnderServerLimit(t *testing.T) {
	tests := []struct {
		name       string
		limit      float64 // server, per minute
		configured float64 // client's starting rate, per minute
		run        time.Duration
		minShare   float64
		max429     float64
	}{
		{"twice the limit, 15 min", 30, 60, 15 * time.Minute, 0.90, 0.05},
		{"four times the limit, 15 min", 30, 120, 15 * time.Minute, 0.90, 0.05},
		{"twenty times the limit, 15 min", 30, 600, 15 * time.Minute, 0.90, 0.05},
		{"just over the limit, 15 min", 30, 31, 15 * time.Minute, 0.90, 0.05},
		{"twice the limit, 6 min", 30, 60, 6 * time.Minute, 0.88, 0.05},
		{"at the limit", 30, 30, 15 * time.Minute, 0.98, 0},
		{"duo's documented 2 a minute", 2, 4, 6 * time.Hour, 0.90, 0.05},
		{"under the limit: the configured rate is a ceiling", 30, 20, 15 * time.Minute, 0.66, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const seeds = 8
			var share, r429 float64
			for seed := range uint64(seeds) {
				s, r := simulateLimiter(tt.configured, tt.limit, tt.run, seed)
				share += s / seeds
				r429 += r / seeds
			}
			t.Logf("share of allowed throughput %.3f, 429s %.4f", share, r429)
			assert.GreaterOrEqual(t, share, tt.minShare)
			assert.LessOrEqual(t, r429, tt.max429)
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
