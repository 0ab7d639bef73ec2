// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/otelcol-duo/otelcol-duo/internal/duosim"
)

// Freshness at the receiver's default settings: how long after Duo makes an event visible
// does it reach the backend. The receiver pulls every pull_interval and reads up to
// now − delay, so an event waits for the next pull after it became visible: at most one
// interval, plus the page's trip through the pipeline.
//
//	BENCH_FRESHNESS=0         skip it
//	BENCH_FRESHNESS_RUN=3m    run for this long instead of 10 minutes
//	BENCH_FRESHNESS_RATE=1    live events a second per log type
const (
	freshnessRun      = 10 * time.Minute
	freshnessInterval = time.Minute // the receiver's default pull_interval
	// Target: p99 from visible to stored ≤ pull_interval + 10 s.
	freshnessTarget = freshnessInterval + 10*time.Second
)

// freshnessLogTypes are the log types the receiver enables by default.
var freshnessLogTypes = []string{"authentication", "administrator", "telephony", "activity", "offline_enrollment"}

// freshnessConfig is the collector of the freshness run: the receiver with only what it
// must be told (credentials, the simulator's address), everything else at its defaults,
// and the batch processor of examples/duo-to-otlp.yaml.
const freshnessConfig = `receivers:
  duo:
    api_hostname: %s
    integration_key: %s
    secret_key: %s
    endpoint: %s
processors:
  batch:
    timeout: 5s
    send_batch_size: 1000
    send_batch_max_size: 1000
exporters:
  otlp_http:
    logs_endpoint: %s/v1/logs
    compression: none
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    logs:
      receivers: [duo]
      processors: [batch]
      exporters: [otlp_http]
`

// BenchmarkE2EFreshness runs the collector at its defaults against live events in a
// simulator with Duo's 2-minute visibility delay, and reports p50, p99 and max of the
// sink's stored time minus the simulator's visible-at time, and minus the event time.
// Only events made visible after the collector was ready and at least one interval plus
// 30 s before the end are measured: each of them has had its pull.
func BenchmarkE2EFreshness(b *testing.B) {
	if os.Getenv("BENCH_FRESHNESS") == "0" {
		b.Skip("BENCH_FRESHNESS=0")
	}
	run := EnvDuration("BENCH_FRESHNESS_RUN", freshnessRun)
	rate := 1.0
	if v := os.Getenv("BENCH_FRESHNESS_RATE"); v != "" {
		if _, err := fmt.Sscan(v, &rate); err != nil || rate <= 0 {
			b.Fatalf("BENCH_FRESHNESS_RATE: %q is not a positive number", v)
		}
	}
	bin := Collector(b)
	b.StopTimer()
	sim := StartSim(b, duosim.Config{Seed: 12, Delay: duosim.DefaultDelay})
	sink := StartStampingSink(b)
	dir := b.TempDir()
	cfgPath := filepath.Join(dir, "collector.yaml")
	cfg := fmt.Sprintf(freshnessConfig, sim.Host, sim.IntegrationKey, sim.SecretKey, sim.URL, sink.URL)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sim.StartLive(ctx, rate, freshnessLogTypes...)

	b.StartTimer()
	proc := StartCollector(b, bin, cfgPath)
	proc.WaitReady(b, time.Minute)
	ready := time.Now()
	select {
	case <-time.After(run - time.Since(ready)):
	case <-proc.Done():
		b.Fatalf("collector exited during the run:\n%s", proc.LogTail(20))
	}
	end := time.Now()
	b.StopTimer()
	cancel()
	if err := proc.Stop(10 * time.Second); err != nil {
		b.Errorf("collector did not stop cleanly: %v", err)
	}

	to := end.Add(-freshnessInterval - 30*time.Second)
	f, err := MeasureFreshness(sim.Sim, sink, freshnessLogTypes, ready, to)
	if err != nil {
		b.Fatal(err)
	}
	if f.Events == 0 {
		b.Fatalf("no event became visible in the measured period (%s): run longer than %s", to.Sub(ready).Round(time.Second), duosim.DefaultDelay+freshnessInterval+30*time.Second)
	}
	b.ReportMetric(f.VisibleToStored.P50.Seconds(), "vis-p50-s")
	b.ReportMetric(f.VisibleToStored.P99.Seconds(), "vis-p99-s")
	b.ReportMetric(f.VisibleToStored.Max.Seconds(), "vis-max-s")
	b.ReportMetric(f.EventToStored.P50.Seconds(), "event-p50-s")
	b.ReportMetric(f.EventToStored.P99.Seconds(), "event-p99-s")
	b.ReportMetric(f.EventToStored.Max.Seconds(), "event-max-s")
	b.Logf("run %s, %.3g events/s per log type over %d log types; %d events visible in the measured %s, %d not stored; "+
		"visible→stored %s; event→stored %s; %d records stored in all",
		end.Sub(ready).Round(time.Second), rate, len(freshnessLogTypes), f.Events, to.Sub(ready).Round(time.Second), f.Unstored,
		f.VisibleToStored, f.EventToStored, sink.Records())
	if f.Unstored > 0 {
		b.Errorf("%d events visible for more than %s were not stored", f.Unstored, freshnessInterval+30*time.Second)
	}
	if os.Getenv("BENCH_E2E_STRICT") == "1" && f.VisibleToStored.P99 > freshnessTarget {
		b.Errorf("p99 visible→stored %s, target <= %s", f.VisibleToStored.P99, freshnessTarget)
	}
}
