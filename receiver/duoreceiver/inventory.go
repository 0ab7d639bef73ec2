// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoreceiver

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"time"

	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver/receiverhelper"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/duoapi"
	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/mapping"
	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/metadata"
)

// inventoryAPI is the part of the Duo API client the snapshots use; tests inject fakes.
type inventoryAPI interface {
	List(ctx context.Context, r duoapi.Resource, fn func(duoapi.Page) error) error
	Get(ctx context.Context, r duoapi.Resource) (string, error)
}

// Snapshot outcomes, the outcome attribute of duo_receiver_inventory_snapshots.
const (
	snapshotComplete = "complete"
	// snapshotPartial: every resource read was read in full, but Duo refused one or more
	// (403): their gauges are missing, the others are sent.
	snapshotPartial = "partial"
	// snapshotFailed: a page still failed after retries; no gauges from this snapshot.
	snapshotFailed = "failed"
)

// inventorySource is the health source of the snapshots.
const inventorySource duoapi.LogType = "inventory"

// snapshotter reads the inventory on its own goroutine, one snapshot per interval, each
// resource page by page into the posture counters and, with entity_logs, into the logs
// pipeline: it never holds more than a page of objects. It shares the API client (and so
// the credentials) with the log pollers, but not their budgets, and no lock: neither
// can stall the other.
type snapshotter struct {
	api      inventoryAPI
	cfg      InventoryConfig
	logs     consumer.Logs    // nil: no entity logs
	metrics  consumer.Metrics // nil: no posture metrics
	mb       *metadata.MetricsBuilder
	obsrecv  *receiverhelper.ObsReport
	tel      *receiverTelemetry
	health   *health
	resource mapping.Resource
	logger   *zap.Logger
	now      func() time.Time
	// refused holds the resources Duo answered 403 and that were not read since: each is
	// warned about once, then retried quietly every interval.
	refused map[duoapi.Resource]bool
	// onSnapshot, when set (tests), is called after every snapshot.
	onSnapshot func(outcome string, err error)
}

// run takes a snapshot at once, then one every interval, until ctx is done.
func (s *snapshotter) run(ctx context.Context) {
	t := time.NewTicker(s.cfg.Interval)
	defer t.Stop()
	for {
		outcome, err := s.snapshot(ctx)
		if ctx.Err() != nil {
			return
		}
		if s.onSnapshot != nil {
			s.onSnapshot(outcome, err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// snapshot reads every enabled resource once. A resource refused with 403 is skipped; any
// other failure abandons the snapshot: entity records already sent stay sent, but no
// gauge is recorded, since a partial count would show a false drop in coverage.
func (s *snapshotter) snapshot(ctx context.Context) (string, error) {
	snap := mapping.Snapshot{ID: rand.Text(), Time: s.now(), Interval: s.cfg.Interval}
	posture := mapping.NewPosture(snap.Time, s.cfg.InactiveAfter)
	logger := s.logger.With(zap.String("snapshot_id", snap.ID))
	outcome := snapshotComplete
	for _, r := range duoapi.Resources {
		if !s.cfg.Resources.enabled(r) {
			continue
		}
		_, err := s.read(ctx, r, snap, posture, logger)
		var fe *duoapi.ForbiddenError
		switch {
		case err == nil:
			posture.Read(r)
			if s.refused[r] {
				delete(s.refused, r)
				logger.Info("inventory resource readable again", zap.String("resource", string(r)))
			}
		case errors.As(err, &fe):
			outcome = snapshotPartial
			if !s.refused[r] {
				s.refused[r] = true
				logger.Warn("duo refused an inventory resource; grant the permission to the Admin API application, or disable the resource; it is retried every interval",
					zap.String("resource", string(r)), zap.String("permission", fe.Permission), zap.Error(err))
			} else {
				logger.Debug("inventory resource still refused", zap.String("resource", string(r)))
			}
		case ctx.Err() != nil:
			return "", ctx.Err()
		default:
			s.tel.snapshot(snapshotFailed)
			s.health.failed(inventorySource, err)
			logger.Warn("inventory snapshot abandoned: no posture metrics from it; the next interval tries again",
				zap.String("resource", string(r)), zap.Error(err))
			return snapshotFailed, err
		}
	}
	s.emitMetrics(ctx, posture, logger)
	s.tel.snapshot(outcome)
	s.health.succeeded(inventorySource)
	return outcome, nil
}

// read reads resource r into posture (and entity records) and returns how many objects it
// delivered.
func (s *snapshotter) read(ctx context.Context, r duoapi.Resource, snap mapping.Snapshot, posture *mapping.Posture, logger *zap.Logger) (int, error) {
	if !r.Paged() {
		raw, err := s.api.Get(ctx, r)
		if err != nil {
			return 0, err
		}
		if r == duoapi.PoliciesSummary {
			checkPolicySummary(raw, logger)
			return 1, nil
		}
		return s.deliver(ctx, r, []duoapi.Record{{Raw: raw}}, snap, posture, logger)
	}
	total := 0
	err := s.api.List(ctx, r, func(p duoapi.Page) error {
		n, err := s.deliver(ctx, r, p.Records, snap, posture, logger)
		total += n
		return err
	})
	return total, err
}

// deliver counts one page of objects and, with entity_logs, sends them. An object without
// its id, or one that does not decode, is counted undecodable and left out.
func (s *snapshotter) deliver(ctx context.Context, r duoapi.Resource, recs []duoapi.Record, snap mapping.Snapshot, posture *mapping.Posture, logger *zap.Logger) (int, error) {
	var ld plog.Logs
	var lrs plog.LogRecordSlice
	entity := s.logs != nil && mapping.HasEntity(r)
	if entity {
		ld, lrs = mapping.NewLogs(s.resource)
		lrs.EnsureCapacity(len(recs))
	}
	observed := s.now()
	bad, good := 0, 0
	var firstErr error
	for _, rec := range recs {
		err := mapping.ErrNoID
		if rec.ID != "" || !r.Paged() {
			err = posture.Add(r, rec.Raw)
		}
		if err == nil && entity {
			err = mapping.AppendEntity(lrs, r, rec, snap, observed)
		}
		if err != nil {
			bad++
			firstErr = cmpOr(firstErr, err)
			continue
		}
		good++
	}
	if bad > 0 {
		s.tel.inventoryUndecodable(r, bad)
		logger.Warn("inventory objects left out: no id, or not decodable",
			zap.String("resource", string(r)), zap.Int("count", bad), zap.Error(firstErr))
	}
	if entity && lrs.Len() > 0 {
		obsCtx := s.obsrecv.StartLogsOp(ctx)
		err := s.logs.ConsumeLogs(obsCtx, ld)
		s.obsrecv.EndLogsOp(obsCtx, "json", lrs.Len(), err)
		if err != nil {
			return good, err
		}
	}
	return good, nil
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// emitMetrics records the gauges of a finished snapshot and sends them.
func (s *snapshotter) emitMetrics(ctx context.Context, posture *mapping.Posture, logger *zap.Logger) {
	if s.metrics == nil {
		return
	}
	posture.Record(s.mb, pcommon.NewTimestampFromTime(s.now()))
	md := mapping.EmitMetrics(s.mb, s.resource)
	n := md.DataPointCount()
	if n == 0 {
		return
	}
	obsCtx := s.obsrecv.StartMetricsOp(ctx)
	err := s.metrics.ConsumeMetrics(obsCtx, md)
	s.obsrecv.EndMetricsOp(obsCtx, "json", n, err)
	if err != nil {
		logger.Warn("posture metrics refused by the pipeline", zap.Error(err))
	}
}

// checkPolicySummary warns when Duo says its policy summary is cut short
// (docs/duo-inventory.md §1.4): where each policy applies is then partly unknown.
func checkPolicySummary(raw string, logger *zap.Logger) {
	var sum struct {
		Truncated   bool `json:"response_is_truncated"`
		PolicyCount *int `json:"policy_count"`
	}
	if json.Unmarshal([]byte(raw), &sum) == nil && sum.Truncated {
		logger.Warn("duo's policy summary is truncated; where each policy applies is only partly known")
	}
}

// snapshot counts one snapshot by outcome.
func (t *receiverTelemetry) snapshot(outcome string) {
	t.tb.DuoReceiverInventorySnapshots.Add(context.Background(), 1,
		metric.WithAttributeSet(attribute.NewSet(attribute.String("outcome", outcome))))
}

// inventoryUndecodable counts inventory objects left out, by resource.
func (t *receiverTelemetry) inventoryUndecodable(r duoapi.Resource, n int) {
	t.tb.DuoReceiverInventoryObjectsUndecodable.Add(context.Background(), int64(n),
		metric.WithAttributeSet(attribute.NewSet(attribute.String("resource", string(r)))))
}

// newSnapshotter builds the inventory snapshots of one account when something consumes
// them: a metrics pipeline, or entity_logs in a logs pipeline. It returns nil for a
// logs-only receiver without entity_logs, which reads no inventory.
func (r *duoLogsReceiver) newSnapshotter(api duoAPI, h *health, res mapping.Resource, logger *zap.Logger) *snapshotter {
	ic := r.cfg.Inventory
	entity := ic.EntityLogs && r.next != nil
	if r.nextMetrics == nil && !entity {
		return nil
	}
	inv, ok := api.(inventoryAPI)
	if !ok {
		logger.Error("the Duo API client cannot read the inventory; no snapshot is taken")
		return nil
	}
	s := &snapshotter{
		api:        inv,
		cfg:        ic,
		obsrecv:    r.obsrecv,
		tel:        r.telemetry,
		health:     h,
		resource:   res,
		logger:     logger.With(zap.String("signal", "inventory")),
		now:        r.now,
		refused:    map[duoapi.Resource]bool{},
		onSnapshot: r.onSnapshot,
	}
	if entity {
		s.logs = r.next
	}
	if r.nextMetrics != nil {
		s.metrics = r.nextMetrics
		s.mb = metadata.NewMetricsBuilder(r.cfg.MetricsBuilderConfig, r.set)
	}
	return s
}

// warnInventory logs, once at start, inventory settings that cannot take effect, and a
// receiver that reads nothing: Validate passes a configuration without log types when the
// inventory is on, but in a logs pipeline alone and without entity_logs nothing takes it.
func (r *duoLogsReceiver) warnInventory() {
	if r.cfg.Inventory.EntityLogs && r.next == nil {
		r.logger.Warn("inventory.entity_logs is set but the receiver is in no logs pipeline; no entity logs are sent")
	}
	anyLogType := false
	for _, lt := range duoapi.LogTypes {
		anyLogType = anyLogType || r.cfg.Logs.byType(lt).Enabled
	}
	if r.next != nil && r.nextMetrics == nil && !anyLogType && !r.cfg.Inventory.EntityLogs {
		r.logger.Warn("nothing to read: every log type is disabled and the inventory goes nowhere; " +
			"enable a logs.<type>, set inventory.entity_logs, or add the receiver to a metrics pipeline")
	}
}
