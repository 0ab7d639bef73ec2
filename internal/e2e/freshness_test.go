// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"

	"github.com/otelcol-duo/otelcol-duo/internal/duosim"
)

func TestSpreadOf(t *testing.T) {
	s := time.Second
	tests := []struct {
		name string
		in   []time.Duration
		want Spread
	}{
		{"empty", nil, Spread{}},
		{"one", []time.Duration{3 * s}, Spread{3 * s, 3 * s, 3 * s}},
		{"unsorted", []time.Duration{9 * s, 1 * s, 5 * s}, Spread{5 * s, 9 * s, 9 * s}},
		{"hundred: p99 is the 99th", hundred(), Spread{50 * s, 99 * s, 100 * s}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, spreadOf(tt.in))
		})
	}
}

func rawMap(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m))
	return m
}

func hundred() []time.Duration {
	var out []time.Duration
	for i := 100; i >= 1; i-- {
		out = append(out, time.Duration(i)*time.Second)
	}
	return out
}

// TestMeasureFreshness sends the sink the simulator's own records at known times and
// checks each event is measured from its visible-at and event times, that events outside
// the period are left out and that an event never sent counts as unstored.
func TestMeasureFreshness(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	clock := t0
	sim := duosim.New(duosim.Config{Seed: 3, Delay: 2 * time.Minute, Now: func() time.Time { return clock }})
	sim.Backfill("authentication", 3, t0.Add(-3*time.Minute), t0.Add(-90*time.Second))
	sim.Backfill("administrator", 2, t0.Add(-3*time.Minute), t0.Add(-90*time.Second))
	sim.Backfill("telephony", 1, t0.Add(-time.Hour), t0.Add(-59*time.Minute)) // before the period
	evs := append(sim.Events("authentication"), sim.Events("administrator")...)
	require.Len(t, evs, 5)

	sink := newStampingSink(func() time.Time { return clock })
	srv := httptest.NewServer(sink)
	defer srv.Close()
	send := func(evs ...duosim.Event) {
		t.Helper()
		ld := plog.NewLogs()
		lrs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
		for _, e := range evs {
			lr := lrs.AppendEmpty()
			lr.SetEventName("duo." + e.LogType)
			require.NoError(t, lr.Body().SetEmptyMap().FromRaw(rawMap(t, e.Raw)))
		}
		b, err := plogotlp.NewExportRequestFromLogs(ld).MarshalProto()
		require.NoError(t, err)
		req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.URL+"/v1/logs", bytes.NewReader(b))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-protobuf")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
	}
	// Every event sent 10 s after the last became visible, one sent again later (a repeat
	// keeps its first time), one never sent.
	latest := time.Time{}
	for _, e := range evs {
		if e.VisibleAt.After(latest) {
			latest = e.VisibleAt
		}
	}
	clock = latest.Add(10 * time.Second)
	send(evs[:4]...)
	clock = clock.Add(time.Minute)
	send(evs[0])

	f, err := MeasureFreshness(sim, sink, duosim.LogTypes(), t0.Add(-2*time.Minute), latest)
	require.NoError(t, err)
	assert.Equal(t, 5, f.Events, "telephony's event is outside the period")
	assert.Equal(t, 1, f.Unstored)
	assert.Equal(t, 5, sink.Records())
	want, err := Expected(sim, "authentication", "administrator")
	require.NoError(t, err)
	d := Compare(want, sink.Received())
	assert.Equal(t, 1, d.Missing.Total(), "one event never sent")
	assert.Equal(t, 1, d.Duplicated.Total(), "one sent twice")
	var wantMax time.Duration
	for _, e := range evs[:4] {
		wantMax = max(wantMax, latest.Add(10*time.Second).Sub(e.VisibleAt))
	}
	assert.Equal(t, wantMax, f.VisibleToStored.Max)
	assert.Equal(t, wantMax+2*time.Minute, f.EventToStored.Max, "event time is 2 minutes before visible-at")
}
