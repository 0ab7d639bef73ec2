// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

//go:build e2e

package e2e

import (
	"context"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/otelcol-duo/otelcol-duo/internal/duosim"
)

// The fault matrix: otelcol-duo against the simulator, file_storage and the
// durable sink, one fault per test (or subtest). Each row counts what the simulator made,
// what the sink stored, what is missing and what is duplicated, and the collector's peak
// RSS; it prints one table line and appends it to $FAULTS_REPORT when set. Every row
// wants zero missing, zero duplicated and a bounded RSS.
//
// Durations come from the environment: FAULTS_REFUSAL (the sink's refusal, default 30 s),
// FAULTS_REVOKED (credentials revoked, default 10 s), FAULTS_STRAGGLE (how long stragglers
// are made, default 20 s); FAULTS_LONG=1 multiplies the defaults by ten.
// FAULTS_MAX_RSS_MB (default 256) bounds the collector's peak RSS; FAULTS_SEED fixes the
// random kill points.

// faultsSizes is the backfill of most rows: several pages per log type (1000 per page,
// 500 for Trust Monitor).
var faultsSizes = map[string]int{
	"authentication":     3000,
	"administrator":      1500,
	"telephony":          1500,
	"activity":           1500,
	"offline_enrollment": 1000,
	"trust_monitor":      1000,
}

// faultsKillSizes is the large backfill of the SIGKILL row.
var faultsKillSizes = map[string]int{
	"authentication":     20000,
	"administrator":      8000,
	"telephony":          10000,
	"activity":           10000,
	"offline_enrollment": 4000,
	"trust_monitor":      5000,
}

func faultsDuration(name string, def time.Duration) time.Duration {
	if os.Getenv("FAULTS_LONG") == "1" {
		def *= 10
	}
	return EnvDuration(name, def)
}

func faultsMaxRSSMB() float64 {
	if v, err := strconv.ParseFloat(os.Getenv("FAULTS_MAX_RSS_MB"), 64); err == nil && v > 0 {
		return v
	}
	return 256
}

// faultsRig is one row: a simulator, a sink, a storage directory and the collector runs.
type faultsRig struct {
	t      *testing.T
	bin    string
	dir    string
	sim    *SimServer
	sink   *SinkServer
	cfg    CollectorConfig
	config string
	rss    RSSWatch
}

// newFaultsRig starts a simulator with sizes backfilled over [now-1h, now-1m] (visible
// through a 1 s delay) and a sink, and writes the collector config.
func newFaultsRig(t *testing.T, simCfg duosim.Config, sizes map[string]int, cfg CollectorConfig) *faultsRig {
	t.Helper()
	bin := Collector(t)
	dir := t.TempDir()
	if simCfg.Delay == 0 {
		simCfg.Delay = time.Second
	}
	sim := StartSim(t, simCfg)
	now := time.Now()
	for lt, n := range sizes {
		sim.Backfill(lt, n, now.Add(-time.Hour), now.Add(-time.Minute))
	}
	sink := StartSink(t, filepath.Join(dir, "sink.bin"))
	cfg = cfg.For(sim, sink, filepath.Join(dir, "storage"))
	return &faultsRig{t: t, bin: bin, dir: dir, sim: sim, sink: sink, cfg: cfg, config: WriteConfig(t, cfg, dir)}
}

// start runs the collector, waits until it is ready and follows its RSS.
func (r *faultsRig) start() *Process {
	r.t.Helper()
	p := StartCollector(r.t, r.bin, r.config)
	r.rss.Watch(p)
	p.WaitReady(r.t, time.Minute)
	return p
}

// waitDelivered waits until the sink holds every expected event, counted by distinct
// log.record.uid (a raw count can reach the total through repeats while a backlog is
// still being read), then lets every log type make three more requests (later pulls
// re-read their window: a duplicate would show now) and compares the sink with want.
func (r *faultsRig) waitDelivered(p *Process, want Counts) Delivery {
	r.t.Helper()
	start := time.Now()
	seenCount, missing := -1, want.Total()
	WaitUntil(r.t, p, 4*time.Minute, func() (bool, string) {
		if c := r.sink.RecordCount(); c != seenCount {
			seenCount = c
			ld, err := r.sink.Logs()
			if err != nil {
				return false, fmt.Sprintf("cannot read the sink: %v", err)
			}
			deduped, _ := DedupByUID(ld)
			missing = Compare(want, Received(deduped)).Missing.Total()
		}
		return missing == 0, fmt.Sprintf("sink has %d records; %d events not yet delivered", seenCount, missing)
	})
	delivered := time.Now()
	WaitRequests(r.t, p, r.sim, r.sim.Stats(), r.cfg.Defaults().LogTypes, 3, 3*time.Minute)
	r.t.Logf("every event stored after %s; three more requests per log type took %s",
		delivered.Sub(start).Round(100*time.Millisecond), time.Since(delivered).Round(100*time.Millisecond))
	ld, err := r.sink.Logs()
	if err != nil {
		r.t.Fatalf("cannot read the sink back: %v", err)
	}
	return Compare(want, Received(ld))
}

func (r *faultsRig) expected() Counts {
	r.t.Helper()
	want, err := Expected(r.sim.Sim, r.cfg.Defaults().LogTypes...)
	if err != nil {
		r.t.Fatal(err)
	}
	return want
}

// finish stops the collector cleanly, reports the row and checks it: nothing missing,
// nothing duplicated, nothing unexpected, RSS under the bound.
func (r *faultsRig) finish(p *Process, fault string, d Delivery, note string) {
	r.t.Helper()
	if err := p.Stop(30 * time.Second); err != nil {
		r.t.Errorf("collector did not shut down cleanly: %v", err)
	}
	r.rss.Wait()
	row := FaultRow{
		Fault: fault, Expected: d.Expected, Delivered: d.Received,
		Missing: d.Missing.Total(), Duplicated: d.Duplicated.Total(),
		PeakRSSMB: r.rss.PeakMB(), Note: note,
	}
	ReportFaultRow(r.t, row)
	if !d.Exact() {
		r.t.Errorf("%s: delivery is not exactly once: %s", fault, d)
	}
	if row.PeakRSSMB <= 0 || row.PeakRSSMB > faultsMaxRSSMB() {
		r.t.Errorf("%s: peak RSS %.1f MB, want within (0, %.0f] MB", fault, row.PeakRSSMB, faultsMaxRSSMB())
	}
}

// finishKills stops the collector and checks a row whose collector was SIGKILLed: an
// export the sink stored but whose answer the dying collector never read, or whose
// cursor it had not saved yet, is delivered again after the restart. That repeat is the
// exporter boundary's at-least-once edge, which no cursor can close. The row reports it
// and checks what matters: nothing missing or invented, every repeat carries the
// log.record.uid of a record already stored, and de-duplicating on it leaves every event
// exactly once.
func (r *faultsRig) finishKills(p *Process, want Counts, fault, note string) {
	r.t.Helper()
	if err := p.Stop(30 * time.Second); err != nil {
		r.t.Errorf("collector did not shut down cleanly: %v", err)
	}
	r.rss.Wait()
	ld, err := r.sink.Logs()
	if err != nil {
		r.t.Fatalf("cannot read the sink back: %v", err)
	}
	raw := Compare(want, Received(ld))
	deduped, dropped := DedupByUID(ld)
	after := Compare(want, Received(deduped))
	ReportFaultRow(r.t, FaultRow{
		Fault: fault, Expected: raw.Expected, Delivered: raw.Received,
		Missing: raw.Missing.Total(), Duplicated: raw.Duplicated.Total(),
		PeakRSSMB: r.rss.PeakMB(),
		Note: fmt.Sprintf("%s; %d repeats, each with an already-stored log.record.uid: de-duplicated on it, %d delivered, %d missing, %d duplicated",
			note, dropped, after.Received, after.Missing.Total(), after.Duplicated.Total()),
	})
	if raw.Missing.Total() != 0 || raw.Unexpected.Total() != 0 {
		r.t.Errorf("%s: events lost or invented: %s", fault, raw)
	}
	if dropped != raw.Duplicated.Total() {
		r.t.Errorf("%s: %d records were repeated but %d carried an already-seen log.record.uid", fault, raw.Duplicated.Total(), dropped)
	}
	if !after.Exact() {
		r.t.Errorf("%s: after de-duplicating on log.record.uid, delivery is not exactly once: %s", fault, after)
	}
	if pk := r.rss.PeakMB(); pk <= 0 || pk > faultsMaxRSSMB() {
		r.t.Errorf("%s: peak RSS %.1f MB, want within (0, %.0f] MB", fault, pk, faultsMaxRSSMB())
	}
}

// killHolding SIGKILLs p with its in-flight exports held at the sink, so that a request
// the dying process sent is never stored: otherwise the sink may store a page whose
// acknowledgement the receiver never read, and the restart delivers it again. That is the
// at-least-once edge of any exporter (export stored, ack lost), not a cursor fault; the
// settle time also lets pollers that were already answered save their cursors. It returns
// how many requests were held at the kill.
func (r *faultsRig) killHolding(p *Process) int {
	r.t.Helper()
	r.sink.Hold()
	defer r.sink.Release()
	deadline := time.Now().Add(3 * time.Second)
	for (r.sink.Held() == 0 || r.sink.Busy() > 0) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond) // polling, not an assertion
	}
	time.Sleep(time.Second) // settling time for cursor saves after the last answers, not an assertion
	held := r.sink.Held()
	if err := p.Kill(); err != nil {
		r.t.Fatalf("cannot kill the collector: %v", err)
	}
	// Every request of the dead collector leaves the sink before the Hold ends, the held
	// ones and any it had sent whole that was still being read: such a request meets the
	// gate and is dropped, where a released sink would store it (a duplicate no cursor
	// could prevent, since no one saw it answered).
	WaitUntil(r.t, nil, 30*time.Second, func() (bool, string) {
		return r.sink.Active() == 0, fmt.Sprintf("%d requests of the killed collector still in the sink (%d held)", r.sink.Active(), r.sink.Held())
	})
	return held
}

// retryLines counts the collector's "retrying duo request" log lines that name any of
// causes.
func retryLines(p *Process, causes ...string) int {
	n := 0
	for _, line := range strings.Split(p.Log(), "\n") {
		if !strings.Contains(line, "retrying duo request") {
			continue
		}
		for _, c := range causes {
			if strings.Contains(line, c) {
				n++
				break
			}
		}
	}
	return n
}

func statusCount(st duosim.Stats, status int) int {
	n := 0
	for _, byStatus := range st.Requests {
		n += byStatus[status]
	}
	return n
}

// TestFaultsAPI runs the API-side faults: 429s with a real rate limit below the pollers'
// demand, bursts of 5xx, responses slower than the client timeout, bodies truncated
// mid-JSON, and a Duo clock 10 minutes ahead of the collector's.
func TestFaultsAPI(t *testing.T) {
	tests := []struct {
		name   string
		fault  string
		sim    duosim.Config
		cfg    CollectorConfig
		during func(ctx context.Context, sim *SimServer) // runs until the row ends
		check  func(t *testing.T, sim *SimServer, p *Process) string
	}{
		{
			name:  "429",
			fault: "429 on 30% of requests + real limit 30/min/endpoint (demand ≥ 60/min)",
			sim:   duosim.Config{Faults: duosim.Faults{P429: 0.3, RateLimit: 30}},
			check: func(t *testing.T, sim *SimServer, _ *Process) string {
				n := statusCount(sim.Stats(), 429)
				if n == 0 {
					t.Error("the simulator answered no 429")
				}
				return fmt.Sprintf("%d × 429", n)
			},
		},
		{
			name:  "5xx",
			fault: "5xx bursts (every request fails for 2 s out of 4 s)",
			cfg:   CollectorConfig{RateLimit: 120},
			during: func(ctx context.Context, sim *SimServer) {
				for on := true; ; on = !on {
					f := duosim.Faults{}
					if on {
						f.P5xx = 1
					}
					sim.SetFaults(f)
					select {
					case <-ctx.Done():
						sim.SetFaults(duosim.Faults{})
						return
					case <-time.After(2 * time.Second):
					}
				}
			},
			check: func(t *testing.T, sim *SimServer, _ *Process) string {
				st := sim.Stats()
				n := statusCount(st, 500) + statusCount(st, 502) + statusCount(st, 503)
				if n == 0 {
					t.Error("the simulator answered no 5xx")
				}
				return fmt.Sprintf("%d × 5xx", n)
			},
		},
		{
			name:  "slow",
			fault: "30% of responses 5 s late, client timeout 2 s",
			sim:   duosim.Config{Faults: duosim.Faults{PSlow: 0.3, Slow: 5 * time.Second}},
			// Debug: the client logs each retry (and its cause) at debug level.
			cfg: CollectorConfig{ReceiverExtraYAML: "    timeout: 2s", LogLevel: "debug"},
			check: func(t *testing.T, _ *SimServer, p *Process) string {
				n := retryLines(p, "Client.Timeout", "deadline exceeded")
				if n == 0 {
					t.Error("the collector log shows no request timing out")
				}
				return fmt.Sprintf("%d timeouts logged", n)
			},
		},
		{
			name:  "truncated",
			fault: "30% of bodies truncated mid-JSON",
			sim:   duosim.Config{Faults: duosim.Faults{PTruncate: 0.3}},
			cfg:   CollectorConfig{LogLevel: "debug"},
			check: func(t *testing.T, _ *SimServer, p *Process) string {
				n := retryLines(p, "failed to decode response")
				if n == 0 {
					t.Error("the collector log shows no undecodable (truncated) answer")
				}
				return fmt.Sprintf("%d truncations logged", n)
			},
		},
		{
			name:  "clock",
			fault: "Duo's clock 10 min ahead (40105)",
			sim:   duosim.Config{ClockOffset: 10 * time.Minute},
			check: func(t *testing.T, sim *SimServer, p *Process) string {
				n := statusCount(sim.Stats(), 401)
				if n == 0 {
					t.Error("the simulator answered no 401 40105: the skew was not exercised")
				}
				if !strings.Contains(p.Log(), "local clock differs from duo's") {
					t.Error("the collector did not log the clock correction")
				}
				return fmt.Sprintf("%d × 401 40105 before the correction", n)
			},
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.sim.Seed = int64(100 + i)
			rig := newFaultsRig(t, tt.sim, faultsSizes, tt.cfg)
			ctx, cancel := context.WithCancel(Context(t))
			var wg sync.WaitGroup
			if tt.during != nil {
				wg.Add(1)
				go func() {
					defer wg.Done()
					tt.during(ctx, rig.sim)
				}()
			}
			p := rig.start()
			d := rig.waitDelivered(p, rig.expected())
			cancel()
			wg.Wait()
			note := tt.check(t, rig.sim, p)
			rig.finish(p, tt.fault, d, note)
		})
	}
}

// TestFaultsSinkRefusal: the sink refuses every export (503) for a while; the receiver is
// held in ConsumeLogs, stores nothing and must not move its cursors. The collector is
// SIGKILLed at the end of the refusal and restarted: a cursor that had advanced past an
// undelivered page would show as missing records. Live events keep coming meanwhile.
func TestFaultsSinkRefusal(t *testing.T) {
	refusal := faultsDuration("FAULTS_REFUSAL", 30*time.Second)
	rig := newFaultsRig(t, duosim.Config{Seed: 200}, faultsSizes, CollectorConfig{RateLimit: 120})
	live, stopLive := context.WithCancel(Context(t))
	rig.sim.StartLive(live, 5)
	first := rig.start()
	WaitUntil(t, first, 2*time.Minute, func() (bool, string) {
		n := rig.sink.RecordCount()
		return n > 0, "no record stored yet"
	})
	rig.sink.Refuse(503, 0, 0)
	// One export in flight may still be stored as the refusal begins.
	time.Sleep(500 * time.Millisecond) // settling time, not an assertion
	atRefusal := rig.sink.RecordCount()
	time.Sleep(refusal) // the fault's duration, not an assertion
	if n := rig.sink.RecordCount(); n != atRefusal {
		t.Errorf("the sink stored %d records while refusing", n-atRefusal)
	}
	refused := rig.sink.Stats().Refused
	if refused == 0 {
		t.Fatal("no export reached the refusing sink")
	}
	rig.killHolding(first)
	rig.sink.Accept()
	second := rig.start()
	time.Sleep(3 * time.Second) // let live events run after the restart, not an assertion
	stopLive()
	// The last live events become visible after the simulator's 1 s delay.
	time.Sleep(2 * time.Second) // not an assertion
	d := rig.waitDelivered(second, rig.expected())
	rig.finish(second, fmt.Sprintf("sink refuses (503) for %s, SIGKILL at its end, restart", refusal), d,
		fmt.Sprintf("%d exports refused; %d of %d records stored before the refusal; %d requests not stored, their sender gone",
			refused, atRefusal, d.Expected, rig.sink.Stats().Abandoned))
}

// killPoints returns the random source of a kill row's kill points: seeded from
// FAULTS_SEED when it is set (to replay a run), else from the clock, and logged either way.
// stream keeps the rows' sequences apart under one seed.
func killPoints(t *testing.T, stream uint64) *rand.Rand {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if v, err := strconv.ParseUint(os.Getenv("FAULTS_SEED"), 10, 64); err == nil {
		seed = v
	}
	t.Logf("kill points from FAULTS_SEED=%d", seed)
	return rand.New(rand.NewPCG(seed, stream))
}

// TestFaultsSIGKILLBackfill kills the collector with SIGKILL at ten random points of a
// large backfill, restarting it on the same storage each time.
func TestFaultsSIGKILLBackfill(t *testing.T) {
	rng := killPoints(t, 0)
	// 40 requests a minute per endpoint: each run pulls a page or two per log type.
	rig := newFaultsRig(t, duosim.Config{Seed: 300}, faultsKillSizes, CollectorConfig{RateLimit: 40})
	want := rig.expected()
	var stored []string
	inFlight := 0
	for range 10 {
		p := rig.start()
		time.Sleep(time.Duration(200+rng.IntN(2800)) * time.Millisecond) // a random kill point
		if rig.killHolding(p) > 0 {
			inFlight++
		}
		stored = append(stored, strconv.Itoa(rig.sink.RecordCount()))
	}
	t.Logf("records stored at each kill: %s of %d", strings.Join(stored, ", "), want.Total())
	last := rig.start()
	rig.waitDelivered(last, want)
	rig.finishKills(last, want, "SIGKILL at 10 random points of a large backfill, exports in flight held",
		fmt.Sprintf("stored at each kill: %s; %d kills with an export in flight", strings.Join(stored, ", "), inFlight))
}

// TestFaultsSIGKILLRaw kills at random points WITHOUT holding the sink: an export the sink
// stored but whose answer the dying collector never read is delivered again after the
// restart. That repeat is the exporter boundary's at-least-once edge, which no cursor can
// close. The row shows its size honestly and proves the two things that matter: nothing is
// ever missing, and every repeat carries the log.record.uid of a record already stored, so a
// backend that de-duplicates on it ends up with every event exactly once.
func TestFaultsSIGKILLRaw(t *testing.T) {
	rng := killPoints(t, 1)
	rig := newFaultsRig(t, duosim.Config{Seed: 301}, faultsKillSizes, CollectorConfig{RateLimit: 40})
	want := rig.expected()
	var stored []string
	for range 10 {
		p := rig.start()
		time.Sleep(time.Duration(200+rng.IntN(2800)) * time.Millisecond) // a random kill point
		if err := p.Kill(); err != nil {
			t.Fatalf("cannot kill the collector: %v", err)
		}
		stored = append(stored, strconv.Itoa(rig.sink.RecordCount()))
	}
	last := rig.start()
	rig.waitDelivered(last, want)
	rig.finishKills(last, want, "SIGKILL at 10 random points, sink not held",
		"stored at each kill: "+strings.Join(stored, ", "))
}

// TestFaultsStragglers: events that Duo surfaces later than delay but within window
// arrive, once.
func TestFaultsStragglers(t *testing.T) {
	straggle := faultsDuration("FAULTS_STRAGGLE", 20*time.Second)
	// A pull at N reads [N-delay-window, N-delay] = [N-12s, N-2s]; a straggler of time t
	// visible at t+3..8 s is past delay and still inside the window for at least 4 s.
	rig := newFaultsRig(t, duosim.Config{Seed: 400}, faultsSizes,
		CollectorConfig{Window: 10 * time.Second, Delay: 2 * time.Second})
	rng := rand.New(rand.NewPCG(400, 0))
	live, stopLive := context.WithCancel(Context(t))
	rig.sim.StartLive(live, 2)
	p := rig.start()
	made := 0
	var lastVisible time.Time
	for end := time.Now().Add(straggle); time.Now().Before(end); {
		now := time.Now()
		for _, lt := range duosim.LogTypes() {
			at := now.Add(-time.Second)
			vis := at.Add(3*time.Second + time.Duration(rng.IntN(5000))*time.Millisecond)
			rig.sim.Straggler(lt, at, vis)
			lastVisible = later(lastVisible, vis)
			made++
		}
		time.Sleep(500 * time.Millisecond) // pacing of the generator, not an assertion
	}
	stopLive()
	time.Sleep(time.Until(lastVisible)) // until Duo has surfaced every straggler
	d := rig.waitDelivered(p, rig.expected())
	rig.finish(p, "stragglers surfaced 3-8 s late (delay 2 s, window 10 s)", d,
		fmt.Sprintf("%d stragglers among the events", made))
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// TestFaultsCursorTooOld: a stored cursor 200 days old. The receiver clamps it to Duo's
// retention, warns, counts the skipped span in duo_receiver_retention_skipped and goes on;
// events older than 180 days are gone at Duo and reported as such, the rest arrive once.
func TestFaultsCursorTooOld(t *testing.T) {
	addr, err := FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	rig := newFaultsRig(t, duosim.Config{Seed: 500}, nil, CollectorConfig{MetricsAddr: addr})
	now := time.Now()
	day := 24 * time.Hour
	for _, lt := range duosim.LogTypes() {
		rig.sim.Backfill(lt, 300, now.Add(-200*day), now.Add(-181*day)) // gone at Duo
		rig.sim.Backfill(lt, 1500, now.Add(-170*day), now.Add(-time.Minute))
	}
	cursorAge := 200 * day
	if err := PlantCursors(rig.cfg.StorageDir, rig.sim.Host, now.Add(-cursorAge), duosim.LogTypes()...); err != nil {
		t.Fatalf("cannot plant the old cursors: %v", err)
	}
	edge := now.Add(-180 * day)
	want, gone, err := ExpectedSplit(rig.sim.Sim, func(ev duosim.Event) bool { return ev.Time.After(edge) })
	if err != nil {
		t.Fatal(err)
	}
	p := rig.start()
	d := rig.waitDelivered(p, want)
	if !strings.Contains(p.Log(), "cursor is older than Duo's 180-day retention") {
		t.Error("the collector did not warn about the old cursor")
	}
	skipped, found, err := ScrapeMetric(addr, "duo_receiver_retention_skipped")
	if err != nil || !found {
		t.Errorf("cannot scrape duo_receiver_retention_skipped from %s: found=%v err=%v", addr, found, err)
	}
	// Each log type skips from its cursor to the retention edge, a little under 20 days.
	if min := float64(len(duosim.LogTypes())) * (cursorAge - 180*day).Seconds(); skipped < min {
		t.Errorf("duo_receiver_retention_skipped = %.0f s, want at least %.0f s", skipped, min)
	}
	if exited, err := p.Exited(); exited {
		t.Fatalf("the collector exited: %v", err)
	}
	rig.finish(p, "stored cursor 200 days old (retention 180 days)", d,
		fmt.Sprintf("%d events older than 180 d provably gone, not delivered; retention_skipped %.1f d over 6 types",
			gone.Total(), skipped/day.Seconds()))
}

// TestFaultsCredentialsRevoked: the simulator stops accepting the collector's keys for a
// while (401); the collector logs an error that names the credential settings, keeps
// running, and once the keys work again delivers everything, live events included.
func TestFaultsCredentialsRevoked(t *testing.T) {
	revoked := faultsDuration("FAULTS_REVOKED", 10*time.Second)
	rig := newFaultsRig(t, duosim.Config{Seed: 600}, faultsSizes, CollectorConfig{RateLimit: 120})
	live, stopLive := context.WithCancel(Context(t))
	rig.sim.StartLive(live, 5)
	p := rig.start()
	WaitUntil(t, p, 2*time.Minute, func() (bool, string) {
		return rig.sink.RecordCount() > 0, "no record stored yet"
	})
	rig.sim.SetCredentials("DIREVOKED00000000001", strings.Repeat("r", 40))
	before401 := statusCount(rig.sim.Stats(), 401)
	WaitUntil(t, p, time.Minute, func() (bool, string) {
		return strings.Contains(p.Log(), "duo rejected the credentials; check integration_key, secret_key and api_hostname"),
			"the collector did not log the rejected credentials"
	})
	time.Sleep(revoked) // the fault's duration, not an assertion
	if exited, err := p.Exited(); exited {
		t.Fatalf("the collector exited while the credentials were revoked: %v", err)
	}
	n401 := statusCount(rig.sim.Stats(), 401) - before401
	rig.sim.SetCredentials(rig.sim.IntegrationKey, rig.sim.SecretKey)
	time.Sleep(3 * time.Second) // live events after the keys work again, not an assertion
	stopLive()
	time.Sleep(2 * time.Second) // the last live events become visible, not an assertion
	d := rig.waitDelivered(p, rig.expected())
	rig.finish(p, fmt.Sprintf("credentials revoked (401) for %s, then restored", revoked), d,
		fmt.Sprintf("%d × 401 while revoked; error names integration_key/secret_key", n401))
}

// TestFaultsSecretsNeverLogged runs the collector at debug level through 401s, 429s, 5xx,
// truncated bodies and their retries, then prints and validates its config, and checks
// that neither the secret key nor the Authorization header's credentials (base64 of
// "<ikey>:<signature>", whose first 28 characters encode "<ikey>:") appear anywhere.
func TestFaultsSecretsNeverLogged(t *testing.T) {
	rig := newFaultsRig(t, duosim.Config{Seed: 700, Faults: duosim.Faults{P429: 0.2, P5xx: 0.2, PTruncate: 0.2}},
		faultsSizes, CollectorConfig{LogLevel: "debug"})
	secret := rig.sim.SecretKey
	authPrefix := base64.StdEncoding.EncodeToString([]byte(rig.sim.IntegrationKey + ":"))[:28]

	p := rig.start()
	WaitUntil(t, p, 2*time.Minute, func() (bool, string) {
		return rig.sink.RecordCount() > 0, "no record stored yet"
	})
	rig.sim.SetCredentials(rig.sim.IntegrationKey, strings.Repeat("x", 40)) // 401 40103
	WaitUntil(t, p, time.Minute, func() (bool, string) {
		return strings.Contains(p.Log(), "duo rejected the credentials"), "no credentials error logged"
	})
	rig.sim.SetCredentials(rig.sim.IntegrationKey, secret)
	d := rig.waitDelivered(p, rig.expected())
	// The faults are random per request, and a short run can miss one (a truncated body
	// comes in about one 200 in five): the collector keeps pulling until its log has been
	// through each of them.
	WaitUntil(t, p, 2*time.Minute, func() (bool, string) {
		runLog := p.Log()
		for _, want := range []string{"\tdebug\t", "retrying duo request", "rate limited by duo", "failed to decode response", "duo rejected the credentials"} {
			if !strings.Contains(runLog, want) {
				return false, fmt.Sprintf("the debug run's log lacks %q: the errors and retries were not exercised", want)
			}
		}
		return true, ""
	})
	if err := p.Stop(30 * time.Second); err != nil {
		t.Errorf("collector did not shut down cleanly: %v", err)
	}
	rig.rss.Wait()
	// Counted again now: the pulls made while waiting for the faults must not repeat a
	// record either.
	ld, err := rig.sink.Logs()
	if err != nil {
		t.Fatalf("cannot read the sink back: %v", err)
	}
	d = Compare(rig.expected(), Received(ld))
	runLog := p.Log()

	outputs := map[string]string{"run (debug)": runLog}
	for _, args := range [][]string{
		{"print-config", "--config", rig.config},
		{"print-config", "--config", rig.config, "--format", "json"},
		{"validate", "--config", rig.config},
	} {
		out, err := exec.Command(rig.bin, args...).CombinedOutput()
		if err != nil {
			t.Errorf("%s %s: %v\n%s", BinName, strings.Join(args, " "), err, out)
		}
		outputs[strings.Join(args, " ")] = string(out)
	}
	if printed := outputs["print-config --config "+rig.config]; !strings.Contains(printed, rig.sim.IntegrationKey) ||
		!strings.Contains(printed, "secret_key: '[REDACTED]'") {
		t.Errorf("print-config printed no receiver config with a redacted secret_key:\n%s", printed)
	}
	for name, out := range outputs {
		if strings.Contains(out, secret) {
			t.Errorf("%s: the secret key appears in the output", name)
		}
		if strings.Contains(out, authPrefix) {
			t.Errorf("%s: the Authorization header's credentials (%s...) appear in the output", name, authPrefix)
		}
	}
	ReportFaultRow(t, FaultRow{
		Fault:    "secrets: debug logs through 401/429/5xx/truncation + print-config + validate",
		Expected: d.Expected, Delivered: d.Received, Missing: d.Missing.Total(), Duplicated: d.Duplicated.Total(),
		PeakRSSMB: rig.rss.PeakMB(),
		Note:      fmt.Sprintf("%d bytes of output scanned: no secret key, no Basic credentials", totalLen(outputs)),
	})
	if !d.Exact() {
		t.Errorf("delivery is not exactly once: %s", d)
	}
}

func totalLen(m map[string]string) int {
	n := 0
	for _, v := range m {
		n += len(v)
	}
	return n
}
