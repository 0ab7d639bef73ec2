// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoreceiver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receiverhelper"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-duo/otelcol-duo/internal/duosim"
	"github.com/otelcol-duo/otelcol-duo/internal/otlptest"
	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/duoapi"
	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/mapping"
	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/metadata"
	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/metadatatest"
)

// invRig is a simulator with an inventory and a receiver configuration that reads only
// the inventory (every log type off), built through the factory as the collector does.
type invRig struct {
	sim      *duosim.Sim
	cfg      *Config
	set      receiver.Settings
	logs     *observer.ObservedLogs
	logSink  *consumertest.LogsSink
	metSink  *consumertest.MetricsSink
	mu       sync.Mutex
	outcomes []string
	errs     []error
}

func newInvRig(t *testing.T, pop duosim.Population, faults duosim.InventoryFaults) *invRig {
	t.Helper()
	sim := duosim.New(duosim.Config{Seed: 7, Population: &pop, InventoryFaults: faults})
	cfg, _ := simConfig(t, sim)
	cfg.BackOffConfig.InitialInterval = 5 * time.Millisecond
	cfg.BackOffConfig.MaxInterval = 20 * time.Millisecond
	cfg.BackOffConfig.MaxElapsedTime = 300 * time.Millisecond
	for _, lt := range duoapi.LogTypes {
		cfg.Logs.byType(lt).Enabled = false
	}
	cfg.Inventory.Resources.Admins.Enabled = true
	cfg.Inventory.Resources.Integrations.Enabled = true
	cfg.Inventory.Resources.Settings.Enabled = true
	core, logs := observer.New(zapcore.DebugLevel)
	set := receivertest.NewNopSettings(metadata.Type)
	set.Logger = zap.New(core)
	return &invRig{sim: sim, cfg: cfg, set: set, logs: logs,
		logSink: new(consumertest.LogsSink), metSink: new(consumertest.MetricsSink)}
}

// start creates the receiver in a metrics pipeline and, when withLogs, a logs pipeline.
func (rig *invRig) start(t *testing.T, withLogs, withMetrics bool) {
	t.Helper()
	f := NewFactory()
	var first *sharedReceiver
	if withMetrics {
		m, err := f.CreateMetrics(t.Context(), rig.set, rig.cfg, rig.metSink)
		require.NoError(t, err)
		first = m.(*sharedReceiver)
	}
	if withLogs {
		l, err := f.CreateLogs(t.Context(), rig.set, rig.cfg, rig.logSink)
		require.NoError(t, err)
		if first != nil {
			require.Same(t, first, l.(*sharedReceiver), "one receiver for both signals")
		}
		first = l.(*sharedReceiver)
	}
	first.r.onSnapshot = func(outcome string, err error) {
		rig.mu.Lock()
		defer rig.mu.Unlock()
		rig.outcomes = append(rig.outcomes, outcome)
		rig.errs = append(rig.errs, err)
	}
	host := componenttest.NewNopHost()
	require.NoError(t, first.Start(context.Background(), host))
	require.NoError(t, first.Start(context.Background(), host), "a second Start is a no-op")
	t.Cleanup(func() { require.NoError(t, first.Shutdown(context.Background())) })
}

func (rig *invRig) waitSnapshots(t *testing.T, n int) []string {
	t.Helper()
	require.Eventually(t, func() bool {
		rig.mu.Lock()
		defer rig.mu.Unlock()
		return len(rig.outcomes) >= n
	}, 60*time.Second, 10*time.Millisecond)
	rig.mu.Lock()
	defer rig.mu.Unlock()
	return append([]string(nil), rig.outcomes...)
}

// gauges flattens the metrics into "name attr=value ..." -> value, the last snapshot
// winning.
func gauges(mds []pmetric.Metrics) map[string]int64 {
	out := map[string]int64{}
	for _, md := range mds {
		for name, dp := range otlptest.Gauges(md) {
			out[otlptest.PointKey(name, dp)] = dp.IntValue()
		}
	}
	return out
}

// wantGauges is what the simulator's true counts say the gauges must be.
func wantGauges(c duosim.InventoryCounts) map[string]int64 {
	out := map[string]int64{}
	for k, n := range c.Users {
		out[fmt.Sprintf("duo.users duo.user.enrolled=%v duo.user.status=%s", k.Enrolled, mapping.UserStatus(k.Status))] = int64(n)
	}
	for s, n := range c.InactiveUsers {
		out["duo.users.inactive duo.user.status="+mapping.UserStatus(s)] = int64(n)
	}
	out["duo.bypass_codes"] = int64(c.ActiveBypassCodes)
	for k, n := range c.Phones {
		out[fmt.Sprintf("duo.phones duo.phone.activated=%v duo.phone.platform=%s", k.Activated, k.Platform)] += int64(n)
	}
	for s, n := range c.Groups {
		out["duo.groups duo.group.status="+strings.ToLower(s)] = int64(n)
	}
	out["duo.telephony.credits.remaining"] = int64(c.TelephonyCredits)
	for ty, n := range c.Tokens {
		out["duo.tokens duo.token.type="+ty] = int64(n)
	}
	out["duo.webauthn_credentials"] = int64(c.WebAuthnCredentials)
	for k, n := range c.Endpoints {
		out[fmt.Sprintf("duo.endpoints duo.endpoint.os_family=%s duo.endpoint.trusted=%s", k.OSFamily, k.Trusted)] = int64(n)
	}
	for r, n := range c.Admins {
		out["duo.admins duo.admin.role="+r] = int64(n)
	}
	for ty, n := range c.Integrations {
		out["duo.integrations duo.integration.type="+ty] = int64(n)
	}
	out["duo.policies"] = int64(c.Policies)
	return out
}

// entityRecords returns every entity record by EventName.
func entityRecords(lds []plog.Logs) map[string][]plog.LogRecord {
	out := map[string][]plog.LogRecord{}
	for _, ld := range lds {
		for lr := range otlptest.LogRecords(ld) {
			out[lr.EventName()] = append(out[lr.EventName()], lr)
		}
	}
	return out
}

func attrStr(lr plog.LogRecord, key string) string {
	v, _ := lr.Attributes().Get(key)
	return v.AsString()
}

func testPopulation(users int) duosim.Population {
	pop := duosim.DefaultPopulation()
	pop.Users = users
	pop.ShareBypassCodes = 0.3
	pop.Groups, pop.Endpoints, pop.Admins, pop.Integrations, pop.Policies = 130, 120, 7, 9, 4
	return pop
}

func TestInventorySnapshotMatchesSimulator(t *testing.T) {
	rig := newInvRig(t, testPopulation(1300), duosim.InventoryFaults{MaxPage: 250})
	rig.cfg.Inventory.EntityLogs = true
	rig.start(t, true, true)
	outcomes := rig.waitSnapshots(t, 1)
	require.Equal(t, snapshotComplete, outcomes[0], "%v", rig.errs)
	counts := rig.sim.InventoryCounts(rig.cfg.Inventory.InactiveAfter, time.Now())

	assert.Equal(t, wantGauges(counts), gauges(rig.metSink.AllMetrics()), "metric values equal the simulator's counts")
	md := rig.metSink.AllMetrics()[0]
	host, _ := md.ResourceMetrics().At(0).Resource().Attributes().Get("duo.api.hostname")
	assert.Equal(t, duosim.DefaultHost, host.Str(), "the logs' resource attributes")

	recs := entityRecords(rig.logSink.AllLogs())
	users := map[string]int{}
	snapIDs := map[string]bool{}
	uids := map[string]bool{}
	for _, lr := range recs["duo.user"] {
		users[attrStr(lr, "user.id")]++
	}
	for _, rs := range recs {
		for _, lr := range rs {
			snapIDs[attrStr(lr, mapping.AttrSnapshotID)] = true
			uid := attrStr(lr, "log.record.uid")
			assert.False(t, uids[uid], "log.record.uid %s twice", uid)
			uids[uid] = true
		}
	}
	assert.Len(t, users, counts.UsersTotal)
	for id, n := range users {
		assert.Equal(t, 1, n, "user %s", id)
	}
	assert.Len(t, snapIDs, 1, "one snapshot id for the whole snapshot")
	assert.Len(t, recs["duo.bypass_code"], counts.BypassCodes)
	assert.Len(t, recs["duo.integration"], sumCounts(counts.Integrations))
	assert.Len(t, recs["duo.summary"], 1)
	assert.Len(t, recs["duo.settings"], 1)

	// No integration secret and no bypass code anywhere in the output.
	for _, ld := range rig.logSink.AllLogs() {
		out, err := (&plog.JSONMarshaler{}).MarshalLogs(ld)
		require.NoError(t, err)
		assert.NotContains(t, string(out), duosim.IntegrationSecretPrefix)
		assert.NotContains(t, string(out), "secret_key")
		assert.NotContains(t, string(out), `"codes"`)
	}
	for _, e := range rig.logs.All() {
		assert.NotContains(t, fmt.Sprint(e.Context), duosim.IntegrationSecretPrefix)
	}

	// Requests: GET only, limits as the table says.
	stats := rig.sim.Stats()
	for _, r := range []string{"users", "bypass_codes", "groups"} {
		assert.NotZero(t, stats.Requests[duosim.ResourcePath(r)][200], r)
	}
}

func sumCounts(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func TestInventoryForbiddenResourceIsSkipped(t *testing.T) {
	rig := newInvRig(t, testPopulation(200), duosim.InventoryFaults{Forbidden: []string{"users", "settings"}})
	rig.cfg.Inventory.Interval = 50 * time.Millisecond
	rig.start(t, false, true)
	outcomes := rig.waitSnapshots(t, 3)
	assert.Equal(t, []string{snapshotPartial, snapshotPartial, snapshotPartial}, outcomes[:3])
	got := gauges(rig.metSink.AllMetrics())
	counts := rig.sim.InventoryCounts(rig.cfg.Inventory.InactiveAfter, time.Now())
	for k := range got {
		assert.False(t, strings.HasPrefix(k, "duo.users") || strings.HasPrefix(k, "duo.phones"), "no gauge of a refused resource: %s", k)
	}
	assert.Equal(t, int64(counts.ActiveBypassCodes), got["duo.bypass_codes"], "the others flow")
	assert.Equal(t, int64(counts.Policies), got["duo.policies"])
	warnings := rig.logs.FilterMessageSnippet("duo refused an inventory resource").All()
	require.Len(t, warnings, 2, "one warning per refused resource, not one per snapshot")
	perms := map[string]string{}
	for _, w := range warnings {
		perms[w.ContextMap()["resource"].(string)] = w.ContextMap()["permission"].(string)
	}
	assert.Equal(t, map[string]string{"users": "Grant read resource", "settings": "Grant settings"}, perms)

	// Granted later: read at the next interval.
	rig.sim.SetInventoryFaults(duosim.InventoryFaults{})
	n := len(outcomes)
	outcomes = rig.waitSnapshots(t, n+2)
	assert.Equal(t, snapshotComplete, outcomes[len(outcomes)-1])
	assert.Contains(t, gauges(rig.metSink.AllMetrics()), "duo.webauthn_credentials")
}

func TestInventoryPageFailureYieldsNoMetrics(t *testing.T) {
	// The second page of users (offset 300) fails every time.
	rig := newInvRig(t, testPopulation(900), duosim.InventoryFaults{
		FailPages: []duosim.PageFault{{Resource: "users", Offset: 300, Status: 503}},
	})
	rig.cfg.Inventory.EntityLogs = true
	rig.start(t, true, true)
	outcomes := rig.waitSnapshots(t, 1)
	assert.Equal(t, snapshotFailed, outcomes[0])
	assert.Empty(t, rig.metSink.AllMetrics(), "no metrics from a partial snapshot")
	assert.Len(t, entityRecords(rig.logSink.AllLogs())["duo.user"], 300, "entity logs already sent stay sent")
	assert.Len(t, rig.logs.FilterMessageSnippet("inventory snapshot abandoned").All(), 1)
}

func TestInventoryNotReadForLogsOnly(t *testing.T) {
	rig := newInvRig(t, testPopulation(50), duosim.InventoryFaults{})
	rig.cfg.Logs.Authentication.Enabled = true
	rig.cfg.Logs.Authentication.PullInterval = time.Hour
	rig.cfg.Logs.Authentication.Window = time.Hour
	rig.start(t, true, false)
	// The authentication pull shows the receiver is running; no inventory request comes.
	require.Eventually(t, func() bool {
		return rig.sim.Stats().Requests["/admin/v2/logs/authentication"][200] > 0
	}, 30*time.Second, 10*time.Millisecond)
	stats := rig.sim.Stats()
	for _, r := range duosim.Resources() {
		if r == "summary" {
			continue // the start-up check reads it
		}
		assert.Zero(t, stats.Requests[duosim.ResourcePath(r)], r)
	}
	assert.Empty(t, rig.outcomes)
}

func TestInventoryObjectsWithoutIDAreLeftOut(t *testing.T) {
	api := &fakeInventory{pages: map[duoapi.Resource][][]duoapi.Record{
		duoapi.Users: {{
			{ID: "DU1", Raw: `{"user_id":"DU1","status":"active","is_enrolled":true}`},
			{ID: "", Raw: `{"status":"active","is_enrolled":true}`},
			{ID: "DU3", Raw: `{"user_id":"DU3","status":"active","is_enrolled":"maybe"}`},
		}},
	}}
	s, logSink, metSink, logs := newTestSnapshotter(t, api)
	s.cfg.Resources = InventoryResources{Users: ResourceConfig{Enabled: true}}
	outcome, err := s.snapshot(t.Context())
	require.NoError(t, err)
	assert.Equal(t, snapshotComplete, outcome)
	assert.Equal(t, 1, logSink.LogRecordCount())
	assert.Equal(t, map[string]int64{"duo.users duo.user.enrolled=true duo.user.status=active": 1,
		"duo.users.inactive duo.user.status=active": 1, "duo.webauthn_credentials": 0},
		gauges(metSink.AllMetrics()))
	require.Len(t, logs.FilterMessageSnippet("inventory objects left out").All(), 1)
	assert.Equal(t, int64(2), logs.FilterMessageSnippet("inventory objects left out").All()[0].ContextMap()["count"])
}

// fakeInventory serves fixed pages; a resource without pages answers an empty list, or
// err when set.
type fakeInventory struct {
	pages map[duoapi.Resource][][]duoapi.Record
	err   map[duoapi.Resource]error
}

func (f *fakeInventory) List(_ context.Context, r duoapi.Resource, fn func(duoapi.Page) error) error {
	if err := f.err[r]; err != nil {
		return err
	}
	ps := f.pages[r]
	if len(ps) == 0 {
		return fn(duoapi.Page{})
	}
	for i, p := range ps {
		page := duoapi.Page{Records: p}
		if i < len(ps)-1 {
			page.Next = &duoapi.Position{Offset: strconv.Itoa(i + 1)}
		}
		if err := fn(page); err != nil {
			return err
		}
	}
	return nil
}

func (f *fakeInventory) Get(_ context.Context, r duoapi.Resource) (string, error) {
	if err := f.err[r]; err != nil {
		return "", err
	}
	return `{}`, nil
}

func newTestSnapshotter(t *testing.T, api inventoryAPI) (*snapshotter, *consumertest.LogsSink, *consumertest.MetricsSink, *observer.ObservedLogs) {
	t.Helper()
	set := receivertest.NewNopSettings(metadata.Type)
	core, logs := observer.New(zapcore.DebugLevel)
	tel, err := newReceiverTelemetry(set.TelemetrySettings)
	require.NoError(t, err)
	t.Cleanup(tel.shutdown)
	obs, err := receiverhelper.NewObsReport(receiverhelper.ObsReportSettings{ReceiverID: set.ID, Transport: "http", ReceiverCreateSettings: set})
	require.NoError(t, err)
	logSink, metSink := new(consumertest.LogsSink), new(consumertest.MetricsSink)
	return &snapshotter{
		api: api, cfg: defaultInventory(), logs: logSink, metrics: metSink,
		mb:      metadata.NewMetricsBuilder(metadata.NewDefaultMetricsBuilderConfig(), set),
		obsrecv: obs, tel: tel, health: newHealth(componenttest.NewNopHost()),
		resource: mapping.Resource{APIHost: "api-x.duosecurity.com"}, logger: zap.New(core),
		now: time.Now, refused: map[duoapi.Resource]bool{},
	}, logSink, metSink, logs
}

// TestInventoryDoesNotStallLogs: while a snapshot is stuck retrying a failing users page,
// the log poller delivers its backfill.
func TestInventoryDoesNotStallLogs(t *testing.T) {
	rig := newInvRig(t, testPopulation(900), duosim.InventoryFaults{
		FailPages: []duosim.PageFault{{Resource: "users", Offset: 0, Status: 503}},
	})
	rig.cfg.BackOffConfig.MaxElapsedTime = 20 * time.Second
	rig.cfg.BackOffConfig.MaxInterval = 200 * time.Millisecond
	rig.cfg.Delay = time.Second
	rig.cfg.InitialLookback = 2 * time.Hour
	rig.cfg.RateLimit = 0
	rig.cfg.Logs.Authentication = LogTypeConfig{Enabled: true, PullInterval: 100 * time.Millisecond, Window: time.Hour}
	now := time.Now()
	rig.sim.Backfill("authentication", 1500, now.Add(-time.Hour), now.Add(-time.Minute))
	rig.start(t, true, true)
	// More than a page of 1000: several pulls delivered while the snapshot retried.
	require.Eventually(t, func() bool {
		return len(entityRecords(rig.logSink.AllLogs())["duo.authentication"]) > 1000
	}, 15*time.Second, 10*time.Millisecond, "the log backfill arrives while the snapshot retries")
	rig.mu.Lock()
	defer rig.mu.Unlock()
	assert.Empty(t, rig.outcomes, "the snapshot is still retrying its first page")
	assert.Positive(t, rig.sim.Stats().Requests[duosim.ResourcePath("users")][503])
}

// TestLogsDoNotStallInventory is the reverse of TestInventoryDoesNotStallLogs: while the
// authentication log endpoint hangs (the request never answered), snapshots go on
// completing at every interval.
func TestLogsDoNotStallInventory(t *testing.T) {
	rig := newInvRig(t, testPopulation(300), duosim.InventoryFaults{})
	var hung atomic.Int64
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/admin/v2/logs/authentication" {
			hung.Add(1)
			select {
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		rig.sim.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	rig.cfg.Endpoint = srv.URL
	rig.cfg.Timeout = time.Hour
	rig.cfg.Inventory.Interval = 50 * time.Millisecond
	rig.cfg.Logs.Authentication = LogTypeConfig{Enabled: true, PullInterval: 100 * time.Millisecond, Window: time.Hour}
	rig.start(t, true, true)
	outcomes := rig.waitSnapshots(t, 3)
	assert.Equal(t, []string{"complete", "complete", "complete"}, outcomes[:3])
	assert.Equal(t, int64(1), hung.Load(), "one authentication request, still unanswered")
	assert.NotEmpty(t, rig.metSink.AllMetrics())
}

// TestInventoryTelemetry: snapshots are counted by outcome, left-out objects by resource.
func TestInventoryTelemetry(t *testing.T) {
	tt := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tt.Shutdown(context.Background())) })
	api := &fakeInventory{
		pages: map[duoapi.Resource][][]duoapi.Record{duoapi.Groups: {{{ID: "", Raw: `{}`}}}},
		err:   map[duoapi.Resource]error{},
	}
	s, _, _, _ := newTestSnapshotter(t, api)
	tel, err := newReceiverTelemetry(metadatatest.NewSettings(tt).TelemetrySettings)
	require.NoError(t, err)
	s.tel = tel
	run := func() {
		_, _ = s.snapshot(t.Context())
	}
	run() // complete
	api.err[duoapi.Admins] = &duoapi.ForbiddenError{Resource: duoapi.Admins, Permission: duoapi.PermissionAdministrators}
	s.cfg.Resources.Admins.Enabled = true
	run() // partial
	api.err[duoapi.Users] = errors.New("connection reset")
	run() // failed
	ignore := []metricdatatest.Option{metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars()}
	outcome := func(o string) attribute.Set { return attribute.NewSet(attribute.String("outcome", o)) }
	metadatatest.AssertEqualDuoReceiverInventorySnapshots(t, tt, []metricdata.DataPoint[int64]{
		{Attributes: outcome(snapshotComplete), Value: 1},
		{Attributes: outcome(snapshotPartial), Value: 1},
		{Attributes: outcome(snapshotFailed), Value: 1},
	}, ignore...)
	metadatatest.AssertEqualDuoReceiverInventoryObjectsUndecodable(t, tt, []metricdata.DataPoint[int64]{
		{Attributes: attribute.NewSet(attribute.String("resource", "groups")), Value: 2},
	}, ignore...)
}
