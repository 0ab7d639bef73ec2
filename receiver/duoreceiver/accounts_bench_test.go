// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoreceiver

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/otelcol-duo/otelcol-duo/internal/duosim"
	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/duoapi"
	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/metadata"
)

// BenchmarkAccounts500 reads 500 children × 6 log types from the simulator (in the same
// process: its cost is in the CPU and RSS figures), mostly idle: a few events per child
// and log type, pulls every 30 s. It reports
//   - startup_s: from Start until every child has finished its first pull of every type;
//   - idle_cpu_s/min: process CPU time per minute over the idle minute that follows
//     (with the heap samples' GCs);
//   - rss_MB, heap_MB: after the first idle spell (simulator included);
//     receiver_heap_MB: the live heap that start added; heap_growth_MB from the first
//     idle spell to the second (memory must not grow with time);
//   - removed_pollers_left, removed_heap_MB: pollers still running for the 250 children
//     that left the list (must be 0), and the heap change that removal brought.
//
// Run with -benchtime=1x: one iteration is the whole scenario (about two minutes).
func BenchmarkAccounts500(b *testing.B) {
	const (
		children = 500
		idle     = 30 * time.Second
	)
	for range b.N {
		now := time.Now()
		kids := duosim.ChildAccounts(42, 0, children)
		sim := duosim.New(duosim.Config{Seed: 42, Delay: time.Second, Children: kids})
		for _, k := range kids {
			for _, lt := range duosim.LogTypes() {
				sim.Account(k.AccountID).Backfill(lt, 3, now.Add(-time.Hour), now.Add(-time.Minute))
			}
		}
		srv := httptest.NewServer(sim)

		cfg := parentConfig(srv.URL)
		cfg.Delay = time.Second
		cfg.InitialLookback = 2 * time.Hour
		for _, lt := range duoapi.LogTypes {
			*cfg.Logs.byType(lt) = LogTypeConfig{Enabled: true, PullInterval: idle, Window: idle + 5*time.Second}
		}
		cfg.Accounts = AccountsConfig{Discover: true, RefreshInterval: 5 * time.Second}
		require.NoError(b, cfg.Validate())

		r, err := newDuoLogsReceiver(receivertest.NewNopSettings(metadata.Type), cfg, consumertest.NewNop())
		require.NoError(b, err)
		var polls atomic.Int64
		r.onPoll = func(duoapi.LogType, error) { polls.Add(1) }
		var reading atomic.Int64
		r.onAccounts = func(ids []string) { reading.Store(int64(len(ids))) }

		runtime.GC()
		heap0 := heapInUse()
		b.ResetTimer()
		start := time.Now()
		require.NoError(b, r.Start(context.Background(), componenttest.NewNopHost()))
		for polls.Load() < children*int64(len(duoapi.LogTypes)) {
			time.Sleep(10 * time.Millisecond)
		}
		startup := time.Since(start)
		b.StopTimer()

		// The heap is the least of several samples over a spell: pages in flight (in the
		// simulator or the receiver) come and go, what the children hold stays.
		cpu0 := cpuTime()
		time.Sleep(idle / 2)
		heap1, rss1 := heapMin(idle/2), rssBytes()
		time.Sleep(idle / 2)
		heap2 := heapMin(idle / 2)
		cpu := cpuTime() - cpu0

		for _, k := range kids[:children/2] {
			sim.RemoveChild(k.AccountID)
		}
		for reading.Load() != children/2 {
			time.Sleep(10 * time.Millisecond)
		}
		heap3 := heapMin(idle / 2)
		left := pollerGoroutines() - children/2*len(duoapi.LogTypes)

		b.ReportMetric(startup.Seconds(), "startup_s")
		b.ReportMetric(cpu.Seconds()/(2*idle).Minutes(), "idle_cpu_s/min")
		b.ReportMetric(float64(rss1)/(1<<20), "rss_MB")
		b.ReportMetric(float64(heap1)/(1<<20), "heap_MB")
		b.ReportMetric(float64(int64(heap1)-int64(heap0))/(1<<20), "receiver_heap_MB")
		b.ReportMetric(float64(int64(heap2)-int64(heap1))/(1<<20), "heap_growth_MB")
		b.ReportMetric(float64(left), "removed_pollers_left")
		b.ReportMetric(float64(int64(heap3)-int64(heap2))/(1<<20), "removed_heap_MB")
		b.ReportMetric(float64(polls.Load()), "polls")

		require.NoError(b, r.Shutdown(context.Background()))
		srv.Close()
	}
}

// heapMin is the least live heap of samples taken every second over d, each after a GC.
func heapMin(d time.Duration) uint64 {
	least := uint64(0)
	for end := time.Now().Add(d); ; {
		runtime.GC()
		if h := heapInUse(); least == 0 || h < least {
			least = h
		}
		if time.Now().After(end) {
			return least
		}
		time.Sleep(time.Second)
	}
}

func heapInUse() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// rssBytes is the process's resident set (Linux); 0 elsewhere.
func rssBytes() uint64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// switchLister serves one of two child lists.
type switchLister struct {
	all  []duoapi.Account
	half atomic.Bool
}

func (l *switchLister) ListAccounts(context.Context) ([]duoapi.Account, error) {
	if l.half.Load() {
		return l.all[:len(l.all)/2], nil
	}
	return l.all, nil
}

// BenchmarkAccountsChurn measures the receiver alone (fake clients, no simulator, no
// HTTP): the live heap 500 children × 6 log types add (heap_per_child_KB), what 250 of
// them leaving the list frees, and the heap growth and pollers left after 250 children
// have left and come back 19 times more: a removed child must cost nothing.
func BenchmarkAccountsChurn(b *testing.B) {
	const children = 500
	for range b.N {
		now := time.Now()
		all := make([]duoapi.Account, children)
		for i := range all {
			all[i] = duoapi.Account{ID: fmt.Sprintf("DA%018d", i), Name: fmt.Sprintf("Customer %03d", i), APIHostname: fmt.Sprintf("api-%08x.duosecurity.com", i)}
		}
		lister := &switchLister{all: all}
		cfg := validConfig()
		for _, lt := range duoapi.LogTypes {
			*cfg.Logs.byType(lt) = LogTypeConfig{Enabled: true, PullInterval: time.Hour, Window: time.Hour}
		}
		cfg.Accounts = AccountsConfig{Discover: true, RefreshInterval: 20 * time.Millisecond}
		r, err := newDuoLogsReceiver(receivertest.NewNopSettings(metadata.Type), cfg, consumertest.NewNop())
		require.NoError(b, err)
		var reading atomic.Int64
		r.onAccounts = func(ids []string) { reading.Store(int64(len(ids))) }
		r.newChildren = func(context.Context, component.Host) (childClients, error) {
			return childClients{
				list:   lister,
				client: func(accountRef) (duoAPI, error) { return newFakeDuo(now, 1000), nil },
				close:  func() {},
			}, nil
		}
		waitFor := func(n int64) {
			for reading.Load() != n {
				time.Sleep(time.Millisecond)
			}
		}
		runtime.GC()
		heap0 := heapInUse()
		require.NoError(b, r.Start(context.Background(), componenttest.NewNopHost()))
		waitFor(children)
		runtime.GC()
		heap1 := heapInUse()
		churn := func(rounds int) uint64 {
			for range rounds {
				lister.half.Store(false)
				waitFor(children)
				lister.half.Store(true)
				waitFor(children / 2)
			}
			runtime.GC()
			return heapInUse()
		}
		heapAfter1 := churn(1)
		heapAfter20 := churn(19)
		left := pollerGoroutines() - children/2*len(duoapi.LogTypes)

		b.ReportMetric(float64(int64(heap1)-int64(heap0))/children/1024, "heap_per_child_KB")
		b.ReportMetric(float64(int64(heap1)-int64(heapAfter1))/(1<<20), "freed_by_removing_half_MB")
		b.ReportMetric(float64(int64(heapAfter20)-int64(heapAfter1))/(1<<20), "growth_over_19_churns_MB")
		b.ReportMetric(float64(left), "churn_pollers_left")
		require.NoError(b, r.Shutdown(context.Background()))
	}
}
