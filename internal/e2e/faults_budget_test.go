// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/otelcol-duo/otelcol-duo/internal/duosim"
)

// The request budget's rows of the fault matrix: 429s that do not follow our rate (noise)
// and a real per-endpoint limit under the configured rate_limit. Each backfills enough
// pages that the budget, not the pulls, sets the pace, so that it meets the 429s with
// something to decide. The figures of long runs come from BenchmarkE2EBudgetNoise and
// BenchmarkE2ERateLimit; these rows check delivery and the budget's bounds.

// budgetRig is one budget row: a simulator, a stamping sink and the collector.
type budgetRig struct {
	t    testing.TB
	sim  *SimServer
	sink *StampingSink
	cfg  CollectorConfig
	proc *Process
	rss  RSSWatch
}

func startBudgetRig(t testing.TB, simCfg duosim.Config, sizes map[string]int, cfg CollectorConfig) *budgetRig {
	t.Helper()
	bin := Collector(t)
	dir := t.TempDir()
	sim := StartSim(t, simCfg)
	now := time.Now()
	for lt, n := range sizes {
		sim.Backfill(lt, n, now.Add(-time.Hour), now.Add(-time.Minute))
	}
	sink := StartStampingSink(t)
	cfg.SimURL, cfg.Host, cfg.IntegrationKey, cfg.SecretKey = sim.URL, sim.Host, sim.IntegrationKey, sim.SecretKey
	cfg.SinkURL, cfg.StorageDir = sink.URL, filepath.Join(dir, "storage")
	r := &budgetRig{t: t, sim: sim, sink: sink, cfg: cfg.Defaults()}
	r.proc = StartCollector(t, bin, WriteConfig(t, cfg, dir))
	r.rss.Watch(r.proc)
	r.proc.WaitReady(t, time.Minute)
	return r
}

// caughtUp waits until every event the simulator made visible up to a moment ago is in
// the sink, and returns when that first held.
func (r *budgetRig) caughtUp(timeout time.Duration) time.Time {
	r.t.Helper()
	var missing int
	WaitUntil(r.t, r.proc, timeout, func() (bool, string) {
		want := Counts{}
		at := time.Now().Add(-r.cfg.PullInterval - r.cfg.Delay)
		for _, lt := range r.cfg.LogTypes {
			for _, e := range r.sim.Visible(lt, at) {
				k, err := keyOfRaw(lt, e.ID, e.Raw)
				if err != nil {
					return false, err.Error()
				}
				want[k]++
			}
		}
		missing = Compare(want, r.sink.Received()).Missing.Total()
		return missing == 0, fmt.Sprintf("%d events visible for a pull interval not yet stored", missing)
	})
	return time.Now()
}

// finish stops the collector, checks every event arrived exactly once, reports the row
// and returns the budget's 429 log by endpoint.
func (r *budgetRig) finish(fault string, note func(map[string]BudgetSummary) string) map[string]BudgetSummary {
	r.t.Helper()
	if err := r.proc.Stop(30 * time.Second); err != nil {
		r.t.Errorf("collector did not shut down cleanly: %v", err)
	}
	r.rss.Wait()
	want, err := Expected(r.sim.Sim, r.cfg.LogTypes...)
	if err != nil {
		r.t.Fatal(err)
	}
	d := Compare(want, r.sink.Received())
	budgets := SummarizeBudgets(BudgetEvents(r.proc.Log()))
	ReportFaultRow(r.t, FaultRow{
		Fault: fault, Expected: d.Expected, Delivered: d.Received,
		Missing: d.Missing.Total(), Duplicated: d.Duplicated.Total(),
		PeakRSSMB: r.rss.PeakMB(), Note: note(budgets),
	})
	if !d.Exact() {
		r.t.Errorf("%s: delivery is not exactly once: %s", fault, d)
	}
	if mb := r.rss.PeakMB(); mb <= 0 || mb > faultsMaxRSSMB() {
		r.t.Errorf("%s: peak RSS %.1f MB, want within (0, %.0f] MB", fault, mb, faultsMaxRSSMB())
	}
	return budgets
}

// budgetNote lists, per endpoint, what the collector logged of its budget.
func budgetNote(budgets map[string]BudgetSummary) string {
	var b strings.Builder
	for _, p := range slices.Sorted(maps.Keys(budgets)) {
		s := budgets[p]
		fmt.Fprintf(&b, "; %s: %d × 429, %d cuts, budget lowest %.1f last %.1f/min",
			p[strings.LastIndex(p, "/")+1:], s.Limited, s.Cuts, s.Lowest, s.Last)
	}
	return b.String()
}

// budgetNoiseSizes: 15 to 20 pages per log type, so that the backfill is paced by the
// budget long enough for it to meet clusters of 429s.
var budgetNoiseSizes = map[string]int{
	"authentication":     20000,
	"administrator":      15000,
	"telephony":          15000,
	"activity":           15000,
	"offline_enrollment": 15000,
	"trust_monitor":      7500,
}

// TestFaultsBudgetNoise: 30% of requests answered 429 whatever their pace, no real limit,
// rate_limit 120. The budget must stay at half of it or more on every endpoint, and once
// the backfill is read, every live event must be stored within two pull intervals of
// becoming visible.
//
// The pulls are 10 s apart, not a few seconds: the budget paces the retry of each 429 at
// its rate (0.5 to 1 s here), and the bound holds when those retries are small against
// the interval, as they are at the 1 m default. At 3 s pulls, three 429s in a row (one
// pull in 40 under this noise) took an event past two intervals with the receiver working
// as designed.
func TestFaultsBudgetNoise(t *testing.T) {
	const rateLimit, interval = 120.0, 10 * time.Second
	live := faultsDuration("FAULTS_BUDGET_LIVE", 40*time.Second)
	r := startBudgetRig(t, duosim.Config{Seed: 800, Delay: time.Second, Faults: duosim.Faults{P429: 0.3}}, budgetNoiseSizes,
		CollectorConfig{RateLimit: rateLimit, PullInterval: interval, Window: 2 * interval, Delay: time.Second})
	ctx, cancel := context.WithCancel(Context(t))
	defer cancel()
	r.sim.StartLive(ctx, 1)
	from := r.caughtUp(4 * time.Minute)
	time.Sleep(live)
	cancel()
	// Events made in the last second before the generator stopped become visible later.
	to := time.Now().Add(r.cfg.Delay + time.Second)
	WaitUntil(t, r.proc, time.Minute, func() (bool, string) {
		f, err := MeasureFreshness(r.sim.Sim, r.sink, r.cfg.LogTypes, from, to)
		if err != nil {
			return false, err.Error()
		}
		return f.Unstored == 0, fmt.Sprintf("%d live events not stored yet", f.Unstored)
	})
	f, err := MeasureFreshness(r.sim.Sim, r.sink, r.cfg.LogTypes, from, to)
	if err != nil {
		t.Fatal(err)
	}
	budgets := r.finish("budget: 30% of requests 429 whatever their pace, no limit, rate_limit 120/min", func(b map[string]BudgetSummary) string {
		return fmt.Sprintf("%d live events over %s, visible→stored %s", f.Events, to.Sub(from).Round(time.Second), f.VisibleToStored) + budgetNote(b)
	})
	if len(budgets) == 0 {
		t.Error("the collector logged no 429: the noise was not exercised")
	}
	for p, s := range budgets {
		if s.Lowest < rateLimit/2 {
			t.Errorf("%s: budget fell to %.1f/min, want >= %.0f (half of rate_limit)", p, s.Lowest, rateLimit/2)
		}
	}
	if f.Events == 0 {
		t.Error("no live event was measured")
	}
	if f.VisibleToStored.Max > 2*interval {
		t.Errorf("a live event took %s from visible to stored, want <= %s (two pull intervals)", f.VisibleToStored.Max, 2*interval)
	}
}

// TestFaultsBudgetLimit: a real limit of 60 requests a minute per endpoint, rate_limit 120.
// The budget must find the limit without collapsing under it: the backfill is read at 80%
// or more of what the limit allows, with at most a quarter of the requests answered 429
// (the long-run figures, in BenchmarkE2ERateLimit, are >= 90% and < 5%), and each
// endpoint's budget ends between 75% and 105% of the limit.
func TestFaultsBudgetLimit(t *testing.T) {
	const limit, rateLimit = 60.0, 120.0
	// 40 pages per log type: at the limit, 40 s of reading paced by the budget.
	lts := []string{"authentication", "activity"}
	sizes := map[string]int{"authentication": 40000, "activity": 40000}
	r := startBudgetRig(t, duosim.Config{Seed: 801, Delay: time.Second, Faults: duosim.Faults{RateLimit: limit}}, sizes,
		CollectorConfig{LogTypes: lts, RateLimit: rateLimit, PullInterval: 3 * time.Second, Window: 6 * time.Second, Delay: time.Second})
	start := time.Now()
	done := r.caughtUp(4 * time.Minute)
	st := r.sim.Stats()
	allowed := limit*done.Sub(start).Minutes() + 2 // the simulator's bucket starts full
	type figure struct{ share, share429 float64 }
	figures := map[string]figure{}
	for _, lt := range lts {
		reqs := st.Requests[duosim.Path(lt)]
		figures[lt] = figure{float64(reqs[200]) / allowed, float64(reqs[429]) / float64(reqs[200]+reqs[429])}
	}
	budgets := r.finish(fmt.Sprintf("budget: real limit %.0f/min/endpoint, rate_limit %.0f/min", limit, rateLimit), func(b map[string]BudgetSummary) string {
		var s strings.Builder
		fmt.Fprintf(&s, "backfill read in %s", done.Sub(start).Round(time.Second))
		for _, lt := range lts {
			fmt.Fprintf(&s, "; %s %.1f%% of allowed, %.1f%% 429", lt, 100*figures[lt].share, 100*figures[lt].share429)
		}
		return s.String() + budgetNote(b)
	})
	for _, lt := range lts {
		f := figures[lt]
		if f.share < 0.8 || f.share429 > 0.25 {
			t.Errorf("%s: %.1f%% of the allowed requests with %.1f%% answered 429, want >= 80%% and <= 25%%", lt, 100*f.share, 100*f.share429)
		}
		s, ok := budgets[duosim.Path(lt)]
		if !ok {
			t.Errorf("%s: no 429 logged: the limit was not met", lt)
			continue
		}
		if s.Last < 0.75*limit || s.Last > 1.05*limit {
			t.Errorf("%s: budget ended at %.1f/min, want within [%.0f, %.0f]", lt, s.Last, 0.75*limit, 1.05*limit)
		}
	}
}
