// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duosim

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// apiKind is the paging family of an endpoint.
type apiKind int

const (
	kindV2 apiKind = iota // mintime/maxtime ms, next_offset cursor (docs/duo-api.md §3.1, §3.3, §3.4)
	kindV1                // mintime seconds, earliest 1000, bare array (docs/duo-api.md §3.2, §3.5)
	kindTM                // Trust Monitor: ms window on surfaced time, offset token (docs/duo-api.md §3.6)
)

// typeInfo describes one log type.
type typeInfo struct {
	name     string
	path     string
	kind     apiKind
	prec     int64 // time precision in µs
	listKey  string
	maxLimit int
	salt     uint64
}

var logTypes = []*typeInfo{
	{name: "authentication", path: "/admin/v2/logs/authentication", kind: kindV2, prec: 1, listKey: "authlogs", maxLimit: 1000, salt: 0xa17e},
	{name: "administrator", path: "/admin/v1/logs/administrator", kind: kindV1, prec: 1e6, maxLimit: 1000, salt: 0xad31},
	{name: "telephony", path: "/admin/v2/logs/telephony", kind: kindV2, prec: 1, listKey: "items", maxLimit: 1000, salt: 0x7e1e},
	{name: "activity", path: "/admin/v2/logs/activity", kind: kindV2, prec: 1, listKey: "items", maxLimit: 1000, salt: 0xac71},
	{name: "offline_enrollment", path: "/admin/v1/logs/offline_enrollment", kind: kindV1, prec: 1e6, maxLimit: 1000, salt: 0x0ff1},
	{name: "trust_monitor", path: "/admin/v1/trust_monitor/events", kind: kindTM, prec: 1e3, listKey: "events", maxLimit: 500, salt: 0x7a57},
}

// LogTypes lists the log type names the simulator knows, in docs/duo-api.md order.
func LogTypes() []string {
	out := make([]string, len(logTypes))
	for i, ti := range logTypes {
		out[i] = ti.name
	}
	return out
}

// Path returns the Admin API path the simulator serves log type lt on (the key of its
// Stats().Requests), or "" for a name it does not know.
func Path(lt string) string {
	for _, ti := range logTypes {
		if ti.name == lt {
			return ti.path
		}
	}
	return ""
}

// Event is one generated event.
type Event struct {
	LogType string
	// Time is the event time (for Trust Monitor, the surfaced time), at the
	// type's precision: µs for authentication, telephony and activity, ms
	// for Trust Monitor, seconds for the v1 types.
	Time      time.Time
	VisibleAt time.Time
	// ID is the txid, telephony_id, activity_id or sekey. For the v1 types,
	// whose records carry no id, it is a simulator sequence id that is not
	// in Raw (twins have distinct IDs and identical Raw).
	ID string
	// Raw is the record exactly as served.
	Raw []byte
}

// rec is the compact stored form of an event: its JSON is rendered from h
// (and t) on demand, deterministically.
type rec struct {
	t   int64  // event time, unix µs, truncated to the type's precision
	vis int64  // visible at, unix µs
	h   uint64 // identity and content seed; equal for twins
	seq uint64 // creation order within the type
}

func (r rec) ms() int64 { return floorDiv(r.t, 1000) }

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// store holds one log type's events, sorted by the type's serving order:
// v2 and Trust Monitor by (ms, id, seq) — the granularity of Duo's cursor,
// so a next_offset "<ms>,<id>" is an exact search-after key (docs/duo-api.md §4.1) —
// and v1 by (second, seq).
type store struct {
	ti      *typeInfo
	mu      sync.RWMutex
	recs    []rec
	late    []rec // events with vis > t + delay (stragglers), for counting
	nextSeq uint64
	nextH   uint64
}

func (st *store) less(a, b rec) int {
	if st.ti.kind == kindV1 {
		if a.t != b.t {
			return cmpInt(a.t, b.t)
		}
		return cmpU(a.seq, b.seq)
	}
	if am, bm := a.ms(), b.ms(); am != bm {
		return cmpInt(am, bm)
	}
	if a.h != b.h {
		return cmpU(a.h, b.h) // the id's string order is h's order, see idOf
	}
	return cmpU(a.seq, b.seq)
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpU(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (a *Account) storeOf(lt string) *store {
	a.ensure()
	st := a.stores[lt]
	if st == nil {
		panic(fmt.Sprintf("duosim: unknown log type %q", lt))
	}
	return st
}

// newH returns the next identity seed for the type. Must hold st.mu.
func (a *Account) newH(st *store) uint64 {
	st.nextH++
	h := mix64(a.seed ^ st.ti.salt<<32 ^ st.nextH*0x9e3779b97f4a7c15)
	// Force the UUID version nibble inside h, so the id's string order is
	// h's numeric order (see idOf).
	return h&^(0xf<<12) | 0x4<<12
}

func (st *store) trunc(t time.Time) int64 {
	us := t.UnixMicro()
	return floorDiv(us, st.ti.prec) * st.ti.prec
}

// add inserts records and keeps the order. Must hold st.mu.
func (a *Account) add(st *store, rs []rec) {
	delay := a.sim.delay.Microseconds()
	for _, r := range rs {
		if r.vis > r.t+delay {
			st.late = append(st.late, r)
		}
	}
	slices.SortFunc(rs, st.less) // keys are unique: seq breaks every tie
	switch {
	case len(st.recs) == 0 || st.less(st.recs[len(st.recs)-1], rs[0]) <= 0:
		st.recs = append(st.recs, rs...) // live events: O(1) each
	case len(rs) <= 64:
		for _, r := range rs {
			i, _ := slices.BinarySearchFunc(st.recs, r, st.less)
			st.recs = slices.Insert(st.recs, i, r)
		}
	default:
		st.recs = append(st.recs, rs...)
		slices.SortFunc(st.recs, st.less)
	}
}

func (a *Account) visibleAt(t int64) int64 { return t + a.sim.delay.Microseconds() }

// Backfill adds n events spread over [from, to), each visible Delay after
// its time.
func (a *Account) Backfill(lt string, n int, from, to time.Time) {
	st := a.storeOf(lt)
	if n <= 0 {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	span := to.Sub(from).Microseconds()
	if span <= 0 {
		span = 1
	}
	r := newRNG(a.seed^st.ti.salt, st.nextH^0xbacf11)
	base := from.UnixMicro()
	rs := make([]rec, n)
	for i := range rs {
		t := base + int64(r.next()%uint64(span))
		t = floorDiv(t, st.ti.prec) * st.ti.prec
		rs[i] = rec{t: t, vis: a.visibleAt(t), h: a.newH(st), seq: st.nextSeq}
		st.nextSeq++
	}
	a.add(st, rs)
}

// Burst adds n distinct events all within the given second.
func (a *Account) Burst(lt string, n int, second time.Time) {
	st := a.storeOf(lt)
	if n <= 0 {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	base := second.Truncate(time.Second).UnixMicro()
	r := newRNG(a.seed^st.ti.salt, st.nextH^0xb0257)
	rs := make([]rec, n)
	// v1 records have no id: make sure the burst's records differ in content,
	// or they would be twins.
	var seen map[string]bool
	if st.ti.kind == kindV1 {
		seen = make(map[string]bool, n)
	}
	for i := range rs {
		t := base + int64(r.next()%1e6)
		t = floorDiv(t, st.ti.prec) * st.ti.prec
		rs[i] = rec{t: t, vis: a.visibleAt(t), h: a.newH(st), seq: st.nextSeq}
		for tries := 0; seen != nil && tries < 100; tries++ {
			raw := string(a.render(nil, st.ti, rs[i]))
			if !seen[raw] {
				seen[raw] = true
				break
			}
			rs[i].h = a.newH(st)
		}
		st.nextSeq++
	}
	a.add(st, rs)
}

// Twins adds n byte-identical records within the given second. For the v2
// types and Trust Monitor, the twins share their id too (so a cursor that
// ends on one of them skips the rest, as it would at Duo).
func (a *Account) Twins(lt string, n int, second time.Time) {
	st := a.storeOf(lt)
	if n <= 0 {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	r := newRNG(a.seed^st.ti.salt, st.nextH^0x7715)
	t := second.Truncate(time.Second).UnixMicro() + int64(r.next()%1e6)
	t = floorDiv(t, st.ti.prec) * st.ti.prec
	h := a.newH(st)
	rs := make([]rec, n)
	for i := range rs {
		rs[i] = rec{t: t, vis: a.visibleAt(t), h: h, seq: st.nextSeq}
		st.nextSeq++
	}
	a.add(st, rs)
}

// Straggler adds one event with time t that Duo surfaces only at visibleAt.
func (a *Account) Straggler(lt string, t, visibleAt time.Time) {
	st := a.storeOf(lt)
	st.mu.Lock()
	defer st.mu.Unlock()
	a.add(st, []rec{{t: st.trunc(t), vis: visibleAt.UnixMicro(), h: a.newH(st), seq: st.nextSeq}})
	st.nextSeq++
}

// StartLive adds events to each listed type (all types when none is
// listed) at perSecond events per second per type, with event time = the
// simulator's clock, until ctx ends. It returns at once; the generating
// goroutine exits when ctx is done.
func (a *Account) StartLive(ctx context.Context, perSecond float64, lts ...string) {
	if len(lts) == 0 {
		lts = LogTypes()
	}
	stores := make([]*store, len(lts))
	for i, lt := range lts {
		stores[i] = a.storeOf(lt)
	}
	if perSecond <= 0 {
		return
	}
	go func() {
		const tick = 100 * time.Millisecond
		tk := time.NewTicker(tick)
		defer tk.Stop()
		carry := make([]float64, len(stores))
		last := a.sim.now()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tk.C:
			}
			now := a.sim.now()
			elapsed := now.Sub(last)
			if elapsed <= 0 {
				continue
			}
			for i, st := range stores {
				carry[i] += perSecond * elapsed.Seconds()
				n := int(carry[i])
				if n == 0 {
					continue
				}
				carry[i] -= float64(n)
				a.addLive(st, n, last, now)
			}
			last = now
		}
	}()
}

// addLive adds n events spread over (from, to].
func (a *Account) addLive(st *store, n int, from, to time.Time) {
	st.mu.Lock()
	defer st.mu.Unlock()
	span := to.Sub(from).Microseconds()
	r := newRNG(a.seed^st.ti.salt, st.nextH^0x11fe)
	rs := make([]rec, n)
	for i := range rs {
		t := to.UnixMicro() - int64(r.next()%uint64(span))
		t = floorDiv(t, st.ti.prec) * st.ti.prec
		rs[i] = rec{t: t, vis: a.visibleAt(t), h: a.newH(st), seq: st.nextSeq}
		st.nextSeq++
	}
	a.add(st, rs)
}

// Events returns every event made for the type, in serving order. It
// renders every record: cheap for tests, not for a million events.
func (a *Account) Events(lt string) []Event {
	return a.collect(lt, func(rec) bool { return true })
}

// Visible returns the events visible at the given instant, in serving order.
func (a *Account) Visible(lt string, at time.Time) []Event {
	us := at.UnixMicro()
	return a.collect(lt, func(r rec) bool { return r.vis <= us })
}

func (a *Account) collect(lt string, keep func(rec) bool) []Event {
	st := a.storeOf(lt)
	st.mu.RLock()
	defer st.mu.RUnlock()
	var out []Event
	for _, r := range st.recs {
		if !keep(r) {
			continue
		}
		out = append(out, Event{
			LogType:   lt,
			Time:      time.UnixMicro(r.t).UTC(),
			VisibleAt: time.UnixMicro(r.vis).UTC(),
			ID:        a.eventID(st.ti, r),
			Raw:       a.render(nil, st.ti, r),
		})
	}
	return out
}

// eventID is the id Event.ID reports.
func (a *Account) eventID(ti *typeInfo, r rec) string {
	switch ti.kind {
	case kindV1:
		return fmt.Sprintf("%s-%d", ti.name, r.seq)
	case kindTM:
		return string(sekeyOf(nil, r.h))
	}
	return string(idOf(nil, r.h))
}

// idOf renders h as a UUID whose first 16 hex digits are h itself, so
// comparing ids as strings compares h numerically.
func idOf(b []byte, h uint64) []byte {
	lo := mix64(h^0x5eed)&^(0xc<<60) | 0x8<<60 // RFC 4122 variant
	var raw [16]byte
	for i := 0; i < 8; i++ {
		raw[i] = byte(h >> (56 - 8*i))
		raw[8+i] = byte(lo >> (56 - 8*i))
	}
	for i, c := range raw {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, hexDigits[c>>4], hexDigits[c&0xf])
	}
	return b
}

// sekeyOf renders h as a 20-character Trust Monitor id (docs/duo-api.md §3.6).
func sekeyOf(b []byte, h uint64) []byte {
	const alpha = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	b = append(b, 'S', 'E')
	x := h
	y := mix64(h ^ 0x5e4e)
	for i := 0; i < 18; i++ {
		if i < 12 {
			b = append(b, alpha[x%36])
			x /= 36
		} else {
			b = append(b, alpha[y%36])
			y /= 36
		}
	}
	return b
}

// Account returns the child account with this account_id, or the parent
// for "". It returns nil for an id the simulator has never listed.
func (s *Sim) Account(id string) *Account {
	if id == "" {
		return s.parent
	}
	return s.child(id)
}

// Backfill adds n parent events spread over [from, to); see Account.Backfill.
func (s *Sim) Backfill(lt string, n int, from, to time.Time) { s.parent.Backfill(lt, n, from, to) }

// Burst adds n distinct parent events within the given second; see Account.Burst.
func (s *Sim) Burst(lt string, n int, second time.Time) { s.parent.Burst(lt, n, second) }

// Twins adds n byte-identical parent records; see Account.Twins.
func (s *Sim) Twins(lt string, n int, second time.Time) { s.parent.Twins(lt, n, second) }

// Straggler adds one late parent event; see Account.Straggler.
func (s *Sim) Straggler(lt string, t, visibleAt time.Time) { s.parent.Straggler(lt, t, visibleAt) }

// StartLive adds live parent events until ctx ends; see Account.StartLive.
func (s *Sim) StartLive(ctx context.Context, perSecond float64, lts ...string) {
	s.parent.StartLive(ctx, perSecond, lts...)
}

// Events returns every parent event of the type, in serving order.
func (s *Sim) Events(lt string) []Event { return s.parent.Events(lt) }

// Visible returns the parent events visible at the given instant.
func (s *Sim) Visible(lt string, at time.Time) []Event { return s.parent.Visible(lt, at) }
