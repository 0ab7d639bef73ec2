// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoreceiver

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"

	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/duoapi"
	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/metadata"
)

func TestCheckpointKey(t *testing.T) {
	tests := []struct {
		host, account string
		lt            duoapi.LogType
		want          string
	}{
		{host: testHost, lt: duoapi.Authentication, want: "duo/api-xxxxxxxx.duosecurity.com/-/authentication"},
		{host: testHost, account: "DA9VZOC5X63I2W72NRP9", lt: duoapi.TrustMonitor, want: "duo/api-xxxxxxxx.duosecurity.com/DA9VZOC5X63I2W72NRP9/trust_monitor"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			assert.Equal(t, tt.want, checkpointKey(tt.host, tt.account, tt.lt))
		})
	}
}

// TestCheckpointKeyIgnoresTuning: intervals, windows and rate limits do not change the key,
// the host's case does not either; the account does.
func TestCheckpointKeyIgnoresTuning(t *testing.T) {
	a, b := validConfig(), validConfig()
	b.Logs.Authentication.PullInterval, b.Logs.Authentication.Window, b.RateLimit = time.Minute, time.Hour, 10
	b.APIHostname = "API-XXXXXXXX.DuoSecurity.com"
	assert.Equal(t, checkpointKey(a.host(), a.AccountID, duoapi.Authentication), checkpointKey(b.host(), b.AccountID, duoapi.Authentication))
	b.AccountID = "DA9VZOC5X63I2W72NRP9"
	assert.NotEqual(t, checkpointKey(a.host(), a.AccountID, duoapi.Authentication), checkpointKey(b.host(), b.AccountID, duoapi.Authentication))
}

func TestCheckpointRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		st   streamState
	}{
		{name: "cursor only", st: streamState{cursor: t0, seen: map[string]time.Time{}}},
		{
			name: "v2 window in progress",
			st: streamState{
				cursor: t0.Add(-time.Hour),
				window: &windowState{Start: t0.Add(-time.Hour), End: t0, From: &duoapi.Position{Offset: "1700000000000,abc"}},
				seen:   map[string]time.Time{"a": t0.Add(-time.Minute + 123456*time.Microsecond), "b": t0.Add(-time.Second)},
			},
		},
		{
			name: "v1 window in progress",
			st: streamState{
				cursor: t0.Add(-time.Hour),
				window: &windowState{Start: t0.Add(-time.Hour), End: t0, From: &duoapi.Position{MinTime: t0.Unix(), Seen: []string{"h1#0", "h1#1"}}},
				seen:   map[string]time.Time{"h1#0": t0},
			},
		},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := newTestStorageClient(t)
			cp := &checkpointer{client: client, key: "k"}
			require.NoError(t, cp.save(ctx, &tt.st))
			got, err := cp.load(ctx)
			require.NoError(t, err)
			assert.Equal(t, tt.st, *got)
		})
	}
}

func TestCheckpointMissing(t *testing.T) {
	cp := &checkpointer{client: newTestStorageClient(t), key: "k"}
	got, err := cp.load(context.Background())
	require.NoError(t, err)
	assert.Nil(t, got)
}

func TestCursorAfter(t *testing.T) {
	end := time.Date(2026, 11, 20, 12, 0, 7, 500_000_000, time.UTC)
	tests := []struct {
		lt   duoapi.LogType
		want time.Time
	}{
		{lt: duoapi.Authentication, want: end.Add(time.Millisecond)},
		{lt: duoapi.Telephony, want: end.Add(time.Millisecond)},
		{lt: duoapi.Activity, want: end.Add(time.Millisecond)},
		{lt: duoapi.TrustMonitor, want: end.Add(time.Millisecond)},
		{lt: duoapi.Administrator, want: time.Date(2026, 11, 20, 12, 0, 7, 0, time.UTC)},
		{lt: duoapi.OfflineEnrollment, want: time.Date(2026, 11, 20, 12, 0, 7, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(string(tt.lt), func(t *testing.T) {
			assert.Equal(t, tt.want, cursorAfter(end, tt.lt.V1()))
		})
	}
}

func TestGetStorageClient(t *testing.T) {
	h := newHarness(t, validConfig())
	rid := component.NewID(metadata.Type)
	ctx := context.Background()

	client, err := getStorageClient(ctx, h.host, nil, rid)
	require.NoError(t, err)
	require.NotNil(t, client, "no storage: a no-op client")

	client, err = getStorageClient(ctx, h.host, h.cfg.StorageID, rid)
	require.NoError(t, err)
	require.NoError(t, client.Close(ctx))

	missing := component.MustNewIDWithName("file_storage", "missing")
	_, err = getStorageClient(ctx, h.host, &missing, rid)
	assert.ErrorContains(t, err, `storage extension "file_storage/missing" not found`)

	_, err = getStorageClient(ctx, componenttest.NewNopHost(), &missing, rid)
	assert.Error(t, err)
}
