// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoreceiver

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/duoapi"
)

var (
	streamNow = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	// edge is the oldest start the receiver asks for at streamNow.
	edge = streamNow.Add(-retentionSafety)
	v2   = streamSettings{delay: 2 * time.Minute, window: 6 * time.Minute, lookback: 6 * time.Minute}
	v1   = streamSettings{delay: 2 * time.Minute, window: 7 * time.Minute, lookback: 7 * time.Minute, v1: true}
)

func TestNewStreamSettings(t *testing.T) {
	cfg := validConfig()
	cfg.Delay = 3 * time.Minute
	cfg.Logs.Administrator.Window = 9 * time.Minute
	assert.Equal(t, streamSettings{delay: 3 * time.Minute, window: 9 * time.Minute, lookback: 9 * time.Minute, v1: true},
		newStreamSettings(cfg, duoapi.Administrator))
	cfg.InitialLookback = 48 * time.Hour
	assert.Equal(t, streamSettings{delay: 3 * time.Minute, window: cfg.Logs.Authentication.Window, lookback: 48 * time.Hour},
		newStreamSettings(cfg, duoapi.Authentication))
}

func TestInitialState(t *testing.T) {
	tests := []struct {
		name     string
		lookback time.Duration
		want     time.Time
	}{
		{name: "window", lookback: 6 * time.Minute, want: streamNow.Add(-6 * time.Minute)},
		{name: "long lookback", lookback: 30 * 24 * time.Hour, want: streamNow.Add(-30 * 24 * time.Hour)},
		{name: "180 days is clamped to the retention edge", lookback: maxLookback, want: edge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := initialState(streamNow, streamSettings{lookback: tt.lookback})
			assert.Equal(t, tt.want, st.cursor)
			assert.Nil(t, st.window)
			assert.NotNil(t, st.seen)
		})
	}
}

func TestClampToRetention(t *testing.T) {
	tests := []struct {
		name        string
		start       time.Time
		want        time.Time
		wantSkipped time.Duration
	}{
		{name: "recent", start: streamNow.Add(-time.Hour), want: streamNow.Add(-time.Hour)},
		{name: "at the edge", start: edge, want: edge},
		{name: "a second past the edge", start: edge.Add(-time.Second), want: edge, wantSkipped: time.Second},
		{name: "200 days ago", start: streamNow.Add(-200 * 24 * time.Hour), want: edge, wantSkipped: edge.Sub(streamNow.Add(-200 * 24 * time.Hour))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, skipped := clampToRetention(tt.start, streamNow)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.wantSkipped, skipped)
		})
	}
}

func TestOpenWindow(t *testing.T) {
	end := streamNow.Add(-v2.delay)
	tests := []struct {
		name        string
		cursor      time.Time
		s           streamSettings
		want        *windowState
		wantSkipped time.Duration
	}{
		{
			name:   "live: the window re-reads its span before now-delay",
			cursor: end.Add(-time.Minute),
			s:      v2,
			want:   &windowState{Start: end.Add(-v2.window), End: end},
		},
		{
			name:   "backfill: the window starts at the cursor",
			cursor: streamNow.Add(-3 * time.Hour),
			s:      v2,
			want:   &windowState{Start: streamNow.Add(-3 * time.Hour), End: end},
		},
		{
			name:        "cursor outside retention: clamped, the skip reported",
			cursor:      edge.Add(-24 * time.Hour),
			s:           v2,
			want:        &windowState{Start: edge, End: end},
			wantSkipped: 24 * time.Hour,
		},
		{
			name:   "nothing to read: a delay longer than the window's span",
			cursor: end,
			s:      streamSettings{delay: 2 * time.Minute},
		},
		{
			name:   "nothing to read: the cursor is past now-delay",
			cursor: end.Add(time.Second),
			s:      streamSettings{delay: 2 * time.Minute},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := streamState{cursor: tt.cursor}
			skipped, ok := st.openWindow(streamNow, tt.s)
			assert.Equal(t, tt.want, st.window)
			assert.Equal(t, tt.want != nil, ok)
			assert.Equal(t, tt.wantSkipped, skipped)
			assert.Equal(t, tt.cursor, st.cursor, "opening a window leaves the cursor alone")
		})
	}
}

func TestDropStaleWindow(t *testing.T) {
	pos := &duoapi.Position{Offset: "1000"}
	tests := []struct {
		name   string
		st     streamState
		want   streamState
		wantOK bool
	}{
		{name: "no window", st: streamState{cursor: streamNow}, want: streamState{cursor: streamNow}},
		{
			name: "resumed window inside retention is kept",
			st:   streamState{cursor: streamNow.Add(-time.Hour), window: &windowState{Start: streamNow.Add(-time.Hour), End: streamNow, From: pos}},
			want: streamState{cursor: streamNow.Add(-time.Hour), window: &windowState{Start: streamNow.Add(-time.Hour), End: streamNow, From: pos}},
		},
		{
			name:   "resumed window past retention becomes a cursor at its start",
			st:     streamState{cursor: edge.Add(-48 * time.Hour), window: &windowState{Start: edge.Add(-time.Hour), End: edge.Add(time.Hour), From: pos}},
			want:   streamState{cursor: edge.Add(-time.Hour)},
			wantOK: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := tt.st
			assert.Equal(t, tt.wantOK, st.dropStaleWindow(streamNow))
			assert.Equal(t, tt.want, st)
		})
	}
}

func TestKeepAfter(t *testing.T) {
	end := streamNow.Add(-2 * time.Minute).Add(500 * time.Millisecond)
	tests := []struct {
		name string
		w    windowState
		s    streamSettings
		want time.Time
	}{
		{
			name: "live v2: what the next window re-reads",
			w:    windowState{Start: end.Add(-6 * time.Minute), End: end},
			s:    v2,
			want: streamNow.Add(-v2.delay - v2.window - time.Second),
		},
		{
			name: "backfill v2: nothing before the cursor after the window",
			w:    windowState{Start: streamNow.Add(-5 * time.Hour), End: streamNow.Add(-4 * time.Hour)},
			s:    v2,
			want: streamNow.Add(-4 * time.Hour).Add(time.Millisecond),
		},
		{
			name: "backfill v1: the end second is read again",
			w:    windowState{Start: streamNow.Add(-5 * time.Hour), End: streamNow.Add(-4 * time.Hour).Add(700 * time.Millisecond)},
			s:    v1,
			want: streamNow.Add(-4 * time.Hour),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, keepAfter(tt.w, streamNow, tt.s))
		})
	}
}

func TestPruneBefore(t *testing.T) {
	start := streamNow.Add(-time.Hour)
	st := streamState{seen: map[string]time.Time{
		"old":        start.Add(-time.Minute),
		"margin-out": start.Add(-time.Second - time.Millisecond),
		"margin-in":  start.Add(-time.Second),
		"inside":     start.Add(time.Minute),
	}}
	st.pruneBefore(start)
	assert.Equal(t, map[string]time.Time{"margin-in": start.Add(-time.Second), "inside": start.Add(time.Minute)}, st.seen)
	assert.True(t, st.delivered("inside"))
	assert.False(t, st.delivered("old"))
}

func TestAccept(t *testing.T) {
	end := streamNow.Add(-2 * time.Minute).Add(700 * time.Millisecond)
	start := end.Add(-6 * time.Minute)
	keep := end.Add(-time.Minute)
	fresh := map[string]time.Time{"a": keep.Add(-time.Millisecond), "b": keep, "c": end}
	next := &duoapi.Position{Offset: "1000"}
	tests := []struct {
		name     string
		s        streamSettings
		next     *duoapi.Position
		want     streamState
		wantDone bool
	}{
		{
			name: "a middle page moves the position",
			s:    v2,
			next: next,
			want: streamState{
				cursor: start,
				window: &windowState{Start: start, End: end, From: next},
				seen:   map[string]time.Time{"b": keep, "c": end},
			},
		},
		{
			name:     "the last v2 page closes the window one millisecond past its end",
			s:        v2,
			want:     streamState{cursor: end.Add(time.Millisecond), seen: map[string]time.Time{"b": keep, "c": end}},
			wantDone: true,
		},
		{
			name:     "the last v1 page closes the window at its end's whole second",
			s:        v1,
			want:     streamState{cursor: end.Truncate(time.Second), seen: map[string]time.Time{"b": keep, "c": end}},
			wantDone: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := streamState{cursor: start, window: &windowState{Start: start, End: end}}
			assert.Equal(t, tt.wantDone, st.accept(fresh, tt.next, keep, tt.s))
			assert.Equal(t, tt.want, st)
			if tt.next != nil {
				assert.NotSame(t, tt.next, st.window.From, "the state must not alias the page's position")
			}
		})
	}
}

// TestStreamSequence walks a stream through a backfill and the live pulls after it with
// the pure functions alone, as the poller would: each event is read, at last, exactly
// once, even the one that surfaces after its window was read.
func TestStreamSequence(t *testing.T) {
	for _, s := range []streamSettings{v2, v1} {
		t.Run(map[bool]string{false: "v2", true: "v1"}[s.v1], func(t *testing.T) {
			st := initialState(streamNow, streamSettings{lookback: time.Hour})
			type event struct {
				id      string
				t, seen time.Time // event time, and when Duo makes it visible
			}
			events := []event{
				{id: "backfill", t: streamNow.Add(-50 * time.Minute), seen: streamNow.Add(-50 * time.Minute)},
				{id: "late", t: streamNow.Add(-3 * time.Minute), seen: streamNow.Add(3 * time.Minute)},
				{id: "live", t: streamNow.Add(2 * time.Minute), seen: streamNow.Add(2 * time.Minute)},
			}
			got := map[string]int{}
			for now := streamNow; now.Before(streamNow.Add(30 * time.Minute)); now = now.Add(5 * time.Minute) {
				if _, ok := st.openWindow(now, s); !ok {
					continue
				}
				w := *st.window
				st.pruneBefore(w.Start)
				keep := keepAfter(w, now, s)
				fresh := map[string]time.Time{}
				for _, e := range events {
					if e.t.Before(w.Start) || e.t.After(w.End) || e.seen.After(now) || st.delivered(e.id) {
						continue
					}
					got[e.id]++
					fresh[e.id] = e.t
				}
				assert.True(t, st.accept(fresh, nil, keep, s))
			}
			assert.Equal(t, map[string]int{"backfill": 1, "late": 1, "live": 1}, got)
		})
	}
}
