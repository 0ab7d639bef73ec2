// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package otlptest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

func TestGaugesAndPointKey(t *testing.T) {
	md := pmetric.NewMetrics()
	for range 2 { // two resources, to see the walk go past the first
		ms := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics()
		g := ms.AppendEmpty()
		g.SetName("g")
		dp := g.SetEmptyGauge().DataPoints().AppendEmpty()
		dp.SetIntValue(3)
		dp.Attributes().PutStr("z", "last")
		dp.Attributes().PutBool("a", true)
		s := ms.AppendEmpty()
		s.SetName("not a gauge")
		s.SetEmptySum().DataPoints().AppendEmpty().SetIntValue(9)
	}
	var got []string
	for name, dp := range Gauges(md) {
		got = append(got, PointKey(name, dp))
		assert.Equal(t, int64(3), dp.IntValue())
	}
	assert.Equal(t, []string{"g a=true z=last", "g a=true z=last"}, got)
}

func TestLogRecords(t *testing.T) {
	ld := plog.NewLogs()
	for _, rl := range []int{2, 0, 1} {
		lrs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
		for range rl {
			lrs.AppendEmpty().SetEventName("e")
		}
	}
	n := 0
	for lr := range LogRecords(ld) {
		assert.Equal(t, "e", lr.EventName())
		n++
	}
	assert.Equal(t, 3, n)
	for range LogRecords(ld) {
		break // stopping early must not panic
	}
}
