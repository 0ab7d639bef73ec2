// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoreceiver

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/duoapi"
)

func TestFiltersFingerprint(t *testing.T) {
	a := AuthFilters{Results: []string{"denied", "fraud"}, Users: []string{"DU1"}}
	b := AuthFilters{Results: []string{"fraud", "denied"}, Users: []string{"DU1"}}
	c := AuthFilters{Results: []string{"denied"}, Users: []string{"DU1", "fraud"}}
	assert.Empty(t, (&AuthFilters{}).fingerprint())
	assert.Equal(t, a.fingerprint(), b.fingerprint(), "the order of values does not count")
	assert.NotEqual(t, a.fingerprint(), c.fingerprint(), "a value moved to another filter counts")
	assert.NotContains(t, a.fingerprint(), "DU1", "values are not stored")
}

// Changing the filters keeps the cursor, and the first start under new filters says that
// events the earlier ones left out are not read again; a start under the same filters
// says nothing of it.
func TestFiltersChangeKeepsCursor(t *testing.T) {
	lt := duoapi.Authentication
	cfg := checkpointConfig()
	h := newHarness(t, cfg)
	fake := newFakeDuo(t0, 10)
	fake.addSpread(lt, "ev", 5, t0.Add(-30*time.Minute), t0.Add(-3*time.Minute))

	runs := []struct {
		filters  AuthFilters
		warnings int
	}{
		{filters: AuthFilters{}, warnings: 0},
		{filters: AuthFilters{Results: []string{"fraud"}}, warnings: 1},
		{filters: AuthFilters{Results: []string{"fraud"}}, warnings: 0},
		{filters: AuthFilters{}, warnings: 1},
	}
	var cursor time.Time
	for i, run := range runs {
		cfg.Logs.Authentication.Filters = run.filters
		core, logs := observer.New(zapcore.InfoLevel)
		h.set.Logger = zap.New(core)
		require.NoError(t, h.runOnce(fake, consumertest.NewNop()))
		assert.Equal(t, run.warnings, logs.FilterMessageSnippet("filters changed since the cursor was saved").Len(), "run %d", i)
		st := h.stored(lt)
		require.NotNil(t, st)
		assert.Equal(t, run.filters.fingerprint(), st.filters, "run %d stores its filters", i)
		if i > 0 {
			assert.False(t, st.cursor.Before(cursor), "run %d: the cursor is kept", i)
		}
		cursor = st.cursor
	}
}
