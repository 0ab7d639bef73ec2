// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoreceiver

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"

	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/duoapi"
	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/metadata"
)

const (
	// defaultDelay is Duo's documented availability delay (API.md 1.6): newer events are
	// not visible yet, and a query for them comes back empty rather than partial.
	defaultDelay = 2 * time.Minute
	// defaultRateLimit is Duo's per-endpoint figure for log endpoints, 2 requests a minute
	// (API.md 1.6, Duo staff in duo_client_python #101); the client adapts it on 429s.
	defaultRateLimit = 2.0
)

// defaultLogs are the per-endpoint intervals and windows Duo users already run (DESIGN.md):
// every window is a little longer than its interval, so late events are re-read.
// Trust Monitor is off by default: it needs its own review and does not support child accounts.
func defaultLogs() LogsConfig {
	return LogsConfig{
		Authentication:    LogTypeConfig{Enabled: true, PullInterval: 5 * time.Minute, Window: 6 * time.Minute},
		Administrator:     LogTypeConfig{Enabled: true, PullInterval: 6 * time.Minute, Window: 7 * time.Minute},
		Telephony:         LogTypeConfig{Enabled: true, PullInterval: 7 * time.Minute, Window: 8 * time.Minute},
		Activity:          LogTypeConfig{Enabled: true, PullInterval: 8 * time.Minute, Window: 9 * time.Minute},
		OfflineEnrollment: LogTypeConfig{Enabled: true, PullInterval: 10 * time.Minute, Window: 12 * time.Minute},
		TrustMonitor:      LogTypeConfig{Enabled: false, PullInterval: 10 * time.Minute, Window: 12 * time.Minute},
	}
}

// NewFactory returns the factory of the duo receiver.
func NewFactory() receiver.Factory {
	return receiver.NewFactory(
		metadata.Type,
		createDefaultConfig,
		receiver.WithLogs(createLogsReceiver, metadata.LogsStability),
		receiver.WithMetrics(createMetricsReceiver, metadata.MetricsStability),
	)
}

func createDefaultConfig() component.Config {
	httpCfg := confighttp.NewDefaultClientConfig()
	httpCfg.Timeout = duoapi.DefaultTimeout
	return &Config{
		ClientConfig:  httpCfg,
		Logs:          defaultLogs(),
		Body:          BodyMap,
		Delay:         defaultDelay,
		RateLimit:     defaultRateLimit,
		BackOffConfig: configretry.NewDefaultBackOffConfig(),
		Inventory:     defaultInventory(),

		MetricsBuilderConfig: metadata.NewDefaultMetricsBuilderConfig(),
	}
}

// createLogsReceiver and createMetricsReceiver hand out one receiver per configuration:
// the same receiver id in a logs and a metrics pipeline shares one client, one set of
// budgets and one set of credentials (sharedcomponent.go).
func createLogsReceiver(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Logs) (receiver.Logs, error) {
	return receivers.get(set, cfg.(*Config), func(r *duoLogsReceiver) { r.next = next })
}

func createMetricsReceiver(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Metrics) (receiver.Metrics, error) {
	return receivers.get(set, cfg.(*Config), func(r *duoLogsReceiver) { r.nextMetrics = next })
}
