// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoreceiver

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/consumer/consumertest"

	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/duoapi"
)

type fakeLister struct{ accounts []duoapi.Account }

func (f fakeLister) ListAccounts(context.Context) ([]duoapi.Account, error) { return f.accounts, nil }

// One child failing every pull does not hold up another: the healthy child's events
// arrive while the status names the failing one.
func TestFailingChildDoesNotStallOthers(t *testing.T) {
	cfg := validConfig()
	cfg.Logs = LogsConfig{Authentication: LogTypeConfig{Enabled: true, PullInterval: 10 * time.Millisecond, Window: time.Minute}}
	cfg.Accounts = AccountsConfig{Discover: true, RefreshInterval: time.Hour}
	cfg.InitialLookback = time.Hour
	h := newHarness(t, cfg)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	good, bad := newFakeDuo(now, 10), newFakeDuo(now, 10)
	ids := good.addSpread(duoapi.Authentication, "g", 25, now.Add(-30*time.Minute), now.Add(-3*time.Minute))
	require.Len(t, ids, 25)
	bad.fail = func(int) error {
		return &duoapi.APIError{Status: 500, Message: "down", Path: duoapi.Path(duoapi.Authentication)}
	}

	sink := new(consumertest.LogsSink)
	r, err := newDuoLogsReceiver(h.set, cfg, sink)
	require.NoError(t, err)
	r.now = good.clock
	r.newChildren = func(context.Context, component.Host) (childClients, error) {
		return childClients{
			list: fakeLister{[]duoapi.Account{
				{ID: "DABAD", Name: "Broken", APIHostname: "api-bad.duosecurity.com"},
				{ID: "DAGOOD", Name: "Fine", APIHostname: "api-good.duosecurity.com"},
			}},
			client: func(ref accountRef) (duoAPI, error) {
				if ref.id == "DABAD" {
					return bad, nil
				}
				return good, nil
			},
			close: func() {},
		}, nil
	}
	require.NoError(t, r.Start(context.Background(), h.host))
	defer func() { require.NoError(t, r.Shutdown(context.Background())) }()

	require.Eventually(t, func() bool { return sink.LogRecordCount() == 25 }, 10*time.Second, 5*time.Millisecond,
		"the healthy child's events arrive: %d", sink.LogRecordCount())
	var named bool
	for _, ev := range h.host.statuses() {
		if ev.Status() == componentstatus.StatusRecoverableError {
			named = true
			assert.ErrorContains(t, ev.Err(), "child accounts failing: DABAD (Broken)")
			assert.NotContains(t, ev.Err().Error(), "DAGOOD")
			var apiErr *duoapi.APIError
			assert.True(t, errors.As(ev.Err(), &apiErr))
		}
	}
	assert.True(t, named, "the status names the failing child")
}
