// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoreceiver

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/duoapi"
	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/metadata"
)

const (
	attrLogType    = "log_type"
	attrHTTPStatus = "http.response.status_code"
	attrAccountID  = "duo.account.id"
	// logTypeInfo labels requests that read no log stream (info/summary).
	logTypeInfo = "info"
)

// receiverTelemetry records the receiver's own metrics (metadata.yaml, telemetry). It is
// also the API client's duoapi.Observer: every method is a counter update.
type receiverTelemetry struct {
	tb *metadata.TelemetryBuilder
	// attrs caches the log_type attribute set of each log type.
	attrs map[duoapi.LogType]metric.MeasurementOption
}

var _ duoapi.Observer = (*receiverTelemetry)(nil)

func newReceiverTelemetry(set component.TelemetrySettings) (*receiverTelemetry, error) {
	tb, err := metadata.NewTelemetryBuilder(set)
	if err != nil {
		return nil, err
	}
	attrs := make(map[duoapi.LogType]metric.MeasurementOption, len(duoapi.LogTypes)+1)
	for _, lt := range append([]duoapi.LogType{logTypeInfo}, duoapi.LogTypes...) {
		attrs[lt] = metric.WithAttributeSet(attribute.NewSet(attribute.String(attrLogType, string(lt))))
	}
	return &receiverTelemetry{tb: tb, attrs: attrs}, nil
}

func (t *receiverTelemetry) logType(lt duoapi.LogType) metric.MeasurementOption {
	if lt == "" {
		lt = logTypeInfo
	}
	if o, ok := t.attrs[lt]; ok {
		return o
	}
	return metric.WithAttributes(attribute.String(attrLogType, string(lt)))
}

// Request counts one HTTP attempt; status 0 is a transport error.
func (t *receiverTelemetry) Request(lt duoapi.LogType, status int, _ error) {
	if lt == "" {
		lt = logTypeInfo
	}
	t.tb.DuoReceiverRequests.Add(context.Background(), 1, metric.WithAttributes(
		attribute.String(attrLogType, string(lt)), attribute.Int(attrHTTPStatus, status)))
}

// RateLimitWait adds time spent waiting on the request budget or backing off after a 429.
func (t *receiverTelemetry) RateLimitWait(lt duoapi.LogType, wait time.Duration) {
	t.tb.DuoReceiverRateLimitWait.Add(context.Background(), wait.Seconds(), t.logType(lt))
}

// SkippedSecond counts a v1 second stepped over because a full page held only that second.
func (t *receiverTelemetry) SkippedSecond(lt duoapi.LogType, _ int64) {
	t.tb.DuoReceiverV1SecondsSkipped.Add(context.Background(), 1, t.logType(lt))
}

// SkippedRecords counts page elements the client left out because they were not JSON
// objects: records dropped as undecodable, like those the mapping cannot decode.
func (t *receiverTelemetry) SkippedRecords(lt duoapi.LogType, n int) {
	t.tb.DuoReceiverRecordsUndecodable.Add(context.Background(), int64(n), t.logType(lt))
}

// pageCounts are what one page's records came to.
type pageCounts struct {
	received, duplicates, undecodable int
	// rawBody: delivered, with their JSON text as the body, because they nest too deeply
	// for a structured one.
	rawBody int
}

func (t *receiverTelemetry) records(lt duoapi.LogType, c pageCounts) {
	ctx, attrs := context.Background(), t.logType(lt)
	t.tb.DuoReceiverRecordsReceived.Add(ctx, int64(c.received), attrs)
	if c.duplicates > 0 {
		t.tb.DuoReceiverRecordsDuplicate.Add(ctx, int64(c.duplicates), attrs)
	}
	if c.undecodable > 0 {
		t.tb.DuoReceiverRecordsUndecodable.Add(ctx, int64(c.undecodable), attrs)
	}
	if c.rawBody > 0 {
		t.tb.DuoReceiverRecordsRawBody.Add(ctx, int64(c.rawBody), attrs)
	}
}

// eventAge records, for each event of a page just accepted downstream (id to event
// time), how old it was then: what an operator alerts on when the pipeline falls behind,
// which the cursor lag alone does not show. It takes the events rather than the page's
// plog.Logs, which belong to the next consumer once it has them.
func (t *receiverTelemetry) eventAge(lt duoapi.LogType, accepted time.Time, events map[string]time.Time) {
	ctx, attrs := context.Background(), t.logType(lt)
	for _, at := range events {
		if !at.IsZero() {
			t.tb.DuoReceiverEventAge.Record(ctx, accepted.Sub(at).Seconds(), attrs)
		}
	}
}

// cursorLag records how far a stream's cursor is behind. Unlike the other metrics it
// carries the child account's id, when there is one: a stuck child shows here, and a
// parent has one series per child and log type at most.
func (t *receiverTelemetry) cursorLag(lt duoapi.LogType, accountID string, lag time.Duration) {
	attrs := t.logType(lt)
	if accountID != "" {
		attrs = metric.WithAttributes(attribute.String(attrLogType, string(lt)), attribute.String(attrAccountID, accountID))
	}
	t.tb.DuoReceiverCursorLag.Record(context.Background(), lag.Seconds(), attrs)
}

func (t *receiverTelemetry) retentionSkipped(lt duoapi.LogType, span time.Duration) {
	t.tb.DuoReceiverRetentionSkipped.Add(context.Background(), span.Seconds(), t.logType(lt))
}

func (t *receiverTelemetry) shutdown() {
	t.tb.Shutdown()
}
