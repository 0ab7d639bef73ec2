// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoreceiver

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/duoapi"
	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/metadatatest"
)

// TestTelemetry: two overlapping pulls count what was received and what was dropped as a
// duplicate, and leave the cursor lag; the client's observer hooks count requests, waits
// and skipped seconds.
func TestTelemetry(t *testing.T) {
	tt := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tt.Shutdown(context.Background())) })

	lt := duoapi.Authentication
	h := newHarness(t, checkpointConfig())
	h.set = metadatatest.NewSettings(tt)
	fake := newFakeDuo(t0, 10)
	fake.addSpread(lt, "ev", 15, t0.Add(-7*time.Minute), t0.Add(-2*time.Minute))
	fake.add(lt, "straggler", t0.Add(-4*time.Minute), t0.Add(30*time.Second))
	require.NoError(t, h.runOnce(fake, &consumertest.LogsSink{}))
	fake.setNow(t0.Add(time.Minute))
	r := h.start(fake, &consumertest.LogsSink{})
	require.NoError(t, <-h.polls)
	r.telemetry.Request(lt, 200, nil)
	r.telemetry.Request(lt, 429, errors.New("too many requests"))
	r.telemetry.Request("", 0, errors.New("connection refused"))
	r.telemetry.RateLimitWait(lt, 1500*time.Millisecond)
	r.telemetry.SkippedSecond(duoapi.Administrator, t0.Unix())
	require.NoError(t, r.Shutdown(context.Background()))

	auth := attribute.NewSet(attribute.String(attrLogType, string(lt)))
	ignore := []metricdatatest.Option{metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars()}
	metadatatest.AssertEqualDuoReceiverRecordsReceived(t, tt, []metricdata.DataPoint[int64]{{Attributes: auth, Value: 15 + 16}}, ignore...)
	metadatatest.AssertEqualDuoReceiverRecordsDuplicate(t, tt, []metricdata.DataPoint[int64]{{Attributes: auth, Value: 15}}, ignore...)
	metadatatest.AssertEqualDuoReceiverCursorLag(t, tt, []metricdata.DataPoint[float64]{{Attributes: auth, Value: (2*time.Minute - time.Millisecond).Seconds()}}, ignore...)
	metadatatest.AssertEqualDuoReceiverRequests(t, tt, []metricdata.DataPoint[int64]{
		{Attributes: attribute.NewSet(attribute.String(attrLogType, "authentication"), attribute.Int(attrHTTPStatus, 200)), Value: 1},
		{Attributes: attribute.NewSet(attribute.String(attrLogType, "authentication"), attribute.Int(attrHTTPStatus, 429)), Value: 1},
		{Attributes: attribute.NewSet(attribute.String(attrLogType, logTypeInfo), attribute.Int(attrHTTPStatus, 0)), Value: 1},
	}, ignore...)
	metadatatest.AssertEqualDuoReceiverRateLimitWait(t, tt, []metricdata.DataPoint[float64]{{Attributes: auth, Value: 1.5}}, ignore...)
	metadatatest.AssertEqualDuoReceiverV1SecondsSkipped(t, tt, []metricdata.DataPoint[int64]{
		{Attributes: attribute.NewSet(attribute.String(attrLogType, "administrator")), Value: 1},
	}, ignore...)
}

// TestTelemetryChildren: cursor lag carries each child's account id; the other metrics
// are summed over children.
func TestTelemetryChildren(t *testing.T) {
	tt := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tt.Shutdown(context.Background())) })
	tel, err := newReceiverTelemetry(metadatatest.NewSettings(tt).TelemetrySettings)
	require.NoError(t, err)
	lt := duoapi.Authentication
	tel.cursorLag(lt, "DA1", 3*time.Second)
	tel.cursorLag(lt, "DA2", 5*time.Second)
	tel.records(lt, pageCounts{received: 4})
	tel.records(lt, pageCounts{received: 6})

	ignore := []metricdatatest.Option{metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars()}
	child := func(id string) attribute.Set {
		return attribute.NewSet(attribute.String(attrLogType, string(lt)), attribute.String(attrAccountID, id))
	}
	metadatatest.AssertEqualDuoReceiverCursorLag(t, tt, []metricdata.DataPoint[float64]{
		{Attributes: child("DA1"), Value: 3}, {Attributes: child("DA2"), Value: 5},
	}, ignore...)
	metadatatest.AssertEqualDuoReceiverRecordsReceived(t, tt, []metricdata.DataPoint[int64]{
		{Attributes: attribute.NewSet(attribute.String(attrLogType, string(lt))), Value: 10},
	}, ignore...)
	tel.shutdown()
}
