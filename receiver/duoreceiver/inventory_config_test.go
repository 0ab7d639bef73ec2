// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoreceiver

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/duoapi"
	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/metadata"
)

func TestInventoryDefaults(t *testing.T) {
	ic := createDefaultConfig().(*Config).Inventory
	assert.Equal(t, time.Hour, ic.Interval)
	assert.Equal(t, 720*time.Hour, ic.InactiveAfter)
	assert.False(t, ic.EntityLogs)
	want := map[duoapi.Resource]bool{
		duoapi.Users: true, duoapi.BypassCodes: true, duoapi.Groups: true, duoapi.Endpoints: true,
		duoapi.Policies: true, duoapi.PoliciesSummary: true, duoapi.Summary: true,
		duoapi.Admins: false, duoapi.Integrations: false, duoapi.Settings: false,
	}
	for _, r := range duoapi.Resources {
		assert.Equal(t, want[r], ic.Resources.enabled(r), r)
	}
}

func loadInventory(t *testing.T, inv map[string]any) (*Config, error) {
	t.Helper()
	raw := map[string]any{"api_hostname": testHost, "integration_key": testIKey, "secret_key": testSKey, "inventory": inv}
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	return cfg, confmap.NewFromStringMap(raw).Unmarshal(cfg)
}

func TestInventoryConfigLoads(t *testing.T) {
	cfg, err := loadInventory(t, map[string]any{
		"interval": "30m", "inactive_after": "240h", "entity_logs": true,
		"resources": map[string]any{"users": map[string]any{"enabled": false}, "admins": map[string]any{"enabled": true}},
	})
	require.NoError(t, err)
	require.NoError(t, cfg.Validate())
	assert.Equal(t, 30*time.Minute, cfg.Inventory.Interval)
	assert.Equal(t, 240*time.Hour, cfg.Inventory.InactiveAfter)
	assert.True(t, cfg.Inventory.EntityLogs)
	assert.False(t, cfg.Inventory.Resources.enabled(duoapi.Users))
	assert.True(t, cfg.Inventory.Resources.enabled(duoapi.Admins))
	assert.True(t, cfg.Inventory.Resources.enabled(duoapi.Groups), "untouched resources keep their default")

	// The generated metric switches sit at the top level, as in every mdatagen receiver.
	raw := map[string]any{"api_hostname": testHost, "integration_key": testIKey, "secret_key": testSKey,
		"metrics": map[string]any{"duo.users": map[string]any{"enabled": false}}}
	cfg = NewFactory().CreateDefaultConfig().(*Config)
	require.NoError(t, confmap.NewFromStringMap(raw).Unmarshal(cfg))
	assert.False(t, cfg.MetricsBuilderConfig.Metrics.DuoUsers.Enabled)
	assert.True(t, cfg.MetricsBuilderConfig.Metrics.DuoBypassCodes.Enabled)
}

func TestInventoryUnknownKeys(t *testing.T) {
	for name, inv := range map[string]map[string]any{
		"inventory setting": {"intervall": "1h"},
		"resource name":     {"resources": map[string]any{"userz": map[string]any{"enabled": true}}},
		"resource setting":  {"resources": map[string]any{"users": map[string]any{"enable": true}}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := loadInventory(t, inv)
			require.Error(t, err)
		})
	}
}

func TestInventoryValidate(t *testing.T) {
	cfg := validConfig()
	cfg.Inventory.Interval = 0
	cfg.Inventory.InactiveAfter = -time.Hour
	err := cfg.Validate()
	require.ErrorIs(t, err, errInventoryInterval)
	require.ErrorIs(t, err, errInactiveAfter)
}

func TestInventoryIntervalWarning(t *testing.T) {
	for _, tt := range []struct {
		interval time.Duration
		warn     bool
	}{{time.Minute, true}, {5 * time.Minute, false}, {time.Hour, false}} {
		core, logs := observer.New(zapcore.WarnLevel)
		cfg := validConfig()
		cfg.Inventory.Interval = tt.interval
		cfg.warn(zap.New(core))
		assert.Equal(t, tt.warn, logs.FilterMessageSnippet("inventory.interval").Len() == 1, tt.interval)
	}
}

func TestSharedReceiver(t *testing.T) {
	f := NewFactory()
	set := receivertest.NewNopSettings(metadata.Type)
	cfg := validConfig()
	cfg.Endpoint = "http://127.0.0.1:9" // closed: Start must not need Duo
	l, err := f.CreateLogs(t.Context(), set, cfg, consumertest.NewNop())
	require.NoError(t, err)
	m, err := f.CreateMetrics(t.Context(), set, cfg, consumertest.NewNop())
	require.NoError(t, err)
	require.Same(t, l, m, "one receiver for one configuration")
	sr := l.(*sharedReceiver)
	assert.NotNil(t, sr.r.next)
	assert.NotNil(t, sr.r.nextMetrics)

	other := validConfig()
	o, err := f.CreateMetrics(t.Context(), set, other, consumertest.NewNop())
	require.NoError(t, err)
	assert.NotSame(t, l, o, "another configuration, another receiver")
	sro := o.(*sharedReceiver)
	assert.Nil(t, sro.r.next, "in no logs pipeline")

	host := componenttest.NewNopHost()
	require.NoError(t, l.Start(context.Background(), host))
	require.NoError(t, m.Start(context.Background(), host))
	require.NoError(t, l.Shutdown(context.Background()))
	require.NoError(t, m.Shutdown(context.Background()), "a second Shutdown is a no-op")
	require.NoError(t, o.Shutdown(context.Background()), "Shutdown without Start")

	again, err := f.CreateLogs(t.Context(), set, cfg, consumertest.NewNop())
	require.NoError(t, err)
	assert.NotSame(t, l, again, "a shut down receiver is not handed out again")
	require.NoError(t, again.Shutdown(context.Background()))
	receivers.mu.Lock()
	defer receivers.mu.Unlock()
	assert.Empty(t, receivers.m)
}
