// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoreceiver

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/otelcol-duo/otelcol-duo/internal/duosim"
	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/duoapi"
	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/metadata"
)

// metricsByAccount splits the metrics by the duo.account.id of their resource.
func metricsByAccount(mds []pmetric.Metrics) map[string][]pmetric.Metrics {
	out := map[string][]pmetric.Metrics{}
	for _, md := range mds {
		rms := md.ResourceMetrics()
		for i := range rms.Len() {
			id, _ := rms.At(i).Resource().Attributes().Get("duo.account.id")
			one := pmetric.NewMetrics()
			rms.At(i).CopyTo(one.ResourceMetrics().AppendEmpty())
			out[id.Str()] = append(out[id.Str()], one)
		}
	}
	return out
}

// TestSimAccountsInventory: the fan-out over child accounts covers the inventory too.
// Each child's posture metrics carry its account id, name and host, and equal that child's
// own counts.
func TestSimAccountsInventory(t *testing.T) {
	if testing.Short() {
		t.Skip("simulator run")
	}
	kids := duosim.ChildAccounts(11, 0, 3)
	pop := testPopulation(150)
	sim := duosim.New(duosim.Config{Seed: 11, Children: kids, ChildPopulation: &pop})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)

	cfg := parentConfig(srv.URL)
	for _, lt := range duoapi.LogTypes {
		cfg.Logs.byType(lt).Enabled = false
	}
	cfg.Inventory.Resources.Admins.Enabled = true
	cfg.Inventory.Resources.Integrations.Enabled = true
	cfg.Accounts = AccountsConfig{Discover: true, RefreshInterval: time.Hour}
	require.NoError(t, cfg.Validate())

	sink := new(consumertest.MetricsSink)
	m, err := NewFactory().CreateMetrics(t.Context(), receivertest.NewNopSettings(metadata.Type), cfg, sink)
	require.NoError(t, err)
	require.NoError(t, m.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, m.Shutdown(context.Background())) })

	require.Eventually(t, func() bool { return len(metricsByAccount(sink.AllMetrics())) == len(kids) },
		60*time.Second, 20*time.Millisecond, "one complete snapshot per child")
	got := metricsByAccount(sink.AllMetrics())
	now := time.Now()
	for _, k := range kids {
		want := wantGauges(sim.Account(k.AccountID).InventoryCounts(cfg.Inventory.InactiveAfter, now))
		assert.Equal(t, want, gauges(got[k.AccountID]), "child %s", k.AccountID)
		host, _ := got[k.AccountID][0].ResourceMetrics().At(0).Resource().Attributes().Get("duo.api.hostname")
		assert.Equal(t, k.APIHostname, host.Str(), "child %s: its own host", k.AccountID)
		// The same resource as the child's logs: its name too.
		name, _ := got[k.AccountID][0].ResourceMetrics().At(0).Resource().Attributes().Get("duo.account.name")
		assert.Equal(t, k.Name, name.Str(), "child %s: its name", k.AccountID)
	}
	assert.NotContains(t, got, "", "the parent itself is not read")
}
