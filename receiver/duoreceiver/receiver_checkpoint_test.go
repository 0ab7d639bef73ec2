// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoreceiver

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/storagetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/duoapi"
	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/metadatatest"
)

var t0 = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

// checkpointConfig reads authentication logs only: delay 2m, window 6m, a one-hour first
// look-back, and an interval long enough that only the poll at start runs.
func checkpointConfig() *Config {
	cfg := validConfig()
	cfg.Logs = LogsConfig{Authentication: LogTypeConfig{Enabled: true, PullInterval: time.Hour, Window: 6 * time.Minute}}
	cfg.InitialLookback = time.Hour
	return cfg
}

// flakyHarness polls authentication every 50ms with store as its storage ("flaky"),
// logging at info into the returned observer.
func flakyHarness(t *testing.T, store *failingStorage) (*harness, *observer.ObservedLogs) {
	t.Helper()
	cfg := checkpointConfig()
	cfg.Logs.Authentication.PullInterval = 50 * time.Millisecond
	h := newHarness(t, cfg)
	id := storagetest.NewStorageID("flaky")
	h.cfg.StorageID = &id
	h.host = &statusHost{StorageHost: storagetest.NewStorageHost().WithExtension(id, store)}
	core, logs := observer.New(zapcore.InfoLevel)
	h.set.Logger = zap.New(core)
	return h, logs
}

// TestCheckpointResume runs the receiver once with a failure, checks what was stored, then
// runs it again on the same storage with the failure gone: every event arrives exactly once.
func TestCheckpointResume(t *testing.T) {
	lt := duoapi.Authentication
	errAPI := errors.New("503 service unavailable")
	tests := []struct {
		name        string
		failRequest func(call int) error
		refuse      func(call int) bool
		// wantFirst is how many events the first run delivers.
		wantFirst int
		// wantWindow: the first run leaves a window in progress, at this offset.
		wantWindow string
		// wantCursorMoved: the first run completed its window.
		wantCursorMoved bool
	}{
		{name: "all pages accepted", wantFirst: 25, wantCursorMoved: true},
		{name: "request failure on first page", failRequest: func(c int) error { return failOn(c, 1, errAPI) }},
		{name: "partial paging then request failure", failRequest: func(c int) error { return failOn(c, 2, errAPI) }, wantFirst: 10, wantWindow: "10"},
		{name: "request failure on last page", failRequest: func(c int) error { return failOn(c, 3, errAPI) }, wantFirst: 20, wantWindow: "20"},
		{name: "consumer refuses first page", refuse: func(c int) bool { return c == 1 }},
		{name: "consumer refuses second page", refuse: func(c int) bool { return c == 2 }, wantFirst: 10, wantWindow: "10"},
		{name: "consumer refuses everything", refuse: func(int) bool { return true }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, checkpointConfig())
			fake := newFakeDuo(t0, 10)
			ids := fake.addSpread(lt, "ev", 25, t0.Add(-50*time.Minute), t0.Add(-3*time.Minute))

			// First run, with the failure.
			fake.fail = tt.failRequest
			first := &flakyConsumer{refuse: tt.refuse}
			err := h.runOnce(fake, first)
			if tt.wantCursorMoved {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
			}
			got := deliveredIDs(t, first.AllLogs())
			require.Equal(t, ids[:tt.wantFirst], got)

			st := h.stored(lt)
			require.NotNil(t, st)
			switch {
			case tt.wantCursorMoved:
				assert.Nil(t, st.window)
				assert.Equal(t, t0.Add(-2*time.Minute+time.Millisecond), st.cursor)
			case tt.wantWindow != "":
				require.NotNil(t, st.window)
				require.NotNil(t, st.window.From)
				assert.Equal(t, tt.wantWindow, st.window.From.Offset)
				assert.Equal(t, t0.Add(-time.Hour), st.window.Start)
				assert.Equal(t, t0.Add(-2*time.Minute), st.window.End)
			default:
				// Nothing delivered: the cursor is still the first look-back.
				assert.Nil(t, st.window)
				assert.Equal(t, t0.Add(-time.Hour), st.cursor)
			}

			// Second run, a minute later, with two more events; nothing fails.
			fake.setNow(t0.Add(time.Minute))
			fake.fail = nil
			later := fake.addSpread(lt, "late", 2, t0.Add(-2*time.Minute), t0.Add(-time.Minute))
			second := &consumertest.LogsSink{}
			require.NoError(t, h.runOnce(fake, second))

			all := append(got, deliveredIDs(t, second.AllLogs())...)
			assert.ElementsMatch(t, append(append([]string{}, ids...), later...), all, "every event exactly once")

			st = h.stored(lt)
			assert.Nil(t, st.window)
			assert.Equal(t, t0.Add(-time.Minute+time.Millisecond), st.cursor)
			// The second run resumed the stored window first, with the same bounds.
			if tt.wantWindow != "" {
				asked := fake.windowsAsked()
				var resumed bool
				for _, w := range asked {
					resumed = resumed || (w.From != nil && w.From.Offset == tt.wantWindow && w.Start.Equal(t0.Add(-time.Hour)) && w.End.Equal(t0.Add(-2*time.Minute)))
				}
				assert.True(t, resumed, "the stored window was resumed as it was: %+v", asked)
			}
		})
	}
}

func failOn(call, want int, err error) error {
	if call == want {
		return err
	}
	return nil
}

// TestCheckpointOverlapNoDuplicates: consecutive pulls overlap by the window; events read
// twice are dropped, and an event Duo surfaces late, inside the window, is still caught.
func TestCheckpointOverlapNoDuplicates(t *testing.T) {
	lt := duoapi.Authentication
	h := newHarness(t, checkpointConfig())
	fake := newFakeDuo(t0, 10)
	ids := fake.addSpread(lt, "ev", 15, t0.Add(-7*time.Minute), t0.Add(-2*time.Minute))
	// A straggler: its time is inside the first window, but Duo shows it only later.
	fake.add(lt, "straggler", t0.Add(-4*time.Minute), t0.Add(30*time.Second))

	first := &consumertest.LogsSink{}
	require.NoError(t, h.runOnce(fake, first))
	assert.Equal(t, ids, deliveredIDs(t, first.AllLogs()))

	fake.setNow(t0.Add(time.Minute))
	second := &consumertest.LogsSink{}
	require.NoError(t, h.runOnce(fake, second))
	assert.Equal(t, []string{"straggler"}, deliveredIDs(t, second.AllLogs()))

	// The second window re-read [now-delay-window, now-delay] = [t0-7m, t0-1m].
	asked := fake.windowsAsked()
	require.Len(t, asked, 2)
	assert.Equal(t, t0.Add(-7*time.Minute), asked[1].Start)
	st := h.stored(lt)
	assert.Contains(t, st.seen, "straggler")
}

// TestCheckpointCorrupt: an unreadable stored cursor is logged, replaced by the first
// look-back, and the receiver keeps running.
func TestCheckpointCorrupt(t *testing.T) {
	lt := duoapi.Authentication
	tests := []struct {
		name  string
		value []byte
	}{
		{name: "not json", value: []byte("{not json")},
		{name: "unknown version", value: []byte(`{"version":99,"cursor":"2026-11-20T11:00:00Z"}`)},
		{name: "empty object", value: []byte(`{}`)},
		{name: "window ends before start", value: []byte(`{"version":1,"window":{"start":"2026-11-20T11:00:00Z","end":"2026-11-20T10:00:00Z"}}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, checkpointConfig())
			core, logs := observer.New(zapcore.InfoLevel)
			h.set.Logger = zap.New(core)
			h.put(lt, tt.value)

			fake := newFakeDuo(t0, 10)
			fake.addSpread(lt, "old", 3, t0.Add(-3*time.Hour), t0.Add(-2*time.Hour))
			ids := fake.addSpread(lt, "ev", 5, t0.Add(-30*time.Minute), t0.Add(-10*time.Minute))
			sink := &consumertest.LogsSink{}
			require.NoError(t, h.runOnce(fake, sink))

			assert.Equal(t, ids, deliveredIDs(t, sink.AllLogs()), "read from the look-back only")
			assert.Equal(t, 1, logs.FilterMessage("stored cursor is unreadable; starting from initial_lookback instead").Len())
			assert.Equal(t, 1, logs.FilterMessage("no stored cursor; starting from initial_lookback").Len())
			st := h.stored(lt)
			assert.Equal(t, t0.Add(-2*time.Minute+time.Millisecond), st.cursor)
		})
	}
}

// TestCheckpointRetention: a stored cursor older than Duo's 180 days is moved to the
// retention edge with a warning, and reading goes on.
func TestCheckpointRetention(t *testing.T) {
	lt := duoapi.Authentication
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	h := newHarness(t, checkpointConfig())
	h.set = metadatatest.NewSettings(tel)
	core, logs := observer.New(zapcore.InfoLevel)
	h.set.Logger = zap.New(core)
	old := &streamState{cursor: t0.Add(-200 * 24 * time.Hour)}
	data, err := encodeCheckpoint(old)
	require.NoError(t, err)
	h.put(lt, data)

	fake := newFakeDuo(t0, 10)
	ids := fake.addSpread(lt, "ev", 5, t0.Add(-100*24*time.Hour), t0.Add(-10*time.Minute))
	sink := &consumertest.LogsSink{}
	require.NoError(t, h.runOnce(fake, sink))

	assert.Equal(t, ids, deliveredIDs(t, sink.AllLogs()))
	assert.Equal(t, 1, logs.FilterMessage("resuming from stored cursor").Len())
	assert.Equal(t, 1, logs.FilterMessage("cursor is older than Duo's 180-day retention; skipping to the retention edge").Len())
	asked := fake.windowsAsked()
	require.Len(t, asked, 1)
	assert.Equal(t, t0.Add(-retentionSafety), asked[0].Start)
	skipped := (200*24*time.Hour - retentionSafety).Seconds()
	metadatatest.AssertEqualDuoReceiverRetentionSkipped(t, tel, []metricdata.DataPoint[float64]{
		{Attributes: attribute.NewSet(attribute.String(attrLogType, string(lt))), Value: skipped},
	}, metricdatatest.IgnoreTimestamp())
}

// TestShutdownMidPaging: Shutdown while a page request hangs returns promptly, leaks no
// goroutine (goleak in TestMain) and keeps the position of the last delivered page.
func TestShutdownMidPaging(t *testing.T) {
	lt := duoapi.Authentication
	h := newHarness(t, checkpointConfig())
	fake := newFakeDuo(t0, 10)
	ids := fake.addSpread(lt, "ev", 25, t0.Add(-50*time.Minute), t0.Add(-3*time.Minute))
	fake.block = func(call int) bool { return call == 2 }
	sink := &consumertest.LogsSink{}
	r := h.start(fake, sink)
	select {
	case <-fake.blocked:
	case <-time.After(10 * time.Second):
		t.Fatal("the second page was never requested")
	}

	done := make(chan error, 1)
	go func() { done <- r.Shutdown(context.Background()) }()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Shutdown did not return promptly")
	}
	assert.Empty(t, h.polls, "a poll cut short by Shutdown is not reported")
	assert.Equal(t, ids[:10], deliveredIDs(t, sink.AllLogs()))
	st := h.stored(lt)
	require.NotNil(t, st.window)
	assert.Equal(t, "10", st.window.From.Offset)

	fake.block = nil
	rest := &consumertest.LogsSink{}
	require.NoError(t, h.runOnce(fake, rest))
	assert.Equal(t, ids[10:], deliveredIDs(t, rest.AllLogs()))
}

// TestStatusEvents: a failing pull reports a recoverable error (naming the credentials
// settings when Duo rejected them), the next good pull reports OK.
func TestStatusEvents(t *testing.T) {
	lt := duoapi.Authentication
	tests := []struct {
		name    string
		err     error
		wantMsg []string
	}{
		{name: "transport error", err: errors.New("connection reset"), wantMsg: []string{"connection reset"}},
		{
			name:    "rejected credentials",
			err:     &duoapi.APIError{Status: 401, Code: 40103, Message: "Invalid signature in request credentials", Path: "/admin/v2/logs/authentication"},
			wantMsg: []string{"duo rejected the credentials", "integration_key", "secret_key", "api_hostname", "40103"},
		},
		{
			name:    "wrong integration type",
			err:     &duoapi.APIError{Status: 403, Code: 40301, Message: "Access forbidden", Path: "/admin/v2/logs/authentication"},
			wantMsg: []string{"duo rejected the credentials", "integration_key", "Grant read log"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := checkpointConfig()
			cfg.Logs.Authentication.PullInterval = 50 * time.Millisecond
			h := newHarness(t, cfg)
			fake := newFakeDuo(t0, 10)
			fake.addSpread(lt, "ev", 3, t0.Add(-30*time.Minute), t0.Add(-10*time.Minute))
			fake.fail = func(c int) error { return failOn(c, 1, tt.err) }

			r := h.start(fake, &consumertest.LogsSink{})
			var pollErrs []error
			for range 2 {
				select {
				case err := <-h.polls:
					pollErrs = append(pollErrs, err)
				case <-time.After(10 * time.Second):
					t.Fatal("no poll completed")
				}
			}
			require.NoError(t, r.Shutdown(context.Background()))
			require.Error(t, pollErrs[0])
			require.NoError(t, pollErrs[1])

			events := h.host.statuses()
			require.Len(t, events, 2)
			assert.Equal(t, componentstatus.StatusRecoverableError, events[0].Status())
			for _, want := range tt.wantMsg {
				assert.ErrorContains(t, events[0].Err(), want)
			}
			assert.NotContains(t, events[0].Err().Error(), testSKey)
			assert.Equal(t, componentstatus.StatusOK, events[1].Status())
		})
	}
}

// TestStatusConsumerRefusal: a refusal by the next consumer is back pressure, not API
// trouble: no status event, and the refused page comes again at the next pull.
func TestStatusConsumerRefusal(t *testing.T) {
	lt := duoapi.Authentication
	cfg := checkpointConfig()
	cfg.Logs.Authentication.PullInterval = 50 * time.Millisecond
	h := newHarness(t, cfg)
	fake := newFakeDuo(t0, 10)
	ids := fake.addSpread(lt, "ev", 3, t0.Add(-30*time.Minute), t0.Add(-10*time.Minute))
	sink := &flakyConsumer{refuse: func(c int) bool { return c == 1 }}

	r := h.start(fake, sink)
	var pollErrs []error
	for range 2 {
		select {
		case err := <-h.polls:
			pollErrs = append(pollErrs, err)
		case <-time.After(10 * time.Second):
			t.Fatal("no poll completed")
		}
	}
	require.NoError(t, r.Shutdown(context.Background()))
	require.ErrorIs(t, pollErrs[0], errConsume)
	require.NoError(t, pollErrs[1])
	assert.Empty(t, h.host.statuses())
	assert.Equal(t, ids, deliveredIDs(t, sink.AllLogs()))
}

// TestCheckpointV1Boundary: a v1 window ends in the middle of a second and the cursor
// stays on that second (it is read again, for its late events). The events of that second
// already delivered are not delivered again, even when the next pull comes long after
// (catching up: the window starts at the cursor, not at now-delay-window).
func TestCheckpointV1Boundary(t *testing.T) {
	lt := duoapi.Administrator
	tests := []struct {
		name  string
		pause time.Duration
	}{
		{name: "next pull one minute later", pause: time.Minute},
		{name: "next pull ten minutes later", pause: 10 * time.Minute},
		{name: "next pull a day later", pause: 24 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := checkpointConfig()
			cfg.Logs = LogsConfig{Administrator: LogTypeConfig{Enabled: true, PullInterval: time.Hour, Window: 6 * time.Minute}}
			h := newHarness(t, cfg)
			now := t0.Add(500 * time.Millisecond) // the window ends at t0-2m+0.5s
			boundary := t0.Add(-2 * time.Minute)  // a whole second, inside the first window
			fake := newFakeDuo(now, 10)
			ids := fake.addSpread(lt, "ev", 5, t0.Add(-30*time.Minute), t0.Add(-10*time.Minute))
			fake.add(lt, "edge-1", boundary, boundary)
			fake.add(lt, "edge-2", boundary, boundary)
			first := &consumertest.LogsSink{}
			require.NoError(t, h.runOnce(fake, first))
			assert.Equal(t, append(ids, "edge-1", "edge-2"), deliveredIDs(t, first.AllLogs()))
			assert.Equal(t, boundary, h.stored(lt).cursor, "v1 cursor stays on the end second")

			// A late event of the boundary second, then the next pull.
			fake.add(lt, "edge-late", boundary, now.Add(time.Second))
			fake.setNow(now.Add(tt.pause))
			second := &consumertest.LogsSink{}
			require.NoError(t, h.runOnce(fake, second))
			got := deliveredIDs(t, second.AllLogs())
			assert.Equal(t, []string{"edge-late"}, got)
		})
	}
}

// TestStatusStorageFailure: a checkpoint the storage extension cannot write is storage
// trouble, not API trouble: its own log message and a status naming the extension, never
// "pull failed" or the credentials. Once writes work again the status goes back to OK.
func TestStatusStorageFailure(t *testing.T) {
	lt := duoapi.Authentication
	store := &failingStorage{TestStorage: storagetest.NewInMemoryStorageExtension("flaky")}
	store.failSet.Store(true)
	h, logs := flakyHarness(t, store)
	fake := newFakeDuo(t0, 10)
	fake.addSpread(lt, "ev", 3, t0.Add(-30*time.Minute), t0.Add(-10*time.Minute))

	r := h.start(fake, &consumertest.LogsSink{})
	first := <-h.polls
	store.failSet.Store(false)
	var second error
	select {
	case second = <-h.polls:
	case <-time.After(10 * time.Second):
		t.Fatal("no second poll")
	}
	require.NoError(t, r.Shutdown(context.Background()))

	var sf *storageFailure
	require.ErrorAs(t, first, &sf)
	require.NoError(t, second)
	assert.Zero(t, logs.FilterMessageSnippet("pull failed").Len())
	assert.Zero(t, logs.FilterMessageSnippet("rejected the credentials").Len())
	saveErrs := logs.FilterMessage("failed to save the cursor in the storage extension; a restart may deliver some events again")
	assert.Equal(t, 2, saveErrs.Len(), "the initial save at load and the save after the first page")
	events := h.host.statuses()
	require.NotEmpty(t, events)
	for _, ev := range events[:len(events)-1] {
		assert.Equal(t, componentstatus.StatusRecoverableError, ev.Status())
		assert.ErrorContains(t, ev.Err(), `storage extension "`+h.cfg.StorageID.String()+`"`)
		assert.ErrorContains(t, ev.Err(), "disk full")
		assert.NotContains(t, ev.Err().Error(), "credentials")
	}
	assert.Equal(t, componentstatus.StatusOK, events[len(events)-1].Status())
}

// TestWindowsOnDuoClock: windows are computed on Duo's clock (the local clock corrected by
// the client's learned offset), the clock Duo and the client's own 180-day guard judge
// mintime by. With Duo two hours ahead, a window clamped on the local clock would start
// more than 180 days before Duo's now and be refused on every pull.
func TestWindowsOnDuoClock(t *testing.T) {
	lt := duoapi.Authentication
	h := newHarness(t, checkpointConfig())
	data, err := encodeCheckpoint(&streamState{cursor: t0.Add(-200 * 24 * time.Hour)})
	require.NoError(t, err)
	h.put(lt, data)
	fake := newFakeDuo(t0, 10)
	const skew = 2 * time.Hour
	fake.setOffset(skew)
	require.NoError(t, h.runOnce(fake, &consumertest.LogsSink{}))

	asked := fake.windowsAsked()
	require.Len(t, asked, 1)
	duoNow := t0.Add(skew)
	assert.Equal(t, duoNow.Add(-retentionSafety), asked[0].Start)
	assert.Equal(t, duoNow.Add(-h.cfg.Delay), asked[0].End)
	assert.False(t, asked[0].Start.Before(duoNow.Add(-maxLookback)), "inside Duo's 180 days by Duo's clock")
}

// TestStorageUnreadable: while the stored cursor cannot be read (the storage extension
// fails, which is not the same as a missing or corrupt value), the receiver reads nothing
// from Duo and reports storage trouble; once the storage answers it resumes from the
// stored cursor instead of overwriting it with a fresh start.
func TestStorageUnreadable(t *testing.T) {
	lt := duoapi.Authentication
	store := &failingStorage{TestStorage: storagetest.NewFileBackedStorageExtension("flaky", t.TempDir())}
	h, logs := flakyHarness(t, store)

	fake := newFakeDuo(t0, 10)
	ids := fake.addSpread(lt, "ev", 6, t0.Add(-50*time.Minute), t0.Add(-10*time.Minute))
	require.NoError(t, h.runOnce(fake, &consumertest.LogsSink{}))
	stored := h.stored(lt)
	require.NotNil(t, stored)

	// New events; the second run starts with the storage unreadable.
	more := fake.addSpread(lt, "more", 3, t0.Add(-110*time.Second), t0.Add(-70*time.Second))
	fake.setNow(t0.Add(time.Minute))
	store.failGet.Store(true)
	asked := len(fake.windowsAsked())
	sink := &consumertest.LogsSink{}
	r := h.start(fake, sink)
	var first error
	select {
	case first = <-h.polls:
	case <-time.After(10 * time.Second):
		t.Fatal("no poll completed")
	}
	var sf *storageFailure
	require.ErrorAs(t, first, &sf)
	assert.Len(t, fake.windowsAsked(), asked, "nothing is read from Duo while the cursor is unknown")
	store.failGet.Store(false)
	require.Eventually(t, func() bool { return len(deliveredIDs(t, sink.AllLogs())) >= len(more) }, 10*time.Second, 10*time.Millisecond)
	require.NoError(t, r.Shutdown(context.Background()))

	assert.Equal(t, more, deliveredIDs(t, sink.AllLogs()), "resumed from the stored cursor: %v were delivered by the first run", ids)
	assert.Positive(t, logs.FilterMessage("failed to read the cursor from the storage extension; reading nothing from duo until it answers").Len())
	assert.Zero(t, logs.FilterMessage("no stored cursor; starting from initial_lookback").Len()-1, "only the first run starts fresh")
	events := h.host.statuses()
	require.NotEmpty(t, events)
	assert.ErrorContains(t, events[0].Err(), `storage extension "`+h.cfg.StorageID.String()+`"`)
	assert.Equal(t, componentstatus.StatusOK, events[len(events)-1].Status())
}
