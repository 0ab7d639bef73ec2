// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoreceiver

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/duoapi"
	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/mapping"
)

// poller pulls one log stream on its own interval. Its state is touched only by its own
// goroutine (and by load, before that goroutine starts).
type poller struct {
	r       *duoLogsReceiver
	lt      duoapi.LogType
	cfg     LogTypeConfig
	fetcher logFetcher
	logger  *zap.Logger
	cp      *checkpointer
	state   streamState
}

// errConsume marks a refusal by the next consumer, as opposed to API trouble.
var errConsume = errors.New("next consumer refused the logs")

// load reads the stored state. A missing or unreadable one starts from initial_lookback,
// which is saved at once so that a failing first pull does not push the start forward.
func (p *poller) load(ctx context.Context) {
	now := p.r.now()
	st, err := p.cp.load(ctx)
	if err != nil {
		// The value saved below replaces it.
		p.logger.Warn("stored cursor is unreadable; starting from initial_lookback instead",
			zap.String("key", p.cp.key), zap.Error(err))
	}
	if st != nil {
		p.state = *st
		fields := []zap.Field{zap.Time("cursor", p.state.cursor), zap.Int("seen_ids", len(p.state.seen))}
		if w := p.state.window; w != nil {
			fields = append(fields, zap.Time("window_start", w.Start), zap.Time("window_end", w.End))
		}
		p.logger.Info("resuming from stored cursor", fields...)
		p.recordLag(now)
		return
	}
	start := now.Add(-p.r.cfg.lookback(p.lt))
	if oldest := now.Add(-retentionSafety); start.Before(oldest) {
		start = oldest
	}
	p.state = streamState{cursor: start, seen: map[string]time.Time{}}
	p.logger.Info("no stored cursor; starting from initial_lookback", zap.Time("start", start))
	if err := p.cp.save(ctx, &p.state); err != nil {
		p.logger.Warn("failed to save initial cursor", zap.Error(err))
	}
	p.recordLag(now)
}

// run polls at once, then every pull_interval, until ctx ends.
func (p *poller) run(ctx context.Context) {
	ticker := time.NewTicker(p.cfg.PullInterval)
	defer ticker.Stop()
	for {
		p.poll(ctx)
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// poll runs one pull and reports its outcome. API trouble is a recoverable error; a
// refusal by the next consumer (back pressure) is logged but says nothing about Duo.
func (p *poller) poll(ctx context.Context) {
	err := p.pull(ctx)
	if ctx.Err() != nil {
		return // shutting down: not a failure
	}
	switch {
	case errors.Is(err, errConsume):
		err = p.describe(err)
	case err != nil:
		err = p.describe(err)
		p.r.health.failed(p.lt, err)
	default:
		p.r.health.succeeded(p.lt)
	}
	if p.r.onPoll != nil {
		p.r.onPoll(p.lt, err)
	}
}

// describe logs a failed pull and returns the error for the status event. Rejected
// credentials get a message that says which settings to check.
func (p *poller) describe(err error) error {
	switch {
	case errors.Is(err, errConsume):
		p.logger.Error("pull stopped: the next consumer refused the logs; the cursor stays at what was delivered", zap.Error(err))
	case isCredentialsError(err):
		err = fmt.Errorf("duo rejected the credentials for log type %s: check integration_key, secret_key and api_hostname %q (and that the Admin API application has Grant read log): %w",
			p.lt, p.r.cfg.host(), err)
		p.logger.Error("pull failed: duo rejected the credentials; check integration_key, secret_key and api_hostname",
			zap.String("api_hostname", p.r.cfg.host()), zap.Error(err))
	default:
		p.logger.Error("pull failed; the cursor stays at what was delivered, retrying at the next interval", zap.Error(err))
	}
	return err
}

// pull finishes the window in progress, if any, then reads a fresh window up to now-delay.
func (p *poller) pull(ctx context.Context) error {
	for {
		now := p.r.now()
		resumed := p.state.window != nil
		if resumed && p.state.window.Start.Before(now.Add(-retentionSafety)) {
			// Duo would refuse its mintime; restart it from the retention edge.
			p.logger.Warn("in-progress window is now outside Duo's retention; reading again from the retention edge",
				zap.Time("window_start", p.state.window.Start))
			p.state.cursor, p.state.window = p.state.window.Start, nil
			resumed = false
		}
		if !resumed && !p.openWindow(now) {
			return nil
		}
		if err := p.readWindow(ctx, now); err != nil {
			return err
		}
		if !resumed {
			return nil
		}
	}
}

// openWindow sets the window of a fresh pull, [min(cursor, now-delay-window), now-delay],
// kept inside Duo's retention. It returns false when there is nothing to read.
func (p *poller) openWindow(now time.Time) bool {
	end := now.Add(-p.r.cfg.Delay)
	start := end.Add(-p.cfg.Window)
	if p.state.cursor.Before(start) {
		start = p.state.cursor
	}
	if oldest := now.Add(-retentionSafety); start.Before(oldest) {
		skipped := oldest.Sub(start)
		p.logger.Warn("cursor is older than Duo's 180-day retention; skipping to the retention edge",
			zap.Time("cursor", start), zap.Time("retention_edge", oldest), zap.Duration("skipped", skipped))
		p.r.telemetry.retentionSkipped(p.lt, skipped)
		start = oldest
	}
	if !end.After(start) {
		return false
	}
	p.state.window = &windowState{Start: start, End: end}
	return true
}

// readWindow reads the current window page by page. Each page goes to the next consumer,
// then the state (position in the window, or the cursor after the last page) is saved.
func (p *poller) readWindow(ctx context.Context, now time.Time) error {
	w := p.state.window
	// Ids of events older than the window's start cannot come again: this window and
	// every later one start at or after it. (One second of margin for whole-second v1 times.)
	p.prune(w.Start.Add(-time.Second))
	// Of this window's events, keep the ids a later window may read again. A later
	// window starts at min(cursor, now'-delay-window) with now' >= now and cursor >=
	// cursorAfter(w.End): for the v2 endpoints past everything delivered here, for the v1
	// endpoints the end second itself, which is read again.
	keepAfter := now.Add(-p.r.cfg.Delay - p.cfg.Window - time.Second)
	if c := p.cursorAfter(w.End); c.Before(keepAfter) {
		keepAfter = c
	}
	win := duoapi.Window{Start: w.Start, End: w.End, From: w.From}
	p.logger.Debug("reading window", zap.Time("start", w.Start), zap.Time("end", w.End), zap.Bool("resumed", w.From != nil))
	return p.fetcher.Fetch(ctx, p.lt, win, func(page duoapi.Page) error {
		return p.deliver(ctx, page, keepAfter)
	})
}

func (p *poller) prune(keepAfter time.Time) {
	for id, t := range p.state.seen {
		if t.Before(keepAfter) {
			delete(p.state.seen, id)
		}
	}
}

// deliver hands one page to the next consumer and then saves the new state.
func (p *poller) deliver(ctx context.Context, page duoapi.Page, keepAfter time.Time) error {
	observed := p.r.now()
	ld, records := mapping.NewLogs(p.r.resource)
	fresh := make(map[string]time.Time, len(page.Records))
	var duplicates, undecodable int
	for _, rec := range page.Records {
		if rec.ID != "" {
			_, delivered := p.state.seen[rec.ID]
			_, inPage := fresh[rec.ID]
			if delivered || inPage {
				duplicates++
				continue
			}
			fresh[rec.ID] = rec.Time
		}
		if err := mapping.Append(records, string(p.lt), rec.Raw, rec.Time, observed); err != nil {
			undecodable++
			p.logger.Warn("dropping a record that cannot be decoded", zap.String("id", rec.ID), zap.Error(err))
			continue
		}
		if rec.ID != "" {
			// The Duo event id is stable across reads, which is exactly what the semantic
			// convention log.record.uid asks for: records with the same uid are duplicates
			// and may be removed. It lets a backend drop the one repeat no cursor can
			// prevent: a page it stored whose answer a killed collector never read.
			records.At(records.Len()-1).Attributes().PutStr(attrLogRecordUID, rec.ID)
		}
	}
	p.r.telemetry.records(p.lt, len(page.Records), duplicates, undecodable)

	if n := records.Len(); n > 0 {
		obsCtx := p.r.obsrecv.StartLogsOp(ctx)
		err := p.r.next.ConsumeLogs(obsCtx, ld)
		p.r.obsrecv.EndLogsOp(obsCtx, "json", n, err)
		if err != nil {
			return fmt.Errorf("%w: %w", errConsume, err)
		}
		p.r.telemetry.eventAge(p.lt, p.r.now(), fresh)
	}

	if p.state.seen == nil {
		p.state.seen = map[string]time.Time{}
	}
	for id, t := range fresh {
		if !t.Before(keepAfter) {
			p.state.seen[id] = t
		}
	}
	if page.Next == nil {
		p.state.cursor = p.cursorAfter(p.state.window.End)
		p.state.window = nil
		p.recordLag(p.r.now())
	} else {
		next := *page.Next
		p.state.window.From = &next
	}
	// The page is delivered: save even if Shutdown cancelled ctx meanwhile, or a restart
	// would deliver it again.
	return p.cp.save(context.WithoutCancel(ctx), &p.state)
}

// cursorAfter is where the next window starts once a window ending at end is complete:
// end + 1 ms, both bounds being inclusive (API.md 4.1); for the v1 endpoints, whose records
// have whole-second times and whose mintime is in seconds, the end's second, re-read and
// de-duplicated, so that events of that second surfacing late are not lost (API.md 4.2).
func (p *poller) cursorAfter(end time.Time) time.Time {
	if p.lt.V1() {
		return end.Truncate(time.Second)
	}
	return end.Add(time.Millisecond)
}

func (p *poller) recordLag(now time.Time) {
	p.r.telemetry.cursorLag(p.lt, now.Sub(p.state.cursor))
}

// attrLogRecordUID is the semantic-convention key for a record's unique id.
const attrLogRecordUID = "log.record.uid"
