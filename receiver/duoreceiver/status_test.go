// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoreceiver

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/storagetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/duoapi"
	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/metadata"
)

// TestStartupCheck: Start reads /admin/v1/info/summary once, without waiting for it. A 401
// reports the credentials status at once; a 403 (no "Grant read information") is only
// told at info; an answer logs the account's counts; anything else is a warning.
func TestStartupCheck(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		body       string
		wantLevel  zapcore.Level
		wantMsg    string
		wantFields map[string]any
		wantStatus []string // substrings of the recoverable error; nil = no status event
	}{
		{
			name:       "accepted",
			status:     http.StatusOK,
			body:       `{"stat":"OK","response":{"admin_count":3,"integration_count":9,"telephony_credits_remaining":960,"user_count":8}}`,
			wantLevel:  zapcore.InfoLevel,
			wantMsg:    "duo accepted the credentials",
			wantFields: map[string]any{"user_count": int64(8), "integration_count": int64(9), "api_hostname": testHost},
		},
		{
			name:       "unauthorized",
			status:     http.StatusUnauthorized,
			body:       `{"stat":"FAIL","code":40103,"message":"Invalid signature in request credentials"}`,
			wantLevel:  zapcore.ErrorLevel,
			wantMsg:    "duo rejected the credentials; check integration_key, secret_key and api_hostname",
			wantStatus: []string{"integration_key", "secret_key", "api_hostname", testHost, "40103"},
		},
		{
			name:      "forbidden",
			status:    http.StatusForbidden,
			body:      `{"stat":"FAIL","code":40301,"message":"Access forbidden"}`,
			wantLevel: zapcore.InfoLevel,
			wantMsg:   `start-up check skipped: the Admin API application lacks "Grant read information"; reading logs needs only "Grant read log"`,
		},
		{
			name:      "server error",
			status:    http.StatusInternalServerError,
			body:      `{"stat":"FAIL","code":50000,"message":"Internal server error"}`,
			wantLevel: zapcore.WarnLevel,
			wantMsg:   "start-up check failed; the pulls will tell whether duo can be reached",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/admin/v1/info/summary" {
					http.NotFound(w, r)
					return
				}
				calls.Add(1)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			t.Cleanup(srv.Close)

			cfg := validConfig()
			cfg.Endpoint = srv.URL
			cfg.BackOffConfig.Enabled = false
			cfg.Logs = LogsConfig{} // no poller: the check alone talks to Duo
			core, logs := observer.New(zapcore.InfoLevel)
			set := receivertest.NewNopSettings(metadata.Type)
			set.Logger = zap.New(core)
			host := &statusHost{StorageHost: storagetest.NewStorageHost()}

			r, err := newDuoLogsReceiver(set, cfg, consumertest.NewNop())
			require.NoError(t, err)
			require.NoError(t, r.Start(context.Background(), host))
			require.Eventually(t, func() bool { return logs.FilterMessage(tt.wantMsg).Len() == 1 }, 10*time.Second, 10*time.Millisecond,
				"log %q never came; got %v", tt.wantMsg, logs.All())
			require.NoError(t, r.Shutdown(context.Background()))

			assert.Equal(t, int32(1), calls.Load(), "the check runs once")
			entry := logs.FilterMessage(tt.wantMsg).All()[0]
			assert.Equal(t, tt.wantLevel, entry.Level)
			fields := entry.ContextMap()
			for k, v := range tt.wantFields {
				assert.Equal(t, v, fields[k], k)
			}
			var recoverable []*componentstatus.Event
			for _, ev := range host.statuses() {
				if ev.Status() == componentstatus.StatusRecoverableError {
					recoverable = append(recoverable, ev)
				}
			}
			if tt.wantStatus == nil {
				assert.Empty(t, recoverable)
				return
			}
			require.Len(t, recoverable, 1)
			for _, s := range tt.wantStatus {
				assert.ErrorContains(t, recoverable[0].Err(), s)
			}
			assert.NotContains(t, recoverable[0].Err().Error(), testSKey)
			assert.NotContains(t, recoverable[0].Err().Error(), "Grant read log", "a 401 is not about permissions")
		})
	}
}

// TestStartupCheckDoesNotBlockStart: Start returns while Duo has not answered the check,
// and Shutdown stops the check and waits for it.
func TestStartupCheckDoesNotBlockStart(t *testing.T) {
	arrived := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	cfg := validConfig()
	cfg.Endpoint = srv.URL
	cfg.Logs = LogsConfig{}
	r, err := newDuoLogsReceiver(receivertest.NewNopSettings(metadata.Type), cfg, consumertest.NewNop())
	require.NoError(t, err)
	require.NoError(t, r.Start(context.Background(), &statusHost{StorageHost: storagetest.NewStorageHost()}))
	select {
	case <-arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("the check never reached duo")
	}
	require.NoError(t, r.Shutdown(context.Background()))
}

// TestHealth: OK is reported once every failing source is fine again; a successful pull
// also clears a failed start-up check, since Duo took the credentials.
func TestHealth(t *testing.T) {
	auth, admin := duoapi.Authentication, duoapi.Administrator
	errX := errors.New("x")
	tests := []struct {
		name string
		do   func(h *health)
		want []componentstatus.Status
	}{
		{name: "success alone says nothing", do: func(h *health) { h.succeeded(auth) }},
		{
			name: "a failure, then its success",
			do:   func(h *health) { h.failed(auth, errX); h.succeeded(auth) },
			want: []componentstatus.Status{componentstatus.StatusRecoverableError, componentstatus.StatusOK},
		},
		{
			name: "OK waits for every failing log type",
			do:   func(h *health) { h.failed(auth, errX); h.failed(admin, errX); h.succeeded(auth); h.succeeded(admin) },
			want: []componentstatus.Status{componentstatus.StatusRecoverableError, componentstatus.StatusRecoverableError, componentstatus.StatusOK},
		},
		{
			name: "a pull clears the start-up check",
			do:   func(h *health) { h.failed(startupCheck, errX); h.succeeded(auth) },
			want: []componentstatus.Status{componentstatus.StatusRecoverableError, componentstatus.StatusOK},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			host := &statusHost{}
			tt.do(newHealth(host))
			var got []componentstatus.Status
			for _, ev := range host.statuses() {
				got = append(got, ev.Status())
			}
			assert.Equal(t, tt.want, got)
		})
	}
}
