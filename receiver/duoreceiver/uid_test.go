// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoreceiver

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/duoapi"
)

// Every record carries its Duo event id as log.record.uid, the same on every read, so that
// a page delivered twice (an export the backend stored but whose answer a killed collector
// never read) can be de-duplicated downstream.
func TestRecordUIDIsDuoEventID(t *testing.T) {
	lt := duoapi.Authentication
	fake := newFakeDuo(t0, 4)
	ids := fake.addSpread(lt, "ev", 9, t0.Add(-6*time.Minute), t0.Add(-3*time.Minute))

	uids := func(batches []plog.Logs) []string {
		out := []string{}
		for _, ld := range batches {
			lrs := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				v, ok := lrs.At(k).Attributes().Get("log.record.uid")
				require.True(t, ok, "record without log.record.uid")
				out = append(out, v.Str())
			}
		}
		return out
	}

	first := &consumertest.LogsSink{}
	require.NoError(t, newHarness(t, checkpointConfig()).runOnce(fake, first))
	assert.Equal(t, ids, uids(first.AllLogs()))
	assert.Equal(t, deliveredIDs(t, first.AllLogs()), uids(first.AllLogs()))

	// A receiver that lost its cursor reads the same events again: same uids.
	again := &consumertest.LogsSink{}
	require.NoError(t, newHarness(t, checkpointConfig()).runOnce(fake, again))
	assert.Equal(t, uids(first.AllLogs()), uids(again.AllLogs()))
}
