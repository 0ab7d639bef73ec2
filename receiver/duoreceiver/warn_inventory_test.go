// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoreceiver

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/metadata"
)

// A configuration that validates but, in the pipelines it sits in, reads nothing says so
// at start, naming what to change.
func TestWarnInventory(t *testing.T) {
	noLogs := func(c *Config) { c.Logs = LogsConfig{} }
	tests := []struct {
		name    string
		mutate  func(*Config)
		logs    bool
		metrics bool
		want    []string
	}{
		{name: "logs pipeline, defaults", mutate: func(*Config) {}, logs: true},
		{name: "metrics pipeline, no log type", mutate: noLogs, metrics: true},
		{name: "both pipelines, no log type", mutate: noLogs, logs: true, metrics: true},
		{
			name: "entity logs without a logs pipeline", metrics: true,
			mutate: func(c *Config) { c.Inventory.EntityLogs = true },
			want:   []string{"inventory.entity_logs is set but the receiver is in no logs pipeline; no entity logs are sent"},
		},
		{
			name: "logs pipeline, no log type, no entity logs", logs: true, mutate: noLogs,
			want: []string{"nothing to read: every log type is disabled and the inventory goes nowhere; enable a logs.<type>, set inventory.entity_logs, or add the receiver to a metrics pipeline"},
		},
		{name: "logs pipeline, no log type, entity logs", logs: true, mutate: func(c *Config) { noLogs(c); c.Inventory.EntityLogs = true }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := validConfig()
			tt.mutate(cfg)
			require.NoError(t, cfg.Validate())
			core, logs := observer.New(zapcore.WarnLevel)
			set := receivertest.NewNopSettings(metadata.Type)
			set.Logger = zap.New(core)
			var next consumer.Logs
			if tt.logs {
				next = new(consumertest.LogsSink)
			}
			r, err := newDuoLogsReceiver(set, cfg, next)
			require.NoError(t, err)
			if tt.metrics {
				r.nextMetrics = new(consumertest.MetricsSink)
			}
			r.warnInventory()
			var got []string
			for _, e := range logs.All() {
				got = append(got, e.Message)
			}
			assert.Equal(t, tt.want, got)
		})
	}
}
