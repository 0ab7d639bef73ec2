// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoreceiver

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/duoapi"
	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/metadata"
)

const insecureWarning = "tls insecure_skip_verify is set: the Duo server certificate is not verified; use it only for tests"

// TestTLSVerification: certificate verification is on by default, so a server whose
// certificate is not trusted is refused; insecure_skip_verify turns it off and is warned
// about at every Start.
func TestTLSVerification(t *testing.T) {
	require.False(t, createDefaultConfig().(*Config).TLS.InsecureSkipVerify, "the default config must verify certificates")

	duo := &hostileDuo{}
	ev := time.Now().Add(-10 * time.Minute)
	duo.add(ev, authRecord("tls-1", ev, ""))
	srv := httptest.NewTLSServer(duo) // a self-signed certificate no system pool trusts
	t.Cleanup(srv.Close)

	tests := []struct {
		name     string
		insecure bool
		starts   int
	}{
		{name: "default verifies", insecure: false, starts: 1},
		{name: "insecure_skip_verify warns at every start", insecure: true, starts: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			core, logs := observer.New(zap.WarnLevel)
			for range tt.starts {
				cfg := createDefaultConfig().(*Config)
				cfg.Endpoint = srv.URL
				cfg.APIHostname = "api-tls.duosecurity.com"
				cfg.IntegrationKey = "DITLSTEST00000000001"
				cfg.SecretKey = "tlssecretkey0000000000000000000000000000"
				cfg.TLS.InsecureSkipVerify = tt.insecure
				cfg.InitialLookback = time.Hour
				cfg.RateLimit = 0
				cfg.BackOffConfig.Enabled = false
				cfg.Logs = LogsConfig{Authentication: LogTypeConfig{Enabled: true, PullInterval: time.Minute, Window: 2 * time.Minute}}
				require.NoError(t, cfg.Validate())

				set := receivertest.NewNopSettings(metadata.Type)
				set.Logger = zap.New(core)
				sink := &consumertest.LogsSink{}
				r, err := newDuoLogsReceiver(set, cfg, sink)
				require.NoError(t, err)
				polls := make(chan error, 10)
				r.onPoll = func(_ duoapi.LogType, err error) { polls <- err }
				require.NoError(t, r.Start(context.Background(), componenttest.NewNopHost()))
				var pollErr error
				select {
				case pollErr = <-polls:
				case <-time.After(10 * time.Second):
					t.Fatal("no poll completed")
				}
				require.NoError(t, r.Shutdown(context.Background()))
				if tt.insecure {
					require.NoError(t, pollErr)
					require.Equal(t, 1, sink.LogRecordCount())
				} else {
					require.ErrorContains(t, pollErr, "certificate", "an untrusted certificate must be refused")
					require.Zero(t, sink.LogRecordCount())
				}
			}
			want := 0
			if tt.insecure {
				want = tt.starts
			}
			require.Len(t, logs.FilterMessage(insecureWarning).All(), want)
		})
	}
}
