// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoapi

import (
	"context"
	"sync"
	"time"
)

// Duo limits each log endpoint separately, to a few requests a minute, answers 429 42901
// past the limit and sends no Retry-After or remaining-count header (API.md 1.6, pitfall
// 11). The client therefore keeps one adaptive budget per endpoint: a token bucket (burst
// 1) whose rate halves on a 429 and creeps back up after a quiet spell. The bucket
// remembers the rate at which the last 429 came and creeps back only to settleMargin of
// it, so it settles just under the real limit instead of oscillating around it. Each 429
// lowers that memory to the rate it came at; after a long quiet time the memory is relaxed
// a little, so a limit that went up is found again. The constants were tuned on a model of
// Duo's limiter (TestBudgetSettlesUnderServerLimit): against 30 requests a minute, from a
// start of 31 to 600, about 92% of the allowed throughput after 6 minutes and 94% after
// 15, with 1-4% of requests answered 429.
const (
	settleMargin = 0.93 // creep back to this share of the rate that met a 429
	quietTokens  = 3    // a quiet spell lasts this many token intervals...
	minQuiet     = 5 * time.Second
	maxQuiet     = 5 * time.Minute // ...within these bounds
	relaxSpells  = 60              // quiet spells without a 429 before the memory is relaxed
	relaxFactor  = 1.05
	minRateShare = 1.0 / 64 // the rate never halves below this share of the configured one
)

// budget is one endpoint's adaptive token bucket. Rates are in tokens per second. It is
// driven by the times it is given, so tests run it on a virtual clock.
type budget struct {
	mu        sync.Mutex
	now       func() time.Time
	max       float64 // the configured rate; the budget never goes above it
	min       float64
	rate      float64
	ceiling   float64 // rate at which the last 429 came; 0 = none remembered
	tokens    float64
	last      time.Time // last refill
	lastStep  time.Time // last change of rate
	lastRelax time.Time // last 429 or relaxation of the ceiling
}

// newBudget returns a budget of perMinute requests a minute, or nil for no budget.
func newBudget(perMinute float64, now func() time.Time) *budget {
	if perMinute <= 0 {
		return nil
	}
	if now == nil {
		now = time.Now
	}
	r := perMinute / 60
	t := now()
	return &budget{now: now, max: r, min: r * minRateShare, rate: r, tokens: 1, last: t, lastStep: t, lastRelax: t}
}

// perMinute reports the current rate in requests a minute.
func (b *budget) perMinute() float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.rate * 60
}

func (b *budget) quiet() time.Duration {
	q := time.Duration(quietTokens / b.rate * float64(time.Second))
	return min(max(q, minQuiet), maxQuiet)
}

func (b *budget) refill(now time.Time) {
	if el := now.Sub(b.last); el > 0 {
		b.tokens = min(1, b.tokens+el.Seconds()*b.rate)
		b.last = now
	}
}

// adjust creeps the rate back towards its target, one step per quiet spell since the last
// change: each step closes half of the gap.
func (b *budget) adjust(now time.Time) {
	if b.ceiling > 0 && now.Sub(b.lastRelax) >= relaxSpells*b.quiet() {
		b.ceiling *= relaxFactor
		b.lastRelax = now
		if b.ceiling*settleMargin >= b.max {
			b.ceiling = 0
		}
	}
	target := b.max
	if b.ceiling > 0 {
		target = min(b.max, b.ceiling*settleMargin)
	}
	for b.rate < target {
		q := b.quiet()
		if now.Sub(b.lastStep) < q {
			return
		}
		b.refill(b.lastStep.Add(q))
		b.lastStep = b.lastStep.Add(q)
		b.rate += (target - b.rate) / 2
		if target-b.rate < 0.02*target {
			b.rate = target
		}
	}
}

// reserve takes a token at now and returns how long the caller must wait before sending.
func (b *budget) reserve(now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.adjust(now)
	b.refill(now)
	b.tokens--
	if b.tokens >= 0 {
		return 0
	}
	return time.Duration(-b.tokens / b.rate * float64(time.Second))
}

// unreserve gives back a token whose wait was abandoned.
func (b *budget) unreserve() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tokens = min(1, b.tokens+1)
}

// limited records a 429 at now: the ceiling becomes the rate it came at, the rate halves
// and the bucket empties (Duo's is empty too).
func (b *budget) limited(now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refill(now)
	if b.ceiling == 0 || b.rate < b.ceiling {
		b.ceiling = b.rate
	}
	b.rate = max(b.rate/2, b.min)
	b.tokens = min(b.tokens, 0)
	b.lastStep = now
	b.lastRelax = now
}

// wait blocks until the budget allows one request, or ctx is done. It returns the time
// spent waiting.
func (b *budget) wait(ctx context.Context) (time.Duration, error) {
	if b == nil {
		return 0, ctx.Err()
	}
	d := b.reserve(b.now())
	if d <= 0 {
		return 0, ctx.Err()
	}
	if err := sleep(ctx, d); err != nil {
		b.unreserve()
		return d, err
	}
	return d, nil
}

// sleep waits d or until ctx is done, whichever comes first.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
