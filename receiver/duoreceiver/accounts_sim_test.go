// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoreceiver

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/storagetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-duo/otelcol-duo/internal/duosim"
	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/duoapi"
	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/metadata"
)

// accountSink keeps, per child account and log type, the canonical JSON of every
// delivered record, and checks each resource names its child.
type accountSink struct {
	mu    sync.Mutex
	got   map[string]map[string]map[string]int // account id -> log type -> body -> count
	hosts map[string]string                    // account id -> duo.api.hostname
	names map[string]string                    // account id -> duo.account.name
}

func newAccountSink() *accountSink {
	return &accountSink{got: map[string]map[string]map[string]int{}, hosts: map[string]string{}, names: map[string]string{}}
}

func (s *accountSink) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

func (s *accountSink) ConsumeLogs(_ context.Context, ld plog.Logs) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := 0; i < ld.ResourceLogs().Len(); i++ {
		rl := ld.ResourceLogs().At(i)
		attrs := rl.Resource().Attributes()
		id, _ := attrs.Get("duo.account.id")
		host, _ := attrs.Get("duo.api.hostname")
		name, _ := attrs.Get("duo.account.name")
		acct := id.Str()
		s.hosts[acct], s.names[acct] = host.Str(), name.Str()
		for j := 0; j < rl.ScopeLogs().Len(); j++ {
			lrs := rl.ScopeLogs().At(j).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				lr := lrs.At(k)
				lt := strings.TrimPrefix(lr.EventName(), "duo.")
				raw, err := json.Marshal(lr.Body().Map().AsRaw())
				if err != nil {
					return err
				}
				if s.got[acct] == nil {
					s.got[acct] = map[string]map[string]int{}
				}
				if s.got[acct][lt] == nil {
					s.got[acct][lt] = map[string]int{}
				}
				s.got[acct][lt][canonicalJSON(raw)]++
			}
		}
	}
	return nil
}

func (s *accountSink) count(acct, lt string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.got[acct][lt] {
		n += c
	}
	return n
}

func (s *accountSink) accounts() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for a := range s.got {
		out = append(out, a)
	}
	slices.Sort(out)
	return out
}

// pollerGoroutines counts the goroutines running a poller.
func pollerGoroutines() int {
	buf := make([]byte, 1<<22)
	buf = buf[:runtime.Stack(buf, true)]
	return strings.Count(string(buf), "duoreceiver.(*poller).run(")
}

const childEvents = 40 // per child and log type

// TestSimAccounts: 20 children, 2 excluded (one by id, one by a glob on its name), one
// refusing telephony, one added and one removed while the receiver runs. Every event of
// every child read arrives exactly once, with its child's resource; nothing of the
// excluded ones; the refusing child's other log types arrive, with one warning; the
// added child's backlog arrives; the removed child's pollers end, and added back it
// resumes from its cursors.
func TestSimAccounts(t *testing.T) {
	if testing.Short() {
		t.Skip("simulator run")
	}
	now := time.Now()
	kids := duosim.ChildAccounts(42, 0, 20)
	refusing, excludedByID, excludedByName, removed := kids[3], kids[5], kids[6], kids[7]
	kids[3].Refuse = map[string]int{"telephony": 40401}
	added := duosim.ChildAccounts(42, 20, 1)[0]

	sim := duosim.New(duosim.Config{Seed: 42, Delay: time.Second, Children: kids, StrictChildHost: true})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	for _, k := range append(slices.Clone(kids), added) {
		acct := sim.Account(k.AccountID)
		if acct == nil { // added is not listed yet: make its account by listing it briefly
			require.NoError(t, sim.AddChild(added))
			require.True(t, sim.RemoveChild(added.AccountID))
			acct = sim.Account(k.AccountID)
		}
		for _, lt := range duosim.LogTypes() {
			acct.Backfill(lt, childEvents, now.Add(-2*time.Hour), now.Add(-10*time.Second))
		}
	}

	cfg := parentConfig(srv.URL)
	cfg.Delay = time.Second
	cfg.InitialLookback = 3 * time.Hour
	cfg.RateLimit = 0
	cfg.BackOffConfig.InitialInterval = 50 * time.Millisecond
	cfg.BackOffConfig.MaxInterval = 500 * time.Millisecond
	for _, lt := range duoapi.LogTypes {
		*cfg.Logs.byType(lt) = LogTypeConfig{Enabled: true, PullInterval: 200 * time.Millisecond, Window: 6 * time.Second}
	}
	cfg.Accounts = AccountsConfig{
		Discover:        true,
		RefreshInterval: 200 * time.Millisecond,
		Exclude:         []string{excludedByID.AccountID, excludedByName.Name[:len("Customer 006")] + " *"},
	}
	cfg.StorageID = ptr(storagetest.NewStorageID("state"))
	require.NoError(t, cfg.Validate())

	core, logs := observer.New(zapcore.InfoLevel)
	set := receivertest.NewNopSettings(metadata.Type)
	set.Logger = zap.New(core)
	host := storagetest.NewStorageHost().WithFileBackedStorageExtension("state", t.TempDir())
	sink := newAccountSink()
	r, err := newDuoLogsReceiver(set, cfg, sink)
	require.NoError(t, err)
	var setMu sync.Mutex
	var reading []string
	r.onAccounts = func(ids []string) {
		setMu.Lock()
		defer setMu.Unlock()
		reading = slices.Sorted(slices.Values(ids))
	}
	readingNow := func() []string {
		setMu.Lock()
		defer setMu.Unlock()
		return reading
	}
	require.NoError(t, r.Start(context.Background(), host))
	t.Cleanup(func() { _ = r.Shutdown(context.Background()) })

	// want is what each child must have delivered, per log type.
	want := func(k duosim.ChildAccount, lt string) int {
		if k.AccountID == refusing.AccountID && lt == "telephony" {
			return 0
		}
		return len(sim.Account(k.AccountID).Events(lt))
	}
	waitChild := func(k duosim.ChildAccount) {
		t.Helper()
		for _, lt := range duosim.LogTypes() {
			require.Eventually(t, func() bool { return sink.count(k.AccountID, lt) >= want(k, lt) }, 60*time.Second, 20*time.Millisecond,
				"child %s %s: %d of %d events", k.AccountID, lt, sink.count(k.AccountID, lt), want(k, lt))
		}
	}
	var included []duosim.ChildAccount
	for _, k := range kids {
		if k.AccountID != excludedByID.AccountID && k.AccountID != excludedByName.AccountID {
			included = append(included, k)
		}
	}
	require.Len(t, included, 18)
	for _, k := range included {
		waitChild(k)
	}
	require.Eventually(t, func() bool { return pollerGoroutines() == 18*len(duoapi.LogTypes) }, 5*time.Second, 10*time.Millisecond,
		"one poller per included child and log type, found %d", pollerGoroutines())

	// Mid-run: one child added with a backlog, one removed.
	require.NoError(t, sim.AddChild(added))
	require.True(t, sim.RemoveChild(removed.AccountID))
	require.Eventually(t, func() bool {
		ids := readingNow()
		return slices.Contains(ids, added.AccountID) && !slices.Contains(ids, removed.AccountID)
	}, 10*time.Second, 10*time.Millisecond, "the set follows the list")
	// The removed child's runner is stopped (and waited for) before the set changes, so
	// its pollers are gone; the added child's are starting.
	require.Eventually(t, func() bool { return pollerGoroutines() == 18*len(duoapi.LogTypes) }, 5*time.Second, 10*time.Millisecond,
		"the removed child's pollers ended, the added child's started: found %d", pollerGoroutines())
	waitChild(added)

	// The removed child, given new events while off the list and added back, resumes from
	// its stored cursors: the new events arrive, the old ones not again.
	for _, lt := range duosim.LogTypes() {
		sim.Account(removed.AccountID).Backfill(lt, 5, time.Now().Add(-4*time.Second), time.Now().Add(-2*time.Second))
	}
	require.NoError(t, sim.AddChild(removed))
	waitChild(removed)
	included = append(included, added)
	time.Sleep(time.Second) // more pulls: they must bring no duplicate

	got := sink.accounts()
	for _, k := range included {
		assert.Contains(t, got, k.AccountID)
		for _, lt := range duosim.LogTypes() {
			var expect map[string]int
			if want(k, lt) > 0 {
				expect = map[string]int{}
				for _, ev := range sim.Account(k.AccountID).Events(lt) {
					expect[canonicalJSON(ev.Raw)]++
				}
			}
			sink.mu.Lock()
			assert.Equal(t, expect, sink.got[k.AccountID][lt], "child %s %s: every event exactly once", k.AccountID, lt)
			sink.mu.Unlock()
		}
		sink.mu.Lock()
		assert.Equal(t, k.APIHostname, sink.hosts[k.AccountID], "resource duo.api.hostname is the child's")
		assert.Equal(t, k.Name, sink.names[k.AccountID], "resource duo.account.name")
		sink.mu.Unlock()
	}
	assert.NotContains(t, got, excludedByID.AccountID)
	assert.NotContains(t, got, excludedByName.AccountID)
	assert.NotContains(t, got, "", "nothing from the parent")

	// (The removed child may have been asked between leaving the list and the next read of
	// it, and refused: those warnings are its own.)
	warnings := logs.FilterMessageSnippet("does not serve this log type").FilterField(zap.String("account_id", refusing.AccountID)).All()
	require.Len(t, warnings, 1, "one warning for the refused log type")
	assert.Equal(t, "telephony", warnings[0].ContextMap()["log_type"])
	for _, w := range logs.FilterMessageSnippet("does not serve this log type").All() {
		assert.Contains(t, []any{refusing.AccountID, removed.AccountID}, w.ContextMap()["account_id"])
	}

	require.NoError(t, r.Shutdown(context.Background()))
	assert.Zero(t, pollerGoroutines())
}

// parentConfig reads an MSP parent served by the simulator at url, with the simulator's
// Accounts API keys; the caller adds the accounts settings.
func parentConfig(url string) *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.Endpoint = url
	cfg.APIHostname = duosim.DefaultHost
	cfg.IntegrationKey = duosim.DefaultAccountsIntegrationKey
	cfg.SecretKey = duosim.DefaultAccountsSecretKey
	return cfg
}

// TestSimAccountsIDsUseChildHost: a fixed list of ids is read through each child's own
// api_hostname, the route Duo documents, learned from the parent's list once. The
// simulator here refuses a child's request sent to the parent's host.
func TestSimAccountsIDsUseChildHost(t *testing.T) {
	if testing.Short() {
		t.Skip("simulator run")
	}
	now := time.Now()
	kids := duosim.ChildAccounts(21, 0, 3)
	sim := duosim.New(duosim.Config{Seed: 21, Delay: time.Second, Children: kids, StrictChildHost: true})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	for _, k := range kids {
		sim.Account(k.AccountID).Backfill("authentication", childEvents, now.Add(-time.Hour), now.Add(-10*time.Second))
	}
	cfg := parentConfig(srv.URL)
	cfg.Delay = time.Second
	cfg.InitialLookback = 2 * time.Hour
	cfg.RateLimit = 0
	cfg.Logs = LogsConfig{Authentication: LogTypeConfig{Enabled: true, PullInterval: 200 * time.Millisecond, Window: 6 * time.Second}}
	cfg.Accounts = AccountsConfig{IDs: []string{kids[0].AccountID, kids[2].AccountID}, RefreshInterval: time.Hour}
	require.NoError(t, cfg.Validate())

	sink := newAccountSink()
	r, err := newDuoLogsReceiver(receivertest.NewNopSettings(metadata.Type), cfg, sink)
	require.NoError(t, err)
	require.NoError(t, r.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, r.Shutdown(context.Background())) })
	for _, k := range []duosim.ChildAccount{kids[0], kids[2]} {
		want := len(sim.Account(k.AccountID).Events("authentication"))
		require.Eventually(t, func() bool { return sink.count(k.AccountID, "authentication") == want }, 15*time.Second, 20*time.Millisecond,
			"child %s: %d of %d events", k.AccountID, sink.count(k.AccountID, "authentication"), want)
		sink.mu.Lock()
		host := sink.hosts[k.AccountID]
		sink.mu.Unlock()
		assert.Equal(t, k.APIHostname, host, "child %s: read through its own host", k.AccountID)
	}
	assert.Zero(t, sink.count(kids[1].AccountID, "authentication"), "a child not in ids is not read")
}
