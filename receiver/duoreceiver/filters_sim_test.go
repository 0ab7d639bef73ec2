// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoreceiver

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// Configured filters reach Duo: against the simulator, which applies them, exactly the
// matching authentication events arrive, and the start says the log is filtered.
func TestSimAuthFiltersEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("simulator run")
	}
	rig := newSimRig(t)
	rig.cfg.Logs = LogsConfig{Authentication: rig.cfg.Logs.Authentication}
	rig.cfg.Logs.Authentication.Filters = AuthFilters{Results: []string{"denied", "fraud"}, Factors: []string{"duo_push", "phone_call"}}
	require.NoError(t, rig.cfg.Validate())
	now := time.Now()
	rig.sim.Backfill("authentication", 3000, now.Add(-2*time.Hour), now.Add(-10*time.Second))
	want := map[string]int{}
	for _, ev := range rig.sim.Account("").FilteredAuth(url.Values{"results": {"denied", "fraud"}, "factors": {"duo_push", "phone_call"}}) {
		want[canonicalJSON(ev.Raw)]++
	}
	require.NotEmpty(t, want)
	require.Less(t, len(want), 3000)

	core, logs := observer.New(zapcore.InfoLevel)
	rig.set.Logger = zap.New(core)
	sink := newContentSink()
	r := rig.start(t, sink)
	require.Eventually(t, func() bool { return sink.count("authentication") >= len(want) }, 60*time.Second, 20*time.Millisecond)
	time.Sleep(time.Second) // more pulls: nothing else may arrive
	require.NoError(t, r.Shutdown(context.Background()))
	assert.Equal(t, want, sink.snapshot("authentication"))
	assert.Equal(t, 1, logs.FilterMessageSnippet("authentication log is filtered by Duo").Len())
}
