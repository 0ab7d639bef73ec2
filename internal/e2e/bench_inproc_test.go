// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

//go:build e2e

package e2e

import (
	"context"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/otelcol-duo/otelcol-duo/internal/duosim"
	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver"
)

// BenchmarkInProcessBackfill runs the duo receiver from its factory in this process over
// a backfill of authentication records from the simulator, so that a CPU profile shows
// where the end-to-end time goes (the distribution has no pprof extension). The consumer
// either only counts the records (the receiver's own cost) or also marshals each batch to
// OTLP protobuf the way otlp_http does (receiver plus exporter encoding). Run with
//
//	go test -tags e2e -run '^$' -bench '^BenchmarkInProcessBackfill' -benchtime 1x \
//	    -cpuprofile cpu.out ./internal/e2e
//
// BENCH_E2E_RECORDS sets the backfill size (its first value; default 100000 here),
// BENCH_E2E_BODY the receiver's body setting (map or json).
func BenchmarkInProcessBackfill(b *testing.B) {
	n := 100_000
	if os.Getenv("BENCH_E2E_RECORDS") != "" {
		n = backfillSizes(b)[0]
	}
	for _, mode := range []string{"count", "marshal"} {
		b.Run("consumer="+mode+"/records="+strconv.Itoa(n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				d := runInProcess(b, n, mode == "marshal")
				b.ReportMetric(float64(n)/d.Seconds(), "records/s")
			}
		})
	}
}

func runInProcess(b *testing.B, n int, marshal bool) time.Duration {
	now := time.Now()
	sim := StartTimedSim(b, duosim.Config{Seed: 6}, authPath)
	sim.Backfill("authentication", n, now.Add(-2*time.Hour), now.Add(-10*time.Minute))

	f := duoreceiver.NewFactory()
	cfg := f.CreateDefaultConfig().(*duoreceiver.Config)
	cfg.Endpoint = sim.URL
	cfg.APIHostname = sim.Host
	cfg.IntegrationKey = sim.IntegrationKey
	cfg.SecretKey = configopaque.String(sim.SecretKey)
	cfg.Delay = time.Second
	cfg.InitialLookback = 3 * time.Hour
	cfg.RateLimit = 0
	cfg.Logs = duoreceiver.LogsConfig{Authentication: duoreceiver.LogTypeConfig{Enabled: true, PullInterval: time.Second, Window: 2 * time.Second}}
	if v := os.Getenv("BENCH_E2E_BODY"); v != "" {
		cfg.Body = v
	}

	var got atomic.Int64
	var mu sync.Mutex
	var last time.Time
	done := make(chan struct{})
	var once sync.Once
	next, err := consumer.NewLogs(func(_ context.Context, ld plog.Logs) error {
		if marshal {
			if _, err := plogotlp.NewExportRequestFromLogs(ld).MarshalProto(); err != nil {
				return err
			}
		}
		if got.Add(int64(ld.LogRecordCount())) >= int64(n) {
			mu.Lock()
			last = time.Now()
			mu.Unlock()
			once.Do(func() { close(done) })
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	rcv, err := f.CreateLogs(context.Background(), receivertest.NewNopSettings(f.Type()), cfg, next)
	if err != nil {
		b.Fatal(err)
	}
	b.StartTimer()
	if err := rcv.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		b.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Minute):
		b.Fatalf("received %d of %d records in 10 minutes", got.Load(), n)
	}
	b.StopTimer()
	if err := rcv.Shutdown(context.Background()); err != nil {
		b.Error(err)
	}
	if g := got.Load(); g != int64(n) {
		b.Fatalf("received %d records, want %d", g, n)
	}
	mu.Lock()
	defer mu.Unlock()
	return last.Sub(sim.First())
}
