// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoreceiver

import (
	"time"

	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/duoapi"
)

// This file is the cursor arithmetic of one log stream: where a window opens, what a
// resumed window becomes, how the state moves once a page is delivered, which ids must be
// remembered. It does no I/O; now is always Duo's clock (the local clock corrected by the
// offset the API client learned), the clock Duo judges mintime and retention by.

// streamSettings are the settings the arithmetic of one stream depends on.
type streamSettings struct {
	// delay is Duo's availability delay: a window ends at now-delay.
	delay time.Duration
	// window is how much history a fresh window re-reads at least.
	window time.Duration
	// lookback is the span of the first window when nothing is stored.
	lookback time.Duration
	// v1 marks the endpoints with whole-second times and a mintime in seconds (docs/duo-api.md §4.2).
	v1 bool
}

func newStreamSettings(cfg *Config, lt duoapi.LogType) streamSettings {
	return streamSettings{
		delay:    cfg.Delay,
		window:   cfg.Logs.byType(lt).Window,
		lookback: cfg.lookback(lt),
		v1:       lt.V1(),
	}
}

// streamState is where one log stream stands: everything before cursor was delivered,
// except that an in-progress window (read page by page) takes precedence.
type streamState struct {
	// cursor is where the next window starts (inclusive).
	cursor time.Time
	// window is a window some pages of which were delivered; it is finished first.
	window *windowState
	// seen holds the ids of delivered records that a later, overlapping window may read
	// again, with their event times (for pruning).
	seen map[string]time.Time
	// filters is the fingerprint of the server-side filters the cursor moved under ("" for
	// none): the cursor does not depend on them, but a change is worth a word at start.
	filters string
}

// windowState is a window in progress.
type windowState struct {
	Start time.Time        `json:"start"`
	End   time.Time        `json:"end"`
	From  *duoapi.Position `json:"from,omitempty"`
}

// clampToRetention is the one retention clamp: start, or the oldest time the receiver
// asks Duo for if start is older, and how much history that skips.
func clampToRetention(start, now time.Time) (time.Time, time.Duration) {
	if oldest := now.Add(-retentionSafety); start.Before(oldest) {
		return oldest, oldest.Sub(start)
	}
	return start, 0
}

// initialState is the state of a stream with nothing stored: lookback before now, kept
// inside Duo's retention without a word (initial_lookback may be 180 days on purpose).
func initialState(now time.Time, s streamSettings) streamState {
	start, _ := clampToRetention(now.Add(-s.lookback), now)
	return streamState{cursor: start, seen: map[string]time.Time{}}
}

// dropStaleWindow turns an in-progress window that starts outside Duo's retention back
// into a cursor at its start, for openWindow to clamp: Duo would refuse its mintime, and
// the position inside it means nothing for another window. It reports whether it did.
func (st *streamState) dropStaleWindow(now time.Time) bool {
	if st.window == nil {
		return false
	}
	if _, skipped := clampToRetention(st.window.Start, now); skipped == 0 {
		return false
	}
	st.cursor, st.window = st.window.Start, nil
	return true
}

// openWindow sets the window of a fresh pull, [min(cursor, now-delay-window), now-delay],
// kept inside Duo's retention. It returns how much history the retention clamp skipped
// and false when the window is empty (nothing to read yet).
func (st *streamState) openWindow(now time.Time, s streamSettings) (time.Duration, bool) {
	end := now.Add(-s.delay)
	start := end.Add(-s.window)
	if st.cursor.Before(start) {
		start = st.cursor
	}
	start, skipped := clampToRetention(start, now)
	if !end.After(start) {
		return skipped, false
	}
	st.window = &windowState{Start: start, End: end}
	return skipped, true
}

// keepAfter is the oldest event time, among a window's records, whose id must be kept:
// a later window may read those again. A later window starts at
// min(cursor, now'-delay-window) with now' >= now and cursor >= cursorAfter(w.End): for
// the v2 endpoints past everything delivered here, for the v1 endpoints the end second
// itself, which is read again. One second of margin for whole-second v1 times.
func keepAfter(w windowState, now time.Time, s streamSettings) time.Time {
	keep := now.Add(-s.delay - s.window - time.Second)
	if c := cursorAfter(w.End, s.v1); c.Before(keep) {
		keep = c
	}
	return keep
}

// pruneBefore forgets the ids of events older than the window that starts at start: they
// cannot come again, this window and every later one starting at or after it. (One second
// of margin for whole-second v1 times.)
func (st *streamState) pruneBefore(start time.Time) {
	limit := start.Add(-time.Second)
	for id, t := range st.seen {
		if t.Before(limit) {
			delete(st.seen, id)
		}
	}
}

// delivered reports whether a record with this id was delivered by an earlier page.
func (st *streamState) delivered(id string) bool {
	_, ok := st.seen[id]
	return ok
}

// accept moves the state past a delivered page: the page's fresh ids at or after keep
// are remembered, and the window either moves to next or, on its last page, closes,
// the cursor moving past it. It reports whether the window closed.
func (st *streamState) accept(fresh map[string]time.Time, next *duoapi.Position, keep time.Time, s streamSettings) bool {
	if st.seen == nil {
		st.seen = map[string]time.Time{}
	}
	for id, t := range fresh {
		if !t.Before(keep) {
			st.seen[id] = t
		}
	}
	if next == nil {
		st.cursor = cursorAfter(st.window.End, s.v1)
		st.window = nil
		return true
	}
	pos := *next
	st.window.From = &pos
	return false
}

// cursorAfter is where the next window starts once a window ending at end is complete:
// end + 1 ms, both bounds being inclusive (docs/duo-api.md §4.1); for the v1 endpoints, whose records
// have whole-second times and whose mintime is in seconds, the end's second, re-read and
// de-duplicated, so that events of that second surfacing late are not lost (docs/duo-api.md §4.2).
func cursorAfter(end time.Time, v1 bool) time.Time {
	if v1 {
		return end.Truncate(time.Second)
	}
	return end.Add(time.Millisecond)
}
