// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoreceiver

import (
	"context"
	"net/http/httptest"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver/receiverhelper"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.uber.org/zap"

	"github.com/otelcol-duo/otelcol-duo/internal/duosim"
	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/duoapi"
	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/mapping"
	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/metadata"
)

// countingLogs counts entity records and drops them, as a fast exporter would.
type countingLogs struct{ n atomic.Int64 }

func (c *countingLogs) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }
func (c *countingLogs) ConsumeLogs(_ context.Context, ld plog.Logs) error {
	c.n.Add(int64(ld.LogRecordCount()))
	return nil
}

// BenchmarkInventorySnapshot takes whole snapshots of a simulated account over HTTP (the
// simulator in-process on a loopback server): users with 1-3 phones, some with tokens and
// WebAuthn credentials, and 0.4 bypass codes per user. Reported per snapshot: requests,
// CPU per user (user+system time of the whole process, simulator included, so an upper
// bound for the receiver), peak live heap during the snapshots (heap-peak-MiB, sampled)
// and the heap the simulator's population holds before any snapshot (sim-heap-MiB); the
// process's peak RSS (VmHWM) is printed once. Memory stays flat in the objects: from
// 5,000 to 50,000 users heap-peak-MiB grows only by the hashed phone and token ids kept to
// count each phone once (some 50 bytes per distinct phone), entity logs or not.
//
//	go test ./receiver/duoreceiver -run '^$' -bench BenchmarkInventorySnapshot -benchtime 1x
func BenchmarkInventorySnapshot(b *testing.B) {
	for _, users := range []int{5_000, 50_000} {
		for _, entity := range []bool{false, true} {
			name := "users=" + strconv.Itoa(users) + "/metrics"
			if entity {
				name += "+entity_logs"
			}
			b.Run(name, func(b *testing.B) { benchSnapshot(b, users, entity) })
		}
	}
}

func benchSnapshot(b *testing.B, users int, entity bool) {
	pop := duosim.DefaultPopulation()
	pop.Users = users
	pop.ShareBypassCodes = 0.4
	pop.BypassCodesPerUser = 1
	pop.ShareTokens, pop.ShareWebAuthn = 0.1, 0.2
	runtime.GC()
	base := liveHeap()
	sim := duosim.New(duosim.Config{Seed: 1, Population: &pop})
	counts := sim.InventoryCounts(720*time.Hour, time.Now()) // generates the population
	runtime.GC()
	simHeap := liveHeap() - base
	srv := httptest.NewServer(sim)
	defer srv.Close()

	cfg := createDefaultConfig().(*Config)
	cfg.Endpoint, cfg.APIHostname = srv.URL, duosim.DefaultHost
	cfg.IntegrationKey, cfg.SecretKey = duosim.DefaultIntegrationKey, duosim.DefaultSecretKey
	set := receivertest.NewNopSettings(metadata.Type)
	set.Logger = zap.NewNop()
	tel, err := newReceiverTelemetry(set.TelemetrySettings)
	if err != nil {
		b.Fatal(err)
	}
	defer tel.shutdown()
	client, err := duoapi.New(duoapi.Config{
		BaseURL: srv.URL, Host: duosim.DefaultHost,
		IntegrationKey: duosim.DefaultIntegrationKey, SecretKey: duosim.DefaultSecretKey,
		Retry: cfg.BackOffConfig, Logger: zap.NewNop(),
	}, srv.Client())
	if err != nil {
		b.Fatal(err)
	}
	obs, err := receiverhelper.NewObsReport(receiverhelper.ObsReportSettings{ReceiverID: set.ID, Transport: "http", ReceiverCreateSettings: set})
	if err != nil {
		b.Fatal(err)
	}
	logs := &countingLogs{}
	s := &snapshotter{
		api: client, cfg: cfg.Inventory, metrics: consumerNop{},
		mb:      metadata.NewMetricsBuilder(cfg.MetricsBuilderConfig, set),
		obsrecv: obs, tel: tel, health: newHealth(componenttest.NewNopHost()),
		resource: mapping.Resource{APIHost: duosim.DefaultHost}, logger: zap.NewNop(),
		now: time.Now, refused: map[duoapi.Resource]bool{},
	}
	if entity {
		s.logs = logs
	}

	peak := &heapSampler{}
	peak.start()
	reqBefore := totalRequests(sim)
	cpuBefore := cpuTime()
	b.ResetTimer()
	for range b.N {
		outcome, err := s.snapshot(b.Context())
		if err != nil || outcome != snapshotComplete {
			b.Fatalf("snapshot %s: %v", outcome, err)
		}
	}
	b.StopTimer()
	cpu := cpuTime() - cpuBefore
	reqs := totalRequests(sim) - reqBefore
	peakHeap := peak.stop()
	if entity && logs.n.Load() < int64(b.N*(counts.UsersTotal+counts.BypassCodes)) {
		b.Fatalf("%d entity records, want at least %d per snapshot", logs.n.Load(), counts.UsersTotal+counts.BypassCodes)
	}
	b.ReportMetric(float64(reqs)/float64(b.N), "requests/op")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N*users), "cpu-µs/user")
	b.ReportMetric(float64(peakHeap-base-simHeap)/(1<<20), "heap-peak-MiB")
	b.ReportMetric(float64(simHeap)/(1<<20), "sim-heap-MiB")
	b.Logf("users %d, bypass codes %d, peak RSS of the process so far %s", counts.UsersTotal, counts.BypassCodes, peakRSS())
}

type consumerNop struct{}

func (consumerNop) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

func (consumerNop) ConsumeMetrics(context.Context, pmetric.Metrics) error { return nil }

func totalRequests(sim *duosim.Sim) int {
	n := 0
	for _, byStatus := range sim.Stats().Requests {
		for _, c := range byStatus {
			n += c
		}
	}
	return n
}

var heapSample = []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}

// liveHeap is the bytes of heap objects, live or not yet swept.
func liveHeap() uint64 {
	s := append([]metrics.Sample(nil), heapSample...)
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// heapSampler records the largest liveHeap seen every few milliseconds.
type heapSampler struct {
	max  atomic.Uint64
	done chan struct{}
	wg   sync.WaitGroup
}

func (h *heapSampler) start() {
	h.done = make(chan struct{})
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			if v := liveHeap(); v > h.max.Load() {
				h.max.Store(v)
			}
			select {
			case <-h.done:
				return
			case <-t.C:
			}
		}
	}()
}

func (h *heapSampler) stop() uint64 {
	close(h.done)
	h.wg.Wait()
	return h.max.Load()
}
