// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoreceiver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/storagetest"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/otelcol-duo/otelcol-duo/internal/otlptest"
	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/duoapi"
	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/metadata"
)

// fakeRecord is one event of the fake Duo.
type fakeRecord struct {
	id        string
	time      time.Time
	visibleAt time.Time
}

// fakeDuo serves Fetch from memory: the records of a window that are visible at the fake's
// clock, in time order, pageSize at a time, Position.Offset being the index of the next one.
type fakeDuo struct {
	mu       sync.Mutex
	now      time.Time
	pageSize int
	records  map[duoapi.LogType][]fakeRecord
	calls    int // page requests so far
	// fail, when set, can fail the n-th page request (1-based).
	fail func(call int) error
	// block, when set, makes the n-th page request wait for ctx to end.
	block   func(call int) bool
	blocked chan struct{}
	windows []duoapi.Window // every window asked for
	offset  time.Duration   // ClockOffset's answer
}

func newFakeDuo(now time.Time, pageSize int) *fakeDuo {
	return &fakeDuo{now: now, pageSize: pageSize, records: map[duoapi.LogType][]fakeRecord{}, blocked: make(chan struct{}, 1)}
}

func (f *fakeDuo) add(lt duoapi.LogType, id string, t, visibleAt time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.records[lt] = append(f.records[lt], fakeRecord{id: id, time: t, visibleAt: visibleAt})
	sort.SliceStable(f.records[lt], func(i, j int) bool { return f.records[lt][i].time.Before(f.records[lt][j].time) })
}

// addSpread adds n events spread evenly over [from, to), visible at once.
func (f *fakeDuo) addSpread(lt duoapi.LogType, prefix string, n int, from, to time.Time) []string {
	ids := make([]string, n)
	step := to.Sub(from) / time.Duration(n)
	for i := range n {
		ids[i] = fmt.Sprintf("%s-%04d", prefix, i)
		t := from.Add(step * time.Duration(i))
		f.add(lt, ids[i], t, t)
	}
	return ids
}

func (f *fakeDuo) setNow(now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = now
}

func (f *fakeDuo) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeDuo) Fetch(ctx context.Context, lt duoapi.LogType, w duoapi.Window, fn func(duoapi.Page) error) error {
	f.mu.Lock()
	f.windows = append(f.windows, w)
	var list []fakeRecord
	for _, r := range f.records[lt] {
		if !r.time.Before(w.Start) && !r.time.After(w.End) && !r.visibleAt.After(f.now) {
			list = append(list, r)
		}
	}
	f.mu.Unlock()

	i := 0
	if w.From != nil {
		var err error
		if i, err = strconv.Atoi(w.From.Offset); err != nil {
			return err
		}
	}
	for {
		f.mu.Lock()
		f.calls++
		call, fail, block := f.calls, f.fail, f.block
		f.mu.Unlock()
		if block != nil && block(call) {
			f.blocked <- struct{}{}
			<-ctx.Done()
			return ctx.Err()
		}
		if fail != nil {
			if err := fail(call); err != nil {
				return err
			}
		}
		j := min(i+f.pageSize, len(list))
		page := duoapi.Page{}
		for _, r := range list[i:j] {
			raw, _ := json.Marshal(map[string]any{"txid": r.id, "timestamp": r.time.Unix()})
			page.Records = append(page.Records, duoapi.Record{Raw: string(raw), Time: r.time, ID: r.id})
		}
		if j < len(list) {
			page.Next = &duoapi.Position{Offset: strconv.Itoa(j)}
		}
		if err := fn(page); err != nil {
			return err
		}
		if page.Next == nil {
			return nil
		}
		i = j
	}
}

// Summary answers the start-up check like a small account.
func (f *fakeDuo) Summary(context.Context) (map[string]int64, error) {
	return map[string]int64{"user_count": 1, "integration_count": 1}, nil
}

// ClockOffset is the skew set by setOffset: how far Duo's clock is ahead of the fake's.
func (f *fakeDuo) ClockOffset() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.offset
}

func (f *fakeDuo) setOffset(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.offset = d
}

func (f *fakeDuo) windowsAsked() []duoapi.Window {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]duoapi.Window(nil), f.windows...)
}

// flakyConsumer refuses the ConsumeLogs calls for which refuse returns true, and keeps
// the accepted ones.
type flakyConsumer struct {
	consumertest.LogsSink
	mu     sync.Mutex
	calls  int
	refuse func(call int) bool
}

func (c *flakyConsumer) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	c.mu.Lock()
	c.calls++
	call := c.calls
	c.mu.Unlock()
	if c.refuse != nil && c.refuse(call) {
		return errors.New("downstream is full")
	}
	return c.LogsSink.ConsumeLogs(ctx, ld)
}

// deliveredIDs lists the txid of every record a sink received, in order.
func deliveredIDs(t *testing.T, batches []plog.Logs) []string {
	t.Helper()
	ids := []string{}
	for _, ld := range batches {
		for lr := range otlptest.LogRecords(ld) {
			v, ok := lr.Body().Map().Get("txid")
			require.True(t, ok, "record without txid")
			ids = append(ids, v.Str())
		}
	}
	return ids
}

// statusHost is a storage host that also records component status events.
type statusHost struct {
	*storagetest.StorageHost
	mu     sync.Mutex
	events []*componentstatus.Event
}

func (h *statusHost) Report(ev *componentstatus.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, ev)
}

func (h *statusHost) statuses() []*componentstatus.Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]*componentstatus.Event(nil), h.events...)
}

// harness runs receivers, one after the other, on one storage and one receiver.Settings,
// as a restarted collector would.
type harness struct {
	t     *testing.T
	set   receiver.Settings
	host  *statusHost
	cfg   *Config
	polls chan error
}

func newHarness(t *testing.T, cfg *Config) *harness {
	t.Helper()
	cfg.StorageID = ptr(storagetest.NewStorageID("state"))
	return &harness{
		t:     t,
		set:   receivertest.NewNopSettings(metadata.Type),
		host:  &statusHost{StorageHost: storagetest.NewStorageHost().WithFileBackedStorageExtension("state", t.TempDir())},
		cfg:   cfg,
		polls: make(chan error, 100),
	}
}

func ptr[T any](v T) *T { return &v }

// start starts a receiver on the fake and returns it.
func (h *harness) start(fake *fakeDuo, next consumer.Logs) *duoLogsReceiver {
	h.t.Helper()
	r, err := newDuoLogsReceiver(h.set, h.cfg, next)
	require.NoError(h.t, err)
	r.now = fake.clock
	r.newAPI = func(context.Context, component.Host) (duoAPI, func(), error) {
		return fake, func() {}, nil
	}
	r.onPoll = func(_ duoapi.LogType, err error) { h.polls <- err }
	require.NoError(h.t, r.Start(context.Background(), h.host))
	return r
}

// runOnce starts a receiver, waits for its first poll and shuts it down. It returns the
// poll's error.
func (h *harness) runOnce(fake *fakeDuo, next consumer.Logs) error {
	h.t.Helper()
	r := h.start(fake, next)
	var err error
	select {
	case err = <-h.polls:
	case <-time.After(10 * time.Second):
		h.t.Fatal("no poll completed")
	}
	require.NoError(h.t, r.Shutdown(context.Background()))
	return err
}

// stored reads the checkpoint of a log type from the harness' storage.
func (h *harness) stored(lt duoapi.LogType) *streamState {
	h.t.Helper()
	ext := h.host.GetExtensions()[*h.cfg.StorageID].(storage.Extension)
	client, err := ext.GetClient(context.Background(), component.KindReceiver, h.set.ID, "")
	require.NoError(h.t, err)
	defer func() { require.NoError(h.t, client.Close(context.Background())) }()
	cp := &checkpointer{client: client, key: checkpointKey(h.cfg.host(), h.cfg.AccountID, lt)}
	st, err := cp.load(context.Background())
	require.NoError(h.t, err)
	return st
}

// put writes a raw checkpoint value for a log type.
func (h *harness) put(lt duoapi.LogType, value []byte) {
	h.t.Helper()
	ext := h.host.GetExtensions()[*h.cfg.StorageID].(storage.Extension)
	client, err := ext.GetClient(context.Background(), component.KindReceiver, h.set.ID, "")
	require.NoError(h.t, err)
	require.NoError(h.t, client.Set(context.Background(), checkpointKey(h.cfg.host(), h.cfg.AccountID, lt), value))
	require.NoError(h.t, client.Close(context.Background()))
}

func newTestStorageClient(t *testing.T) *storagetest.TestClient {
	t.Helper()
	return storagetest.NewInMemoryClient(component.KindReceiver, component.NewID(metadata.Type), "")
}

// failingStorage is a storage extension whose clients fail every write while failSet is
// true, and every read while failGet is true.
type failingStorage struct {
	*storagetest.TestStorage
	failSet, failGet atomic.Bool
}

func (s *failingStorage) GetClient(ctx context.Context, kind component.Kind, id component.ID, name string) (storage.Client, error) {
	c, err := s.TestStorage.GetClient(ctx, kind, id, name)
	if err != nil {
		return nil, err
	}
	return &failingClient{Client: c, s: s}, nil
}

type failingClient struct {
	storage.Client
	s *failingStorage
}

func (c *failingClient) Set(ctx context.Context, key string, value []byte) error {
	if c.s.failSet.Load() {
		return errors.New("disk full")
	}
	return c.Client.Set(ctx, key, value)
}

func (c *failingClient) Get(ctx context.Context, key string) ([]byte, error) {
	if c.s.failGet.Load() {
		return nil, errors.New("i/o error")
	}
	return c.Client.Get(ctx, key)
}
