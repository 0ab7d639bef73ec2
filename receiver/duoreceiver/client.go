// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoreceiver

import (
	"context"
	"fmt"

	"go.opentelemetry.io/collector/component"

	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/duoapi"
)

// newDuoAPIFetcher builds the Duo API client from the receiver's settings: the HTTP client
// comes from confighttp (TLS, proxy, timeout, auth extensions), the signing host is always
// api_hostname, requests go to endpoint when it is set.
func newDuoAPIFetcher(ctx context.Context, host component.Host, r *duoLogsReceiver) (logFetcher, func(), error) {
	hc, err := r.cfg.ToClient(ctx, host.GetExtensions(), r.set.TelemetrySettings)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to create HTTP client: %w", err)
	}
	backOff := r.cfg.BackOffConfig
	client, err := duoapi.New(duoapi.Config{
		BaseURL:        r.cfg.baseURL(),
		Host:           r.cfg.host(),
		IntegrationKey: r.cfg.IntegrationKey,
		SecretKey:      string(r.cfg.SecretKey),
		AccountID:      r.cfg.AccountID,
		RateLimit:      r.cfg.RateLimit,
		Retry: duoapi.RetrySettings{
			Enabled:             backOff.Enabled,
			InitialInterval:     backOff.InitialInterval,
			MaxInterval:         backOff.MaxInterval,
			MaxElapsedTime:      backOff.MaxElapsedTime,
			Multiplier:          backOff.Multiplier,
			RandomizationFactor: backOff.RandomizationFactor,
		},
		UserAgent: userAgent(r.set.BuildInfo),
		Observer:  r.telemetry,
		Logger:    r.logger,
		Now:       r.now,
	}, hc)
	if err != nil {
		hc.CloseIdleConnections()
		return nil, nil, err
	}
	return client, hc.CloseIdleConnections, nil
}

func userAgent(info component.BuildInfo) string {
	if info.Command == "" {
		return "otelcol-duo"
	}
	return fmt.Sprintf("%s/%s duoreceiver", info.Command, info.Version)
}

// isCredentialsError reports whether Duo answered 401 or 403.
func isCredentialsError(err error) bool {
	return duoapi.IsCredentialsError(err)
}
