// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoreceiver

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/storagetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-duo/otelcol-duo/internal/duosim"
	"github.com/otelcol-duo/otelcol-duo/internal/otlptest"
	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/duoapi"
	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/metadata"
)

const simBackfill = 5000

// contentSink keeps, per log type, the canonical JSON of every delivered record body, so
// that deliveries can be compared with the simulator's events as multisets. It can call
// a hook once a number of records has arrived.
type contentSink struct {
	mu      sync.Mutex
	got     map[string]map[string]int // log type -> canonical body -> count
	total   int
	at      int
	reached chan struct{}
}

func newContentSink() *contentSink {
	return &contentSink{got: map[string]map[string]int{}, reached: make(chan struct{})}
}

func (s *contentSink) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

func (s *contentSink) ConsumeLogs(_ context.Context, ld plog.Logs) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for lr := range otlptest.LogRecords(ld) {
		lt := lr.EventName()[len("duo."):]
		raw, err := json.Marshal(lr.Body().Map().AsRaw())
		if err != nil {
			return err
		}
		if s.got[lt] == nil {
			s.got[lt] = map[string]int{}
		}
		s.got[lt][canonicalJSON(raw)]++
		s.total++
		if s.at > 0 && s.total == s.at {
			close(s.reached)
		}
	}
	return nil
}

func (s *contentSink) count(lt string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.got[lt] {
		n += c
	}
	return n
}

func (s *contentSink) snapshot(lt string) map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.got[lt]))
	for k, v := range s.got[lt] {
		out[k] = v
	}
	return out
}

// canonicalJSON re-encodes a JSON value with sorted keys and float numbers.
func canonicalJSON(raw []byte) string {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return "undecodable:" + string(raw)
	}
	out, _ := json.Marshal(v)
	return string(out)
}

// simExpected is the multiset of canonical records the simulator made for a log type.
func simExpected(sim *duosim.Sim, lt string) map[string]int {
	want := map[string]int{}
	for _, ev := range sim.Events(lt) {
		want[canonicalJSON(ev.Raw)]++
	}
	return want
}

// simRig is a simulator behind an HTTP server and a receiver configuration pointing at it,
// with short intervals: pull every 200 ms, delay 1 s, window 6 s (wide, so that a slow
// pull on a loaded machine still re-reads a straggler before it leaves the window).
type simRig struct {
	sim  *duosim.Sim
	srv  *httptest.Server
	cfg  *Config
	set  receiver.Settings
	host *storagetest.StorageHost
}

// simConfig serves sim until the test ends and returns the default configuration pointed
// at it with the simulator's credentials.
func simConfig(t *testing.T, sim *duosim.Sim) (*Config, *httptest.Server) {
	t.Helper()
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	cfg := createDefaultConfig().(*Config)
	cfg.Endpoint = srv.URL
	cfg.APIHostname = duosim.DefaultHost
	cfg.IntegrationKey = duosim.DefaultIntegrationKey
	cfg.SecretKey = duosim.DefaultSecretKey
	return cfg, srv
}

func newSimRig(t *testing.T) *simRig {
	t.Helper()
	sim := duosim.New(duosim.Config{Seed: 42, Delay: time.Second})
	cfg, srv := simConfig(t, sim)
	cfg.Delay = time.Second
	cfg.InitialLookback = 3 * time.Hour
	cfg.RateLimit = 0
	cfg.BackOffConfig.InitialInterval = 50 * time.Millisecond
	cfg.BackOffConfig.MaxInterval = 500 * time.Millisecond
	for _, lt := range duoapi.LogTypes {
		*cfg.Logs.byType(lt) = LogTypeConfig{Enabled: true, PullInterval: 200 * time.Millisecond, Window: 6 * time.Second}
	}
	cfg.StorageID = ptr(storagetest.NewStorageID("state"))
	require.NoError(t, cfg.Validate())
	return &simRig{
		sim:  sim,
		srv:  srv,
		cfg:  cfg,
		set:  receivertest.NewNopSettings(metadata.Type),
		host: storagetest.NewStorageHost().WithFileBackedStorageExtension("state", t.TempDir()),
	}
}

// backfill makes simBackfill events per log type over the last two hours, plus twins in
// the v1 types.
func (rig *simRig) backfill(now time.Time) {
	for _, lt := range duosim.LogTypes() {
		rig.sim.Backfill(lt, simBackfill, now.Add(-2*time.Hour), now.Add(-10*time.Second))
		if duoapi.LogType(lt).V1() {
			rig.sim.Twins(lt, 3, now.Add(-30*time.Minute))
		}
	}
}

// stragglers adds, to the v2 types and Trust Monitor, an event that Duo shows 1.5 s
// late: later than the delay (1 s), well inside delay + window (7 s), so a re-read
// catches it.
func (rig *simRig) stragglers(now time.Time) {
	for _, lt := range duosim.LogTypes() {
		if !duoapi.LogType(lt).V1() {
			rig.sim.Straggler(lt, now.Add(-500*time.Millisecond), now.Add(time.Second))
		}
	}
}

// waitBackfill waits until the backfill has arrived, so that the pollers are in their
// short, live pulls.
func (rig *simRig) waitBackfill(t *testing.T, sink *contentSink) {
	t.Helper()
	for _, lt := range duosim.LogTypes() {
		require.Eventually(t, func() bool { return sink.count(lt) >= simBackfill }, 90*time.Second, 20*time.Millisecond,
			"%s: the backfill did not arrive", lt)
	}
}

func (rig *simRig) start(t *testing.T, next *contentSink) *duoLogsReceiver {
	t.Helper()
	r, err := newDuoLogsReceiver(rig.set, rig.cfg, next)
	require.NoError(t, err)
	require.NoError(t, r.Start(context.Background(), rig.host))
	return r
}

// waitAll waits until every event the simulator made has arrived, then two more pull
// intervals for anything that should not arrive, and compares.
func (rig *simRig) waitAll(t *testing.T, sink *contentSink) {
	t.Helper()
	for _, lt := range duosim.LogTypes() {
		want := len(rig.sim.Events(lt))
		require.Eventually(t, func() bool { return sink.count(lt) >= want }, 90*time.Second, 50*time.Millisecond,
			"%s: %d of %d events arrived", lt, sink.count(lt), want)
	}
	time.Sleep(time.Second) // let a few more pulls run: they must bring no duplicate
	for _, lt := range duosim.LogTypes() {
		want := simExpected(rig.sim, lt)
		got := sink.snapshot(lt)
		assert.Equal(t, len(want), len(got), "%s: distinct records", lt)
		for k, n := range want {
			if got[k] != n {
				t.Errorf("%s: record delivered %d times, want %d: %.120s", lt, got[k], n, k)
			}
		}
		for k, n := range got {
			if _, ok := want[k]; !ok {
				t.Errorf("%s: unexpected record delivered %d times: %.120s", lt, n, k)
			}
		}
	}
}

// TestSimExactlyOnce: a backfill of 5,000 events per log type, then live events over many
// polls, arrive exactly once each.
func TestSimExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("simulator run")
	}
	rig := newSimRig(t)
	rig.backfill(time.Now())
	sink := newContentSink()
	r := rig.start(t, sink)
	rig.waitBackfill(t, sink)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rig.sim.StartLive(ctx, 20)
	rig.stragglers(time.Now())
	time.Sleep(3 * time.Second) // live events over ~15 polls per log type
	cancel()

	rig.waitAll(t, sink)
	require.NoError(t, r.Shutdown(context.Background()))
}

// TestSimRestartMidBackfill: a receiver stopped when half the backfill has arrived, and a
// new one on the same storage, deliver every event exactly once between them.
func TestSimRestartMidBackfill(t *testing.T) {
	if testing.Short() {
		t.Skip("simulator run")
	}
	rig := newSimRig(t)
	// A budget of 4 requests a second per endpoint keeps the backfill going for about a
	// second, so the stop lands in the middle of paging.
	rig.cfg.RateLimit = 240
	rig.backfill(time.Now())
	total := 0
	for _, lt := range duosim.LogTypes() {
		total += len(rig.sim.Events(lt))
	}
	sink := newContentSink()
	sink.at = total / 2
	first := rig.start(t, sink)
	select {
	case <-sink.reached:
	case <-time.After(90 * time.Second):
		t.Fatal("half the backfill never arrived")
	}
	require.NoError(t, first.Shutdown(context.Background()))
	sink.mu.Lock()
	stoppedAt := sink.total
	sink.mu.Unlock()
	t.Logf("stopped after %d of %d records", stoppedAt, total)
	require.Less(t, stoppedAt, total, "the first receiver must stop before the backfill is complete")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rig.sim.StartLive(ctx, 20)
	second := rig.start(t, sink)
	rig.waitBackfill(t, sink)
	rig.stragglers(time.Now())
	time.Sleep(2 * time.Second)
	cancel()
	rig.waitAll(t, sink)
	require.NoError(t, second.Shutdown(context.Background()))
}

// TestSimStartupCheck runs the start-up check against the simulator: the right keys log
// the account's counts, a wrong secret key reports the credentials status before any pull.
func TestSimStartupCheck(t *testing.T) {
	tests := []struct {
		name      string
		secretKey string
		wantMsg   string
		wantError bool
	}{
		{name: "accepted", wantMsg: "duo accepted the credentials"},
		{name: "wrong secret key", secretKey: strings.Repeat("x", secretKeyLength), wantMsg: "duo rejected the credentials; check integration_key, secret_key and api_hostname", wantError: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rig := newSimRig(t)
			rig.cfg.Logs = LogsConfig{} // the check alone
			if tt.secretKey != "" {
				rig.cfg.SecretKey = configopaque.String(tt.secretKey)
			}
			core, logs := observer.New(zapcore.InfoLevel)
			rig.set.Logger = zap.New(core)
			host := &statusHost{StorageHost: rig.host}
			r, err := newDuoLogsReceiver(rig.set, rig.cfg, newContentSink())
			require.NoError(t, err)
			require.NoError(t, r.Start(context.Background(), host))
			require.Eventually(t, func() bool { return logs.FilterMessage(tt.wantMsg).Len() == 1 }, 10*time.Second, 10*time.Millisecond)
			require.NoError(t, r.Shutdown(context.Background()))

			if !tt.wantError {
				fields := logs.FilterMessage(tt.wantMsg).All()[0].ContextMap()
				assert.Positive(t, fields["user_count"])
				assert.Positive(t, fields["integration_count"])
				assert.Empty(t, host.statuses())
				return
			}
			events := host.statuses()
			require.Len(t, events, 1)
			assert.ErrorContains(t, events[0].Err(), "secret_key")
		})
	}
}
