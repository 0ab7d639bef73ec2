// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

//go:build e2e

package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/otelcol-duo/otelcol-duo/internal/duosim"
)

// The end-to-end benchmarks. They are benchmarks, not tests, so that
// `make test-e2e` (-run '^TestE2E') never runs them and `make bench-e2e`
// (-bench '^BenchmarkE2E' -benchtime 1x) prints their figures in the benchmark format
// benchstat reads; -count N repeats them. Their figures are reported, not asserted
// (the machines are shared), unless BENCH_E2E_STRICT=1; a wrong record count always
// fails.
//
// The floor (FetchFloor) is a plain signed GET loop following next_offset rather than
// duoapi.Client.Fetch with a no-op callback: duoapi is internal to receiver/duoreceiver
// and cannot be imported from here, and the plainer loop is the stricter floor (signing,
// HTTP, the simulator's serving; no validation, no decoding), so the ratio measures all
// the receiver adds. It runs against the same simulator and window just before the
// collector; the clock of the end-to-end run starts at the collector's first log request
// and stops when the sink has counted the last record.
//
//	make bench-e2e                        the backfills, 1,000,000 and 100,000 records
//	BENCH_E2E_RATELIMIT=1 make bench-e2e  the same plus the 5-minute rate-limited run
//
// Environment:
//
//	BENCH_E2E_RECORDS        comma-separated backfill sizes (default 1000000,100000)
//	BENCH_E2E_STORAGE=0      keep the receiver's cursors in memory instead of file_storage
//	BENCH_E2E_COMPRESSION    exporter compression, none (default) or gzip
//	BENCH_E2E_BATCH          batch processor send_batch_(max_)size: default 1000, -1 none
//	BENCH_E2E_MEMORY_LIMIT_MIB  add a memory_limiter with this limit_mib
//	BENCH_E2E_STRICT=1       fail when a target below is missed
//	BENCH_RATELIMIT_MINUTES  run BenchmarkE2ERateLimit for this many minutes
//	BENCH_E2E_RATELIMIT=1    run BenchmarkE2ERateLimit for 5 minutes

// Targets: what the receiver must reach end to end (checked under BENCH_E2E_STRICT=1).
const (
	targetRatio       = 1.5       // end-to-end time / fetch-only floor time
	targetPeakRSS     = 150 << 20 // bytes, for 100,000 and for 1,000,000 records
	targetShare       = 0.90      // of the allowed records a minute under a rate limit
	targetShare429    = 0.05      // of requests answered 429 under a rate limit
	rateLimitPerMin   = 30.0      // the simulator's per-endpoint limit
	rateLimitBudget   = 60.0      // the receiver's starting budget: it must learn the limit
	defaultRLDuration = 5 * time.Minute
)

// BenchmarkE2EBackfill runs otelcol-duo against the simulator with no rate limit over a
// backfill of authentication records, and the fetch-only floor over the same pages. It
// reports records a second, collector CPU seconds per million records, the collector's
// peak RSS, and the ratio of the end-to-end time to the floor's.
func BenchmarkE2EBackfill(b *testing.B) {
	bin := Collector(b)
	for _, n := range backfillSizes(b) {
		b.Run("records="+strconv.Itoa(n), func(b *testing.B) {
			var sum backfillResult
			for i := 0; i < b.N; i++ {
				r := runBackfill(b, bin, n)
				sum.add(r)
			}
			sum.report(b, b.N)
		})
	}
}

func backfillSizes(tb testing.TB) []int {
	v := os.Getenv("BENCH_E2E_RECORDS")
	if v == "" {
		return []int{1_000_000, 100_000}
	}
	var out []int
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			tb.Fatalf("BENCH_E2E_RECORDS: %q is not a positive integer", f)
		}
		out = append(out, n)
	}
	return out
}

type backfillResult struct {
	e2e, floor     time.Duration
	floorCPU       time.Duration // this process (simulator and fetch-only client) during the floor
	simCPU         time.Duration // this process (simulator and counting sink) during the end-to-end run
	cpu, cpuTotal  time.Duration // collector CPU from its first log request; and since exec
	peakRSS        int64
	records, pages int
}

func (r *backfillResult) add(o backfillResult) {
	r.e2e += o.e2e
	r.floor += o.floor
	r.floorCPU += o.floorCPU
	r.simCPU += o.simCPU
	r.cpu += o.cpu
	r.cpuTotal += o.cpuTotal
	r.peakRSS = max(r.peakRSS, o.peakRSS)
	r.records += o.records
	r.pages += o.pages
}

func (r backfillResult) report(b *testing.B, runs int) {
	e2e, floor := r.e2e.Seconds()/float64(runs), r.floor.Seconds()/float64(runs)
	ratio := e2e / floor
	recPerSec := float64(r.records) / r.e2e.Seconds()
	cpuPerM := r.cpu.Seconds() / float64(r.records) * 1e6
	rssMB := float64(r.peakRSS) / (1 << 20)
	b.ReportMetric(recPerSec, "records/s")
	b.ReportMetric(cpuPerM, "cpu-s/Mrec")
	b.ReportMetric(rssMB, "peak-RSS-MiB")
	b.ReportMetric(e2e, "e2e-s")
	b.ReportMetric(floor, "floor-s")
	b.ReportMetric(ratio, "e2e/floor")
	// The same comparison in CPU seconds, which the load of a shared machine does not skew:
	// (collector + simulator + sink) over (simulator + fetch-only client).
	cpuRatio := (r.cpu + r.simCPU).Seconds() / r.floorCPU.Seconds()
	b.ReportMetric(cpuRatio, "e2e/floor-cpu")
	b.Logf("%d records: end to end %.2fs (%.0f records/s), floor %.2fs, ratio %.2f (target <= %.1f), CPU ratio %.2f; collector CPU %.2fs per million records (%.2fs since exec); peak RSS %.1f MiB (target < %d)",
		r.records/runs, e2e, recPerSec, floor, ratio, targetRatio, cpuRatio, cpuPerM,
		r.cpuTotal.Seconds()/float64(runs), rssMB, targetPeakRSS>>20)
	if os.Getenv("BENCH_E2E_STRICT") == "1" {
		if ratio > targetRatio {
			b.Errorf("end to end is %.2fx the fetch-only floor, target %.1fx", ratio, targetRatio)
		}
		if r.peakRSS >= targetPeakRSS {
			b.Errorf("peak RSS %.1f MiB, target under %d MiB", rssMB, targetPeakRSS>>20)
		}
	}
}

// runBackfill runs one backfill of n authentication records: first the fetch-only floor,
// then otelcol-duo, both against the same simulator and window. Each opt, if any, changes
// the collector's configuration after the environment has.
func runBackfill(b *testing.B, bin string, n int, opts ...func(*BenchConfig)) backfillResult {
	b.Helper()
	b.StopTimer()
	ctx := Context(b)
	now := time.Now()
	sim := StartTimedSim(b, duosim.Config{Seed: 6}, authPath)
	sim.Backfill("authentication", n, now.Add(-2*time.Hour), now.Add(-10*time.Minute))

	// The floor reads the window the receiver's first pull reads.
	lookback := 3 * time.Hour
	hc := &http.Client{Timeout: 30 * time.Second}
	before := sim.Stats()
	self0 := selfCPU(b)
	fl, err := FetchFloor(ctx, hc, sim.SimServer, now.Add(-lookback), now)
	floorCPU := selfCPU(b) - self0
	hc.CloseIdleConnections()
	if err != nil {
		b.Fatalf("floor: %v", err)
	}
	// The simulator counts a response after writing it: wait for the last one.
	WaitUntil(b, nil, 5*time.Second, func() (bool, string) {
		got := sim.Stats().Records[authPath] - before.Records[authPath]
		return got == n, fmt.Sprintf("floor read %d records, want %d", got, n)
	})

	sink := StartCountingSink(b)
	dir := b.TempDir()
	cfg := BenchConfig{
		SimURL: sim.URL, Host: sim.Host, IntegrationKey: sim.IntegrationKey, SecretKey: sim.SecretKey,
		SinkURL:         sink.URL,
		InitialLookback: lookback,
		RateLimit:       0, // no budget (the receiver's rate_limit: 0)
		Compression:     os.Getenv("BENCH_E2E_COMPRESSION"),
	}
	if v := os.Getenv("BENCH_E2E_BATCH"); v != "" {
		if cfg.BatchSize, err = strconv.Atoi(v); err != nil {
			b.Fatalf("BENCH_E2E_BATCH: %v", err)
		}
	}
	if v := os.Getenv("BENCH_E2E_MEMORY_LIMIT_MIB"); v != "" {
		if cfg.MemoryLimitMiB, err = strconv.Atoi(v); err != nil {
			b.Fatalf("BENCH_E2E_MEMORY_LIMIT_MIB: %v", err)
		}
	}
	if os.Getenv("BENCH_E2E_STORAGE") != "0" {
		cfg.StorageDir = filepath.Join(dir, "storage")
	}
	for _, opt := range opts {
		opt(&cfg)
	}
	cfgPath := writeBenchConfig(b, cfg, dir)

	var pid atomic.Int64
	var cpuAtFirst, selfAtFirst atomic.Int64
	// The floor's requests came first: time from the collector's.
	sim.Reset(func() {
		// An HTTP handler's goroutine: no Fatal here.
		if ps, err := ReadProcStats(os.Getpid()); err == nil {
			selfAtFirst.Store(int64(ps.CPU))
		}
		if p := pid.Load(); p != 0 {
			if ps, err := ReadProcStats(int(p)); err == nil {
				cpuAtFirst.Store(int64(ps.CPU))
			}
		}
	})
	before = sim.Stats()
	b.StartTimer()
	proc := StartCollector(b, bin, cfgPath)
	pid.Store(int64(proc.Pid()))

	// VmHWM once a tenth and once half of the records are through: if memory grew with
	// the backlog, the high-water mark would keep rising after them.
	var end ProcStats
	hwmAt := map[int]int64{}
	WaitUntil(b, proc, 15*time.Minute, func() (bool, string) {
		got, _, _ := sink.Counts()
		if got < int64(n) {
			for _, pct := range []int{10, 50} {
				if _, ok := hwmAt[pct]; !ok && got*100 >= int64(n*pct) {
					if ps, err := ReadProcStats(proc.Pid()); err == nil {
						hwmAt[pct] = ps.PeakRSS
					}
				}
			}
			return false, fmt.Sprintf("sink has %d of %d records", got, n)
		}
		ps, err := ReadProcStats(proc.Pid())
		if err != nil {
			b.Fatalf("cannot read the collector's /proc figures: %v", err)
		}
		end = ps
		return true, ""
	})
	b.StopTimer()
	selfE2E := selfCPU(b) - time.Duration(selfAtFirst.Load())
	first := sim.First()
	got, requests, last := sink.Counts()
	if err := proc.Stop(10 * time.Second); err != nil {
		b.Errorf("collector did not stop cleanly: %v", err)
	}
	if final, _, _ := sink.Counts(); final != int64(n) {
		b.Fatalf("sink received %d records, want exactly %d (the simulator made %d)", final, n, n)
	}
	after := sim.Stats()
	pages := total(after.Requests[authPath]) - total(before.Requests[authPath])
	r := backfillResult{
		e2e:      last.Sub(first),
		floor:    fl.Elapsed,
		floorCPU: floorCPU,
		simCPU:   selfE2E,
		cpu:      end.CPU - time.Duration(cpuAtFirst.Load()),
		cpuTotal: end.CPU,
		peakRSS:  end.PeakRSS,
		records:  int(got),
		pages:    pages,
	}
	b.Logf("run: %d records in %d sink requests, %d log requests (floor %d pages, %.1f MB); e2e %s, floor %s; collector CPU %s (%s since exec), test process (sim+sink) CPU %s, floor (sim+client) CPU %s; VmHWM %.1f MiB at 10%%, %.1f MiB at 50%%, %.1f MiB at the end; VmRSS at end %.1f MiB",
		got, requests, pages, fl.Pages, float64(fl.Bytes)/1e6, r.e2e.Round(time.Millisecond), r.floor.Round(time.Millisecond),
		r.cpu.Round(10*time.Millisecond), r.cpuTotal.Round(10*time.Millisecond), r.simCPU.Round(10*time.Millisecond), r.floorCPU.Round(10*time.Millisecond),
		float64(hwmAt[10])/(1<<20), float64(hwmAt[50])/(1<<20), float64(end.PeakRSS)/(1<<20), float64(end.RSS)/(1<<20))
	return r
}

func writeBenchConfig(tb testing.TB, c BenchConfig, dir string) string {
	tb.Helper()
	y, err := c.Render()
	if err != nil {
		tb.Fatalf("cannot render the benchmark config: %v", err)
	}
	p := filepath.Join(dir, "collector.yaml")
	if err := os.WriteFile(p, y, 0o600); err != nil {
		tb.Fatal(err)
	}
	return p
}

// longRun is how long a benchmark that takes minutes runs: the minutes in env if set,
// else def if BENCH_E2E_RATELIMIT=1; otherwise it skips the benchmark.
func longRun(b *testing.B, env string, def time.Duration) time.Duration {
	b.Helper()
	v := os.Getenv(env)
	if v == "" {
		if os.Getenv("BENCH_E2E_RATELIMIT") != "1" {
			b.Skipf("takes %g minutes: set BENCH_E2E_RATELIMIT=1 (or %s)", def.Minutes(), env)
		}
		return def
	}
	m, err := strconv.ParseFloat(v, 64)
	if err != nil || m <= 0 {
		b.Fatalf("%s: %q is not a positive number", env, v)
	}
	return time.Duration(m * float64(time.Minute))
}

// BenchmarkE2ERateLimit runs otelcol-duo through a backfill larger than it can read
// against a simulator enforcing 30 requests a minute on the endpoint, with the receiver's
// budget starting at twice that so that it has to learn the limit from 429s. It reports
// the share of the allowed requests (and records) achieved and the share of requests
// answered 429. It takes minutes, so it runs only when asked (BENCH_RATELIMIT_MINUTES or
// BENCH_E2E_RATELIMIT=1).
func BenchmarkE2ERateLimit(b *testing.B) {
	run := longRun(b, "BENCH_RATELIMIT_MINUTES", defaultRLDuration)
	bin := Collector(b)
	b.StopTimer()
	now := time.Now()
	sim := StartTimedSim(b, duosim.Config{Seed: 6, Faults: duosim.Faults{RateLimit: rateLimitPerMin}}, authPath)
	// Twice what the limit lets through in the run: the receiver never runs dry.
	sim.Backfill("authentication", int(2*1000*rateLimitPerMin*run.Minutes())+2000, now.Add(-5*time.Hour), now.Add(-time.Hour))
	sink := StartCountingSink(b)
	dir := b.TempDir()
	cfgPath := writeBenchConfig(b, BenchConfig{
		SimURL: sim.URL, Host: sim.Host, IntegrationKey: sim.IntegrationKey, SecretKey: sim.SecretKey,
		SinkURL:         sink.URL,
		InitialLookback: 6 * time.Hour,
		RateLimit:       rateLimitBudget,
		// What a deployment would use: the configretry defaults' shape, a shorter start.
		RetryInitial: time.Second, RetryMax: 30 * time.Second, RetryMultiplier: 1.5, RetryRandomization: 0.5,
	}, dir)
	started := make(chan struct{})
	sim.Reset(func() { close(started) })

	b.StartTimer()
	proc := StartCollector(b, bin, cfgPath)
	select {
	case <-started:
	case <-proc.Done():
		b.Fatal("collector exited before its first request")
	case <-time.After(time.Minute):
		b.Fatal("no request to the authentication endpoint within a minute")
	}
	select {
	case <-time.After(run - time.Since(sim.First())):
	case <-proc.Done():
		b.Fatal("collector exited during the run")
	}
	elapsed := time.Since(sim.First())
	st := sim.Stats()
	delivered, _, _ := sink.Counts()
	b.StopTimer()
	if err := proc.Stop(10 * time.Second); err != nil {
		b.Errorf("collector did not stop cleanly: %v", err)
	}

	// The budget's reaction to each 429, from the receiver's warnings.
	for _, line := range strings.Split(proc.Log(), "\n") {
		if !strings.Contains(line, "rate limited") {
			continue
		}
		at, budget := strings.Fields(line)[0], "?"
		if _, v, ok := strings.Cut(line, `"budget_per_minute": `); ok {
			budget = strings.TrimRight(strings.Fields(v)[0], ",}")
		}
		b.Logf("%s 429: budget now %s/min", at, budget)
	}
	budget := SummarizeBudgets(BudgetEvents(proc.Log()))[authPath]
	b.Logf("budget: %d × 429 logged, %d cuts, lowest %.1f/min, last %.1f/min", budget.Limited, budget.Cuts, budget.Lowest, budget.Last)
	b.ReportMetric(budget.Last, "last-budget/min")
	reqs := st.Requests[authPath]
	ok, limited := reqs[200], reqs[429]
	burst := 2.0 // the simulator's bucket starts full (duosim Faults.RateLimit)
	allowed := rateLimitPerMin*elapsed.Minutes() + burst
	share := float64(ok) / allowed
	share429 := float64(limited) / float64(ok+limited)
	served := st.Records[authPath]
	recPerMin := float64(served) / elapsed.Minutes()
	maxRecPerMin := 1000 * rateLimitPerMin
	b.ReportMetric(share, "share-of-allowed")
	b.ReportMetric(float64(served)/(1000*allowed), "record-share")
	b.ReportMetric(share429, "share-429")
	b.ReportMetric(recPerMin, "records/min")
	b.Logf("run %s: 200=%d 429=%d other=%v allowed=%.1f: %.1f%% of allowed requests, %.2f%% answered 429; served %d records (%.0f/min, %.1f%% of the maximum %.0f/min), %d delivered to the sink",
		elapsed.Round(time.Second), ok, limited, others(reqs), allowed, 100*share, 100*share429,
		served, recPerMin, 100*recPerMin/maxRecPerMin, maxRecPerMin, delivered)
	if os.Getenv("BENCH_E2E_STRICT") == "1" {
		if share < targetShare {
			b.Errorf("%.1f%% of the allowed requests, target >= %.0f%%", 100*share, 100*targetShare)
		}
		if share429 >= targetShare429 {
			b.Errorf("%.2f%% of requests answered 429, target < %.0f%%", 100*share429, 100*targetShare429)
		}
	}
}

// others returns the status counts other than 200 and 429.
func others(m map[int]int) map[int]int {
	out := map[int]int{}
	for k, v := range m {
		if k != http.StatusOK && k != http.StatusTooManyRequests {
			out[k] = v
		}
	}
	return out
}

// selfCPU returns this process's CPU time so far.
func selfCPU(tb testing.TB) time.Duration {
	ps, err := ReadProcStats(os.Getpid())
	if err != nil {
		tb.Fatalf("cannot read this process's /proc figures: %v", err)
	}
	return ps.CPU
}
