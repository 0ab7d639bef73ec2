// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

//go:build e2e

package e2e

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/otelcol-duo/otelcol-duo/internal/duosim"
)

// BenchmarkE2EBudgetNoise runs all six log types against a simulator that answers 30% of
// requests 429 whatever their pace, with no real limit, rate_limit 60 and a 10 s pull
// interval: a backfill first, then live events. It reports, per endpoint, the lowest and
// the last budget the collector logged, the share of requests answered 429, and how long
// live events took from visible to stored once the backfill was read. Targets: budget >=
// 50% of rate_limit, every live event stored within two pull intervals. It takes minutes,
// so it runs only when asked (BENCH_BUDGET_MINUTES, default 5, or BENCH_E2E_RATELIMIT=1).
func BenchmarkE2EBudgetNoise(b *testing.B) {
	const rateLimit, interval, noise = 60.0, 10 * time.Second, 0.3
	run := longRun(b, "BENCH_BUDGET_MINUTES", 5*time.Minute)
	b.StopTimer()
	r := startBudgetRig(b, duosim.Config{Seed: 900, Delay: time.Second, Faults: duosim.Faults{P429: noise}}, budgetNoiseSizes,
		CollectorConfig{RateLimit: rateLimit, PullInterval: interval, Window: 2 * interval, Delay: time.Second})
	b.StartTimer()
	start := time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r.sim.StartLive(ctx, 1)
	from := r.caughtUp(run)
	time.Sleep(max(0, run-time.Since(start)))
	cancel()
	// Events made in the last second before the generator stopped become visible later.
	to := time.Now().Add(r.cfg.Delay + time.Second)
	WaitUntil(b, r.proc, time.Minute, func() (bool, string) {
		f, err := MeasureFreshness(r.sim.Sim, r.sink, r.cfg.LogTypes, from, to)
		return err == nil && f.Unstored == 0, "live events not stored yet"
	})
	b.StopTimer()
	f, err := MeasureFreshness(r.sim.Sim, r.sink, r.cfg.LogTypes, from, to)
	if err != nil {
		b.Fatal(err)
	}
	st := r.sim.Stats()
	budgets := r.finish("bench: 30% of requests 429 whatever their pace, rate_limit 60/min", budgetNote)
	lowest := rateLimit
	for _, lt := range r.cfg.LogTypes {
		p := duosim.Path(lt)
		reqs, s := st.Requests[p], budgets[p]
		lowest = min(lowest, s.Lowest)
		b.Logf("%-18s %5d × 200 %4d × 429 (%.1f%%); %d cuts; budget lowest %.1f, last %.1f/min",
			lt, reqs[200], reqs[429], 100*float64(reqs[429])/float64(reqs[200]+reqs[429]), s.Cuts, s.Lowest, s.Last)
	}
	b.Logf("backfill read in %s; %d live events over %s: visible→stored %s; event→stored %s",
		from.Sub(start).Round(time.Second), f.Events, to.Sub(from).Round(time.Second), f.VisibleToStored, f.EventToStored)
	b.ReportMetric(lowest/rateLimit, "lowest-budget-share")
	b.ReportMetric(float64(statusCount(st, 429))/float64(statusCount(st, 200)+statusCount(st, 429)), "share-429")
	b.ReportMetric(f.VisibleToStored.P99.Seconds(), "vis-p99-s")
	b.ReportMetric(f.VisibleToStored.Max.Seconds(), "vis-max-s")
	if os.Getenv("BENCH_E2E_STRICT") == "1" {
		if lowest < rateLimit/2 {
			b.Errorf("budget fell to %.1f/min, target >= %.0f", lowest, rateLimit/2)
		}
		if f.VisibleToStored.Max > 2*interval {
			b.Errorf("a live event took %s from visible to stored, target <= %s", f.VisibleToStored.Max, 2*interval)
		}
	}
}
