// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoapi

import (
	"context"
	"math"
	"sync"
	"time"
)

// Duo limits each log endpoint separately, to a few requests a minute, answers 429 42901
// past the limit and sends no Retry-After or remaining-count header (docs/duo-api.md §1.6,
// §6.11). The client therefore keeps one adaptive budget per endpoint: a token bucket
// (burst 1) whose rate is cut when 429s say we are too fast and creeps back up after a
// quiet spell.
//
// Not every 429 is about our rate. Other tools share the account's limit, and Duo's
// backend refuses some requests whatever their pace: cutting on each of those sinks the
// budget to nothing and leaves the receiver ever further behind, while slowing down
// never makes them stop. What tells the two apart is whether the 429s follow our rate:
//
//   - Every 429 empties the bucket, so its retry waits one interval at the current rate
//     (the client adds no backoff of its own: the budget must see the rate Duo answered).
//     A 429 among mostly successful answers is retried so, without a cut. The budget
//     cuts only when 429s cluster: at least two among the last historyLen answers, a
//     share clearly above the noise expected whatever the rate.
//   - A cut aims just under the successes a second seen before it (past a limit, those
//     are the limit), taking at most half of the budget away unless most answers were
//     429s or 429s were already proved to follow our rate. It is then tested. If 429s
//     all but vanish at the lower rate, it was right. Otherwise the old rate is tried
//     again for as many answers: if 429s are clearly thicker there, or half as many
//     answers get through, they follow our rate and the cut stays. If they are as thick
//     at both rates they are noise: the cut is undone and their share becomes the
//     expected noise, which later clusters must clearly exceed. The expected noise
//     drifts back down as quieter stretches are seen.
//   - A cut that stays leaves a ceiling, and the rate creeps back only to settleMargin
//     of it, so it settles just under the real limit instead of oscillating around it.
//     After a long time without a cut the ceiling is relaxed a little, so a limit that
//     went up is found again.
//   - The rate does not go below minPerMinute (Duo's documented figure), or the
//     configured rate if lower, unless it is there already and 429s cluster still.
//
// The constants were tuned on a model of Duo's limiter, with and without noise
// (TestBudgetSettlesUnderServerLimit, TestBudgetIgnoresNoise).
const (
	settleMargin = 0.93 // aim and creep back to this share of the ceiling
	quietTokens  = 3    // a quiet spell lasts this many token intervals...
	minQuiet     = 5 * time.Second
	maxQuiet     = 5 * time.Minute // ...within these bounds
	relaxSpells  = 60              // quiet spells without a cut before the ceiling is relaxed
	relaxFactor  = 1.05
	minRateShare = 1.0 / 64 // the rate never goes below this share of the configured one
	minPerMinute = 2.0      // Duo's documented per-endpoint figure (docs/duo-api.md §1.6)

	historyLen  = 32    // answers looked at to decide whether 429s cluster
	minAnswers  = 16    // answers needed in the history before a cut
	probeLen    = 16    // answers at each rate that test a cut
	warmUp      = 4     // answers at the old rate before those
	maxCut      = 0.75  // a cut takes the rate to at most this share of what we sent at...
	firstCut    = 0.5   // ...and at least this share of the budget...
	minCut      = 0.125 // ...or of what we sent at, when most answers were 429s or 429s were proved
	minExcess   = 0.05  // 429 share above the expected noise that makes a cluster...
	noiseSigmas = 4     // ...or this many standard deviations of the noise, if more
	minGap      = 0.15  // a cut is proved if the old rate's 429 share is worse by this...
	gapSigmas   = 2     // ...or this many standard deviations, if more
	noiseWeight = 0.25  // weight of a quieter stretch in the expected noise
)

// budget is one endpoint's adaptive token bucket. Rates are in tokens per second. It is
// driven by the times it is given, so tests run it on a virtual clock.
type budget struct {
	mu        sync.Mutex
	now       func() time.Time
	max       float64 // the configured rate; the budget never goes above it
	floor     float64 // a cut goes below this only from this rate or lower
	min       float64
	rate      float64
	ceiling   float64 // the limit the last cut that stayed found; 0 = none remembered
	tokens    float64
	last      time.Time // last refill
	lastStep  time.Time // last change of rate
	lastRelax time.Time // last cut or relaxation of the ceiling

	history history // the last historyLen answers, since the last cut
	noise   float64 // the share of 429s expected whatever the rate
	block   history // answers since the expected noise was last revised
	probe   *probe  // the cut being judged, if any
	// congested is set while the last judged cut was proved right: 429s that follow our
	// rate allow deeper cuts.
	congested bool
}

// history counts 429s among the last answers, up to historyLen, and when they came.
type history struct {
	hit  [historyLen]bool
	at   [historyLen]time.Time
	n    int // answers recorded, at most historyLen
	pos  int
	hits int // 429s among them
}

func (h *history) add(now time.Time, limited bool) {
	if h.n == historyLen {
		if h.hit[h.pos] {
			h.hits--
		}
	} else {
		h.n++
	}
	h.hit[h.pos], h.at[h.pos] = limited, now
	if limited {
		h.hits++
	}
	h.pos = (h.pos + 1) % historyLen
}

// share is the 429 share of the answers; slots not filled yet count as successes, so that
// the first 429s of a run are not a cluster on their own.
func (h *history) share() float64 { return float64(h.hits) / historyLen }

// rates returns the answers and the successes a second from the oldest answer to now.
// One success is left out: a limiter's bucket lets a short burst through after a quieter
// spell, and counting it would put the limit found above the real one.
func (h *history) rates(now time.Time) (answers, successes float64) {
	oldest := h.at[0]
	if h.n == historyLen {
		oldest = h.at[h.pos]
	}
	span := now.Sub(oldest).Seconds()
	if span <= 0 {
		return 0, 0
	}
	return float64(h.n) / span, float64(max(h.n-h.hits-1, 0)) / span
}

// probe is a cut under test: the state before it, and the answers at the lower rate
// (low) and then, when those were not clear, at the old rate again (high).
type probe struct {
	rate, ceiling float64 // before the cut
	cut           float64
	share         float64 // 429 share of the answers before the cut
	high          bool    // trying the old rate again
	low, again    tally
	warm          int // answers at the old rate not counted yet
}

type tally struct{ n, hits int }

func (t tally) share() float64 { return float64(t.hits) / float64(max(t.n, 1)) }

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
	return &budget{
		now: now, max: r, floor: min(r, minPerMinute/60), min: r * minRateShare, rate: r,
		tokens: 1, last: t, lastStep: t, lastRelax: t,
	}
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
// change: each step closes half of the gap. It holds still while a cut is judged, so the
// probe sees one rate.
func (b *budget) adjust(now time.Time) {
	if b.probe != nil {
		return
	}
	if b.ceiling > 0 && now.Sub(b.lastRelax) >= relaxSpells*b.quiet() {
		b.ceiling *= relaxFactor
		b.lastRelax = now
		if b.ceiling*settleMargin >= b.max {
			b.ceiling, b.congested = 0, false
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

// accepted records an answer other than 429 at now.
func (b *budget) accepted(now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.answer(now, false)
}

// limited records a 429 at now and reports whether the rate was cut. The bucket empties
// either way (Duo's is empty too), so the retry waits a token interval.
func (b *budget) limited(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refill(now)
	b.tokens = min(b.tokens, 0)
	probing := b.probe != nil
	b.answer(now, true)
	if probing || b.history.n < minAnswers || b.history.hits < 2 || b.history.share() <= b.noise+b.margin() {
		return false
	}
	// When fewer requests than the budget allows need sending, the rate that met the
	// 429s is the one we sent at.
	answers, successes := b.history.rates(now)
	at := b.rate
	if answers > 0 && answers < b.rate/2 {
		at = answers
	}
	floor := b.floor
	if b.rate <= floor {
		floor = b.min
	}
	// Until 429s are proved to follow our rate, a cut keeps half of the budget: noise
	// must not take more, even while fewer requests are needed than it allows.
	deepest := firstCut * b.rate
	if b.congested || b.history.hits*8 > b.history.n*5 {
		deepest = minCut * at // proved, or most answers are 429s: too many to be noise
	}
	cut := max(min(settleMargin*successes, maxCut*at), deepest, floor)
	if cut >= b.rate {
		return false
	}
	b.probe = &probe{
		rate: b.rate, ceiling: b.ceiling, cut: cut, share: float64(b.history.hits) / float64(b.history.n),
	}
	if b.ceiling == 0 || at < b.ceiling {
		b.ceiling = max(cut/settleMargin, min(at, successes))
	}
	b.setRate(now, cut)
	b.history = history{}
	b.lastRelax = now
	return true
}

func (b *budget) setRate(now time.Time, r float64) {
	b.refill(now)
	b.rate = r
	b.lastStep = now
}

// margin is how far above the expected noise the 429 share must be to count as a
// cluster: a few standard deviations of the noise over the history.
func (b *budget) margin() float64 {
	return max(minExcess, noiseSigmas*math.Sqrt(b.noise*(1-b.noise)/historyLen))
}

// answer records one answer in the history, the noise estimate and the probe, and judges
// the probe when it has seen enough.
func (b *budget) answer(now time.Time, limited bool) {
	b.history.add(now, limited)
	b.block.add(now, limited)
	if b.block.n == historyLen {
		if s := b.block.share(); s < b.noise {
			b.noise += noiseWeight * (s - b.noise)
		}
		b.block = history{}
	}
	p := b.probe
	if p == nil {
		return
	}
	t := &p.low
	if p.high {
		// The first answers at the old rate drain the burst Duo's bucket saved up during
		// the slower stretch; they are not counted.
		if p.warm < warmUp {
			p.warm++
			return
		}
		t = &p.again
	}
	t.n++
	if limited {
		t.hits++
	}
	if t.n < probeLen {
		return
	}
	if !p.high {
		// Once 429s have been proved to follow our rate, thinner is enough; thinner than
		// the expected noise, always.
		lo, enough := p.low.share(), p.share/4
		if b.congested {
			enough = p.share / 2
		}
		if lo <= enough && (b.noise == 0 || lo <= b.noise/4) {
			b.proved() // 429s all but vanished at the lower rate
			return
		}
		p.high = true
		b.setRate(now, p.rate)
		return
	}
	lo, hi := p.low.share(), p.again.share()
	pooled := float64(p.low.hits+p.again.hits) / float64(p.low.n+p.again.n)
	gap := max(minGap, gapSigmas*math.Sqrt(pooled*(1-pooled)*2/probeLen))
	// Far past a limit both rates are mostly 429s; what shows it is that at the old rate
	// half as many answers or fewer got through, where noise takes the same share at any
	// rate.
	if hi-lo > gap || 1-hi <= (1-lo)/2 {
		b.setRate(now, p.cut)
		b.proved()
		return
	}
	// As thick at both rates: noise. The old rate stays, and so does the old ceiling.
	b.probe, b.congested = nil, false
	b.ceiling = p.ceiling
	b.noise = max(b.noise, pooled)
}

// proved ends the probe of a cut that was right.
func (b *budget) proved() {
	b.probe, b.congested = nil, true
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
