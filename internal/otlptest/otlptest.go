// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

// Package otlptest reads OTLP data back for tests: the receiver's, the mapping's and the
// end-to-end tests all count gauge points and log records out of what was emitted, and
// walk the same resource/scope nesting to get at them.
package otlptest

import (
	"iter"
	"slices"
	"strings"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// Gauges yields every gauge data point of md with the name of its metric. Points of
// metrics of another type are not yielded.
func Gauges(md pmetric.Metrics) iter.Seq2[string, pmetric.NumberDataPoint] {
	return func(yield func(string, pmetric.NumberDataPoint) bool) {
		for _, rm := range md.ResourceMetrics().All() {
			for _, sm := range rm.ScopeMetrics().All() {
				for _, m := range sm.Metrics().All() {
					if m.Type() != pmetric.MetricTypeGauge {
						continue
					}
					for _, dp := range m.Gauge().DataPoints().All() {
						if !yield(m.Name(), dp) {
							return
						}
					}
				}
			}
		}
	}
}

// LogRecords yields every log record of ld.
func LogRecords(ld plog.Logs) iter.Seq[plog.LogRecord] {
	return func(yield func(plog.LogRecord) bool) {
		for _, rl := range ld.ResourceLogs().All() {
			for _, sl := range rl.ScopeLogs().All() {
				for _, lr := range sl.LogRecords().All() {
					if !yield(lr) {
						return
					}
				}
			}
		}
	}
}

// PointKey names a data point of metric name by its attributes, "name k1=v1 k2=v2" with
// the keys in order, so that a test can compare points as a map.
func PointKey(name string, dp pmetric.NumberDataPoint) string {
	attrs := dp.Attributes()
	keys := make([]string, 0, attrs.Len())
	for k := range attrs.All() {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteString(name)
	for _, k := range keys {
		v, _ := attrs.Get(k)
		b.WriteString(" " + k + "=" + v.AsString())
	}
	return b.String()
}
