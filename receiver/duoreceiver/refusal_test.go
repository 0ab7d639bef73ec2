// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoreceiver

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/duoapi"
)

// A child answering a log type with 40401 or 40301 has that type turned off, with one
// warning and no failure status, and is asked again a day later; once it serves the type,
// the type is back on. A single account's 403 stays a credentials failure.
func TestChildRefusesLogType(t *testing.T) {
	for _, code := range []int{40401, 40301} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			cfg := validConfig()
			cfg.AccountID = "DA9VZOC5X63I2W72NRP9"
			cfg.Logs = LogsConfig{Telephony: LogTypeConfig{Enabled: true, PullInterval: 5 * time.Millisecond, Window: time.Minute}}
			h := newHarness(t, cfg)
			core, logs := observer.New(zapcore.DebugLevel)
			h.set.Logger = zap.New(core)
			now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
			fake := newFakeDuo(now, 100)
			var refusing atomic.Bool
			refusing.Store(true)
			var asked atomic.Int32
			fake.fail = func(int) error {
				asked.Add(1)
				if refusing.Load() {
					return &duoapi.APIError{Status: code / 100, Code: code, Message: "refused", Path: duoapi.Path(duoapi.Telephony)}
				}
				return nil
			}
			r := h.start(fake, consumertest.NewNop())
			defer func() { require.NoError(t, r.Shutdown(context.Background())) }()
			require.NoError(t, <-h.polls, "a refusal is not a failed poll")

			time.Sleep(50 * time.Millisecond) // ten intervals: none asks
			assert.Equal(t, int32(1), asked.Load(), "the type is off for a day")

			fake.setNow(now.Add(refusalRetry + time.Second))
			require.Eventually(t, func() bool { return asked.Load() == 2 }, 5*time.Second, time.Millisecond, "asked again after a day")
			time.Sleep(50 * time.Millisecond)
			assert.Equal(t, int32(2), asked.Load(), "refused again: off for another day")
			assert.Len(t, logs.FilterMessageSnippet("does not serve this log type").All(), 1, "one warning")

			refusing.Store(false)
			fake.setNow(now.Add(2*refusalRetry + 2*time.Second))
			require.Eventually(t, func() bool { return logs.FilterMessageSnippet("serves this log type again").Len() == 1 }, 5*time.Second, time.Millisecond)
			for _, ev := range h.host.statuses() {
				assert.NotEqual(t, componentstatus.StatusRecoverableError, ev.Status(), "a refusal is not a failure")
			}
		})
	}
}

func TestIsRefusal(t *testing.T) {
	assert.True(t, isRefusal(&duoapi.APIError{Status: 404, Code: 40401}))
	assert.True(t, isRefusal(&duoapi.APIError{Status: 403, Code: 40301}))
	assert.False(t, isRefusal(&duoapi.APIError{Status: 401, Code: 40103}))
	assert.False(t, isRefusal(&duoapi.APIError{Status: 404}), "a 404 from a proxy is no refusal by Duo")
	assert.False(t, isRefusal(errors.New("x")))
}
