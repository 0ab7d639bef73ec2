// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoreceiver

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver/receiverhelper"
	"go.uber.org/zap"

	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/duoapi"
	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/mapping"
)

// pollerDeps is what a poller needs from its receiver; every poller shares them.
type pollerDeps struct {
	api duoAPI
	// duoNow is Duo's clock, the one the stream arithmetic runs on; localNow dates
	// observations.
	duoNow   func() time.Time
	localNow func() time.Time
	next     consumer.Logs
	obsrecv  *receiverhelper.ObsReport
	tel      *receiverTelemetry
	health   *health
	resource mapping.Resource
	// jsonBody: each record's body is its JSON text (body: json), not a map.
	jsonBody bool
	// apiHost and storage (the storage extension, "" for memory) are named in messages.
	apiHost string
	storage string
	// onPoll, when set (tests), is called after every completed poll.
	onPoll func(duoapi.LogType, error)
	// onRefusal, when set, is told that the account refused a log type.
	onRefusal func()
}

// poller pulls one log stream on its own interval: the I/O around the arithmetic of
// stream.go. Its state is touched only by its own goroutine (and by load, before that
// goroutine starts).
type poller struct {
	deps     pollerDeps
	lt       duoapi.LogType
	interval time.Duration
	settings streamSettings
	logger   *zap.Logger
	cp       *checkpointer
	// filters is the fingerprint of this log type's server-side filters ("" for none).
	filters string
	// loaded: state holds what the storage had (or a fresh start); until then nothing is
	// read from Duo.
	loaded bool
	state  streamState
	// off: until then the child account is not asked for this log type, which it
	// refused (refusal.go).
	off refusal
}

// load reads the stored state. A missing or corrupt one starts from initial_lookback,
// which is saved at once so that a failing first pull does not push the start forward.
// When the storage extension itself fails, load returns its error and the state stays
// unknown: poll tries again before reading anything, so that a stored cursor is neither
// overwritten nor read past.
func (p *poller) load(ctx context.Context) error {
	now := p.deps.duoNow()
	st, err := p.cp.load(ctx)
	switch {
	case isStorageFailure(err):
		return err
	case err != nil:
		// The value saved below replaces it.
		p.logger.Warn("stored cursor is unreadable; starting from initial_lookback instead",
			zap.String("storage", p.deps.storage), zap.String("key", p.cp.key), zap.Error(err))
	}
	p.loaded = true
	if st != nil {
		p.state = *st
		if p.state.filters != p.filters {
			p.logger.Warn("server-side filters changed since the cursor was saved; the cursor is kept, "+
				"so events that earlier filters left out and that are older than the cursor are not read again",
				zap.Time("cursor", p.state.cursor))
			p.state.filters = p.filters
		}
		fields := []zap.Field{zap.Time("cursor", p.state.cursor), zap.Int("seen_ids", len(p.state.seen))}
		if w := p.state.window; w != nil {
			fields = append(fields, zap.Time("window_start", w.Start), zap.Time("window_end", w.End))
		}
		p.logger.Info("resuming from stored cursor", fields...)
		p.recordLag(now)
		return nil
	}
	p.state = initialState(now, p.settings)
	p.state.filters = p.filters
	p.logger.Info("no stored cursor; starting from initial_lookback", zap.Time("start", p.state.cursor))
	p.recordLag(now)
	if err := p.cp.save(ctx, &p.state); err != nil {
		return &storageFailure{err: err}
	}
	return nil
}

// run polls at once, then every pull_interval, until ctx ends.
func (p *poller) run(ctx context.Context) {
	ticker := time.NewTicker(p.interval)
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

// poll runs one pull, after loading the state if it is still unknown, and reports the
// outcome.
func (p *poller) poll(ctx context.Context) {
	if p.off.active(p.deps.localNow()) {
		return
	}
	var err error
	if !p.loaded {
		err = p.load(ctx)
	}
	if p.loaded {
		err = errors.Join(err, p.pull(ctx))
	}
	if ctx.Err() != nil {
		return // shutting down: not a failure
	}
	err = p.report(err)
	if p.deps.onPoll != nil {
		p.deps.onPoll(p.lt, err)
	}
}

// report logs the outcome of a pull and sets the component status; it returns the error
// as the status tells it. API trouble and storage trouble are recoverable errors, each
// with its own message; a refusal by the next consumer (back pressure) is logged but says
// nothing about Duo or the storage.
func (p *poller) report(err error) error {
	switch {
	case err == nil:
		p.off.served(p.logger)
		p.deps.health.succeeded(p.lt)
	case p.deps.resource.AccountID != "" && isRefusal(err):
		p.off.refused(p.deps.localNow(), p.logger, err)
		if p.deps.onRefusal != nil {
			p.deps.onRefusal()
		}
		p.deps.health.succeeded(p.lt) // the child does not serve it: not a failure
		return nil
	case errors.Is(err, errConsume):
		p.logger.Error("pull stopped: the next consumer refused the logs; the cursor stays at what was delivered", zap.Error(err))
	case isStorageFailure(err):
		msg := "failed to save the cursor in the storage extension; a restart may deliver some events again"
		if isStorageRead(err) {
			msg = "failed to read the cursor from the storage extension; reading nothing from duo until it answers"
		}
		err = storageError(p.lt, p.deps.storage, err)
		p.logger.Error(msg, zap.String("storage", p.deps.storage), zap.Error(err))
		p.deps.health.failed(p.lt, err)
	case duoapi.IsCredentialsError(err):
		err = credentialsError("log type "+string(p.lt), p.deps.apiHost, err)
		p.logger.Error("pull failed: duo rejected the credentials; check integration_key, secret_key and api_hostname",
			zap.String("api_hostname", p.deps.apiHost), zap.Error(err))
		p.deps.health.failed(p.lt, err)
	default:
		p.logger.Error("pull failed; the cursor stays at what was delivered, retrying at the next interval", zap.Error(err))
		p.deps.health.failed(p.lt, err)
	}
	return err
}

// pull finishes the window in progress, if any, then reads a fresh window up to now-delay.
func (p *poller) pull(ctx context.Context) error {
	if w := p.state.window; w != nil {
		if p.state.dropStaleWindow(p.deps.duoNow()) {
			p.logger.Warn("in-progress window is now outside Duo's retention; reading again from the retention edge",
				zap.Time("window_start", w.Start))
		} else if err := p.readWindow(ctx, p.deps.duoNow()); err != nil {
			return err
		}
	}

	now := p.deps.duoNow()
	skipped, ok := p.state.openWindow(now, p.settings)
	if skipped > 0 {
		p.logger.Warn("cursor is older than Duo's 180-day retention; skipping to the retention edge",
			zap.Time("cursor", p.state.cursor), zap.Duration("skipped", skipped))
		p.deps.tel.retentionSkipped(p.lt, skipped)
	}
	if !ok {
		return nil
	}
	return p.readWindow(ctx, now)
}

// readWindow reads the current window page by page. Each page goes to the next consumer,
// then the state (position in the window, or the cursor after the last page) is saved.
func (p *poller) readWindow(ctx context.Context, now time.Time) error {
	w := p.state.window
	p.state.pruneBefore(w.Start)
	keep := keepAfter(*w, now, p.settings)
	win := duoapi.Window{Start: w.Start, End: w.End, From: w.From}
	p.logger.Debug("reading window", zap.Time("start", w.Start), zap.Time("end", w.End), zap.Bool("resumed", w.From != nil))
	return p.deps.api.Fetch(ctx, p.lt, win, func(page duoapi.Page) error {
		return p.deliver(ctx, page, keep)
	})
}

// deliver hands one page to the next consumer and then saves the new state.
func (p *poller) deliver(ctx context.Context, page duoapi.Page, keep time.Time) error {
	ld, fresh := p.mapPage(page)
	if n := ld.LogRecordCount(); n > 0 {
		obsCtx := p.deps.obsrecv.StartLogsOp(ctx)
		err := p.deps.next.ConsumeLogs(obsCtx, ld)
		p.deps.obsrecv.EndLogsOp(obsCtx, "json", n, err)
		if err != nil {
			return fmt.Errorf("%w: %w", errConsume, err)
		}
		p.deps.tel.eventAge(p.lt, p.deps.localNow(), fresh)
	}
	if p.state.accept(fresh, page.Next, keep, p.settings) {
		p.recordLag(p.deps.duoNow())
	}
	// The page is delivered: save even if Shutdown cancelled ctx meanwhile, or a restart
	// would deliver it again.
	if err := p.cp.save(context.WithoutCancel(ctx), &p.state); err != nil {
		return &storageFailure{err: err}
	}
	return nil
}

// mapPage maps the records of a page not delivered before, and returns them with their
// ids and event times.
func (p *poller) mapPage(page duoapi.Page) (plog.Logs, map[string]time.Time) {
	observed := p.deps.localNow()
	ld, records := mapping.NewLogs(p.deps.resource)
	fresh := make(map[string]time.Time, len(page.Records))
	c := pageCounts{received: len(page.Records)}
	for _, rec := range page.Records {
		if rec.ID != "" {
			if _, inPage := fresh[rec.ID]; inPage || p.state.delivered(rec.ID) {
				c.duplicates++
				continue
			}
			fresh[rec.ID] = rec.Time
		}
		var rawBody bool
		var err error
		if p.deps.jsonBody {
			err = mapping.AppendJSON(records, p.lt, rec, observed)
		} else {
			rawBody, err = mapping.Append(records, p.lt, rec, observed)
		}
		switch {
		case err != nil:
			c.undecodable++
			p.logger.Warn("dropping a record that cannot be decoded", zap.String("id", rec.ID), zap.Error(err))
		case rawBody:
			c.rawBody++
			p.logger.Warn("record nests too deeply for a structured body, delivered it as a JSON string",
				zap.String("id", rec.ID), zap.Int("max_depth", mapping.MaxDepth))
		}
	}
	p.deps.tel.records(p.lt, c)
	return ld, fresh
}

func (p *poller) recordLag(now time.Time) {
	p.deps.tel.cursorLag(p.lt, p.deps.resource.AccountID, now.Sub(p.state.cursor))
}
