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
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/duoapi"
	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/metadatatest"
)

// TestTelemetryEventAge: each record delivered is counted once in the event-age histogram,
// at the time its page was accepted minus its event time; a page refused downstream is
// not counted.
func TestTelemetryEventAge(t *testing.T) {
	lt := duoapi.Authentication
	ages := []time.Duration{3 * time.Minute, 5 * time.Minute, 20 * time.Minute, 50 * time.Minute}
	tests := []struct {
		name   string
		refuse bool
		takes  bool // the consumer moves the records out, as the batch processor does
	}{
		{"accepted", false, false},
		{"accepted by a consumer that takes the records", false, true},
		{"refused", true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tt := componenttest.NewTelemetry()
			t.Cleanup(func() { require.NoError(t, tt.Shutdown(context.Background())) })
			h := newHarness(t, checkpointConfig())
			h.set = metadatatest.NewSettings(tt)
			fake := newFakeDuo(t0, 2) // two records a page: two pages
			for i, age := range ages {
				ev := t0.Add(-age)
				fake.add(lt, string(rune('a'+i)), ev, ev)
			}
			sink := &consumertest.LogsSink{}
			var next consumer.Logs = sink
			if tc.refuse {
				next = consumertest.NewErr(consumererror.NewPermanent(errors.New("refused")))
			}
			if tc.takes {
				next, _ = consumer.NewLogs(func(ctx context.Context, ld plog.Logs) error {
					taken := plog.NewLogs()
					ld.ResourceLogs().MoveAndAppendTo(taken.ResourceLogs())
					return sink.ConsumeLogs(ctx, taken)
				}, consumer.WithCapabilities(consumer.Capabilities{MutatesData: true}))
			}
			_ = h.runOnce(fake, next)

			if tc.refuse {
				_, err := tt.GetMetric("otelcol_duo_receiver_event_age")
				assert.Error(t, err, "nothing accepted, nothing measured")
				return
			}
			require.Equal(t, len(ages), sink.LogRecordCount())
			bounds := []float64{1, 5, 10, 30, 60, 90, 120, 150, 180, 240, 300, 600, 1800, 3600, 10800, 43200, 86400, 604800}
			counts := make([]uint64, len(bounds)+1)
			var sum float64
			for _, age := range ages {
				s := age.Seconds()
				sum += s
				i := 0
				for i < len(bounds) && s > bounds[i] {
					i++
				}
				counts[i]++
			}
			metadatatest.AssertEqualDuoReceiverEventAge(t, tt, []metricdata.HistogramDataPoint[float64]{{
				Attributes:   attribute.NewSet(attribute.String(attrLogType, string(lt))),
				Count:        uint64(len(ages)),
				Sum:          sum,
				Bounds:       bounds,
				BucketCounts: counts,
				Min:          metricdata.NewExtrema(ages[0].Seconds()),
				Max:          metricdata.NewExtrema(ages[len(ages)-1].Seconds()),
			}}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
		})
	}
}
