// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoreceiver

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/duoapi"
)

type fakeLister struct{ accounts []duoapi.Account }

func (f fakeLister) ListAccounts(context.Context) ([]duoapi.Account, error) { return f.accounts, nil }

// One child failing every pull does not hold up another: the healthy child's events
// arrive while the status names the failing one.
func TestFailingChildDoesNotStallOthers(t *testing.T) {
	cfg := validConfig()
	cfg.Logs = LogsConfig{Authentication: LogTypeConfig{Enabled: true, PullInterval: 10 * time.Millisecond, Window: time.Minute}}
	cfg.Accounts = AccountsConfig{Discover: true, RefreshInterval: time.Hour}
	cfg.InitialLookback = time.Hour
	h := newHarness(t, cfg)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	good, bad := newFakeDuo(now, 10), newFakeDuo(now, 10)
	ids := good.addSpread(duoapi.Authentication, "g", 25, now.Add(-30*time.Minute), now.Add(-3*time.Minute))
	require.Len(t, ids, 25)
	bad.fail = func(int) error {
		return &duoapi.APIError{Status: 500, Message: "down", Path: duoapi.Path(duoapi.Authentication)}
	}

	sink := new(consumertest.LogsSink)
	r, err := newDuoLogsReceiver(h.set, cfg, sink)
	require.NoError(t, err)
	r.now = good.clock
	r.newChildren = func(context.Context, component.Host) (childClients, error) {
		return childClients{
			list: fakeLister{[]duoapi.Account{
				{ID: "DABAD", Name: "Broken", APIHostname: "api-bad.duosecurity.com"},
				{ID: "DAGOOD", Name: "Fine", APIHostname: "api-good.duosecurity.com"},
			}},
			client: func(ref accountRef) (duoAPI, error) {
				if ref.id == "DABAD" {
					return bad, nil
				}
				return good, nil
			},
			close: func() {},
		}, nil
	}
	require.NoError(t, r.Start(context.Background(), h.host))
	defer func() { require.NoError(t, r.Shutdown(context.Background())) }()

	require.Eventually(t, func() bool { return sink.LogRecordCount() == 25 }, 10*time.Second, 5*time.Millisecond,
		"the healthy child's events arrive: %d", sink.LogRecordCount())
	failing := func() bool {
		for _, ev := range h.host.statuses() {
			if ev.Status() == componentstatus.StatusRecoverableError {
				return true
			}
		}
		return false
	}
	require.Eventually(t, failing, 10*time.Second, time.Millisecond, "the failing child shows in the status")
	var named bool
	for _, ev := range h.host.statuses() {
		if ev.Status() == componentstatus.StatusRecoverableError {
			named = true
			assert.ErrorContains(t, ev.Err(), "child accounts failing: DABAD (Broken)")
			assert.NotContains(t, ev.Err().Error(), "DAGOOD")
			var apiErr *duoapi.APIError
			assert.True(t, errors.As(ev.Err(), &apiErr))
		}
	}
	assert.True(t, named, "the status names the failing child")
}

type renamingLister struct {
	mu   sync.Mutex
	name string
}

func (l *renamingLister) ListAccounts(context.Context) ([]duoapi.Account, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return []duoapi.Account{{ID: "DA1", Name: l.name, APIHostname: "api-1.duosecurity.com"}}, nil
}

func (l *renamingLister) rename(name string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.name = name
}

// A child renamed in the list is read on from its cursors under its new name, whether
// the cursors are in a storage extension or only in memory.
func TestChildRenamed(t *testing.T) {
	for _, tt := range []struct {
		name    string
		storage bool
	}{{"storage extension", true}, {"in memory", false}} {
		t.Run(tt.name, func(t *testing.T) { testChildRenamed(t, tt.storage) })
	}
}

func testChildRenamed(t *testing.T, withStorage bool) {
	cfg := validConfig()
	cfg.Logs = LogsConfig{Authentication: LogTypeConfig{Enabled: true, PullInterval: 5 * time.Millisecond, Window: time.Minute}}
	cfg.Accounts = AccountsConfig{Discover: true, RefreshInterval: 5 * time.Millisecond}
	cfg.InitialLookback = time.Hour
	h := newHarness(t, cfg)
	if !withStorage {
		cfg.StorageID = nil
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	fake := newFakeDuo(now, 10)
	fake.addSpread(duoapi.Authentication, "old", 5, now.Add(-30*time.Minute), now.Add(-20*time.Minute))
	lister := &renamingLister{name: "Old Name"}
	core, logs := observer.New(zapcore.InfoLevel)
	h.set.Logger = zap.New(core)
	sink := new(consumertest.LogsSink)
	r, err := newDuoLogsReceiver(h.set, cfg, sink)
	require.NoError(t, err)
	r.now = fake.clock
	r.newChildren = childrenOf(lister, fake)
	require.NoError(t, r.Start(context.Background(), h.host))
	defer func() { require.NoError(t, r.Shutdown(context.Background())) }()
	require.Eventually(t, func() bool { return sink.LogRecordCount() == 5 }, 10*time.Second, time.Millisecond)

	lister.rename("New Name")
	require.Eventually(t, func() bool { return logs.FilterMessageSnippet("was renamed").Len() == 1 }, 10*time.Second, time.Millisecond)
	fake.addSpread(duoapi.Authentication, "new", 3, now.Add(time.Minute), now.Add(5*time.Minute))
	fake.setNow(now.Add(10 * time.Minute))
	require.Eventually(t, func() bool { return sink.LogRecordCount() >= 8 }, 10*time.Second, time.Millisecond)
	time.Sleep(50 * time.Millisecond)
	names := map[string]int{}
	for _, ld := range sink.AllLogs() {
		for i := 0; i < ld.ResourceLogs().Len(); i++ {
			rl := ld.ResourceLogs().At(i)
			name, _ := rl.Resource().Attributes().Get("duo.account.name")
			names[name.Str()] += rl.ScopeLogs().At(0).LogRecords().Len()
		}
	}
	assert.Equal(t, map[string]int{"Old Name": 5, "New Name": 3}, names, "nothing read twice, the new events under the new name")
}

type countingLister struct {
	fakeLister
	calls atomic.Int32
}

func (l *countingLister) ListAccounts(ctx context.Context) ([]duoapi.Account, error) {
	l.calls.Add(1)
	return l.fakeLister.ListAccounts(ctx)
}

// A refusal may mean the child has left the parent: the list is read again at once, not
// at the next refresh an hour later.
func TestRefusalRereadsList(t *testing.T) {
	cfg := validConfig()
	cfg.Logs = LogsConfig{Telephony: LogTypeConfig{Enabled: true, PullInterval: time.Hour, Window: time.Minute}}
	cfg.Accounts = AccountsConfig{Discover: true, RefreshInterval: time.Hour}
	h := newHarness(t, cfg)
	fake := newFakeDuo(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), 10)
	fake.fail = func(int) error {
		return &duoapi.APIError{Status: 403, Code: 40301, Path: duoapi.Path(duoapi.Telephony)}
	}
	lister := &countingLister{fakeLister: fakeLister{[]duoapi.Account{{ID: "DA1", Name: "Gone", APIHostname: "api-1.duosecurity.com"}}}}
	r, err := newDuoLogsReceiver(h.set, cfg, consumertest.NewNop())
	require.NoError(t, err)
	r.now = fake.clock
	r.newChildren = childrenOf(lister, fake)
	require.NoError(t, r.Start(context.Background(), h.host))
	defer func() { require.NoError(t, r.Shutdown(context.Background())) }()
	require.Eventually(t, func() bool { return lister.calls.Load() >= 2 }, 10*time.Second, time.Millisecond)
}

// A child's cursor is the same whichever way the child is named, so that moving from
// account_id to accounts.ids or accounts.discover resumes instead of starting over from
// initial_lookback (which, after a pause, would skip what the pause left unread).
func TestChildCursorSurvivesDiscover(t *testing.T) {
	cfg := validConfig()
	cfg.Logs = LogsConfig{Authentication: LogTypeConfig{Enabled: true, PullInterval: 5 * time.Millisecond, Window: time.Minute}}
	cfg.InitialLookback = time.Hour
	h := newHarness(t, cfg)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	cfg.AccountID = "DA1"
	h.put(duoapi.Authentication, []byte(`{"version":1,"cursor":"`+now.Add(-15*time.Minute).Format(time.RFC3339Nano)+`"}`))
	cfg.AccountID = ""
	cfg.Accounts = AccountsConfig{Discover: true, RefreshInterval: time.Hour}

	fake := newFakeDuo(now, 10)
	fake.addSpread(duoapi.Authentication, "before", 5, now.Add(-30*time.Minute), now.Add(-20*time.Minute))
	fake.addSpread(duoapi.Authentication, "after", 3, now.Add(-10*time.Minute), now.Add(-5*time.Minute))
	sink := new(consumertest.LogsSink)
	r, err := newDuoLogsReceiver(h.set, cfg, sink)
	require.NoError(t, err)
	r.now = fake.clock
	r.newChildren = func(context.Context, component.Host) (childClients, error) {
		return childClients{
			list:   fakeLister{[]duoapi.Account{{ID: "DA1", Name: "One", APIHostname: "api-child1.duosecurity.com"}}},
			client: func(accountRef) (duoAPI, error) { return fake, nil },
			close:  func() {},
		}, nil
	}
	require.NoError(t, r.Start(context.Background(), h.host))
	defer func() { require.NoError(t, r.Shutdown(context.Background())) }()
	require.Eventually(t, func() bool { return sink.LogRecordCount() >= 3 }, 10*time.Second, time.Millisecond)
	time.Sleep(50 * time.Millisecond)
	assert.Equal(t, 3, sink.LogRecordCount(), "only the events after the stored cursor")
}

// childrenOf serves the child list from lister and every child from one fake.
func childrenOf(lister accountLister, fake duoAPI) childFactory {
	return func(context.Context, component.Host) (childClients, error) {
		return childClients{list: lister, client: func(accountRef) (duoAPI, error) { return fake, nil }, close: func() {}}, nil
	}
}

type failingLister struct{ err error }

func (f failingLister) ListAccounts(context.Context) ([]duoapi.Account, error) { return nil, f.err }

// With accounts.ids, keys that may not list the children (an Admin API application's,
// which Duo answers 403 40301, "Wrong integration type") are a configuration error: the
// status says so and names the fix, instead of each child's log types looking refused.
// A list that fails otherwise (a 5xx) only warns: the ids are read through the parent's
// host.
func TestAccountsIDsListRefused(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		degraded bool
	}{
		{"wrong integration type", &duoapi.APIError{Status: 403, Code: 40301, Message: "Access forbidden",
			Detail: "Wrong integration type for this API.", Path: "/accounts/v1/account/list"}, true},
		{"rejected signature", &duoapi.APIError{Status: 401, Code: 40103, Message: "Invalid signature in request credentials",
			Path: "/accounts/v1/account/list"}, true},
		{"server error", &duoapi.APIError{Status: 503, Message: "Service Unavailable", Path: "/accounts/v1/account/list"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := validConfig()
			cfg.Logs = LogsConfig{Authentication: LogTypeConfig{Enabled: true, PullInterval: time.Hour, Window: time.Minute}}
			cfg.Accounts = AccountsConfig{IDs: []string{"DA1"}, RefreshInterval: time.Hour}
			h := newHarness(t, cfg)
			core, logs := observer.New(zapcore.InfoLevel)
			h.set.Logger = zap.New(core)
			now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
			child := newFakeDuo(now, 10)
			r, err := newDuoLogsReceiver(h.set, cfg, new(consumertest.LogsSink))
			require.NoError(t, err)
			r.now = child.clock
			r.newChildren = func(context.Context, component.Host) (childClients, error) {
				return childClients{
					list:   failingLister{tt.err},
					client: func(accountRef) (duoAPI, error) { return child, nil },
					close:  func() {},
				}, nil
			}
			require.NoError(t, r.Start(context.Background(), h.host))
			defer func() { require.NoError(t, r.Shutdown(context.Background())) }()
			listErr := func() error {
				for _, ev := range h.host.statuses() {
					if ev.Status() == componentstatus.StatusRecoverableError && strings.Contains(ev.Err().Error(), "Accounts API") {
						return ev.Err()
					}
				}
				return nil
			}
			if !tt.degraded {
				require.Eventually(t, func() bool { return logs.FilterMessageSnippet("list the child accounts").Len() > 0 },
					5*time.Second, time.Millisecond)
				assert.NoError(t, listErr(), "a failing list only warns")
				assert.Equal(t, 1, logs.FilterLevelExact(zapcore.WarnLevel).FilterMessageSnippet("list the child accounts").Len())
				return
			}
			// The status is set just after the error is logged: wait for the status itself.
			require.Eventually(t, func() bool { return listErr() != nil }, 5*time.Second, time.Millisecond,
				"the status names the misconfiguration")
			assert.ErrorContains(t, listErr(), "Accounts API application")
			assert.ErrorContains(t, listErr(), "integration_key")
			assert.ErrorIs(t, listErr(), tt.err)
			assert.Equal(t, 1, logs.FilterLevelExact(zapcore.ErrorLevel).FilterMessageSnippet("list the child accounts").Len())
		})
	}
}
