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
	// defaultDelay is Duo's documented availability delay (docs/duo-api.md §1.6): newer events are
	// not visible yet, and a query for them comes back empty rather than partial.
	defaultDelay = 2 * time.Minute
	// defaultRateLimit is Duo's per-endpoint figure for log endpoints, 2 requests a minute
	// (docs/duo-api.md §1.6, Duo staff in duo_client_python #101); the client adapts it on 429s.
	defaultRateLimit = 2.0
)

// defaultLogs reads every log type once a minute, as often as Duo asks log requests to be
// made (docs/duo-api.md §1.6): an event then reaches the pipeline at most delay + one
// interval after it happened. The 3-minute window re-reads the two previous minutes at
// every pull, so an event Duo surfaces up to window - interval = 2 minutes after its usual
// delay is still caught, and at fewer than about 330 events a minute the whole window is
// one page: one request per pull.
// Trust Monitor is off by default: it needs its own review and does not support child accounts.
func defaultLogs() LogsConfig {
	const interval, window = time.Minute, 3 * time.Minute
	on := LogTypeConfig{Enabled: true, PullInterval: interval, Window: window}
	return LogsConfig{
		Authentication:    on,
		Administrator:     on,
		Telephony:         on,
		Activity:          on,
		OfflineEnrollment: on,
		TrustMonitor:      LogTypeConfig{Enabled: false, PullInterval: interval, Window: window},
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
		Accounts:      AccountsConfig{RefreshInterval: defaultRefreshInterval},
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
