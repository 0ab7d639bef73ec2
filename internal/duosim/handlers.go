// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duosim

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

const (
	summaryPath = "/admin/v1/info/summary"
	// retention is how far back v2 and Trust Monitor mintime may reach
	// (docs/duo-api.md §1.6).
	retention    = 180 * 24 * time.Hour
	defaultLimit = 100 // docs/duo-api.md §3.1, §3.3, §3.4, §3.6
	v1PageSize   = 1000
)

var typeByPath = func() map[string]*typeInfo {
	m := make(map[string]*typeInfo, len(logTypes))
	for _, ti := range logTypes {
		m[ti.path] = ti
	}
	return m
}()

func (s *Sim) route(r *http.Request, now time.Time, a *Account) *response {
	if r.URL.Path == accountListPath {
		if r.Method != http.MethodPost {
			return errorResponse(405, 40501, "Method not allowed", "")
		}
		return s.serveAccountList()
	}
	ti := typeByPath[r.URL.Path]
	res := resourceByPath[r.URL.Path]
	if ti == nil && res == nil {
		return errorResponse(404, 40401, "Resource not found", "")
	}
	if r.Method != http.MethodGet {
		// Not in docs/duo-api.md: the simulator's own answer to a wrong method.
		return errorResponse(405, 40501, "Method not allowed", "")
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return paramError("unparseable query string")
	}
	if ti == nil {
		return s.serveResource(a, res, q)
	}
	if e := s.refusal(a, ti.name); e != nil {
		return e
	}
	switch ti.kind {
	case kindV1:
		return s.serveV1(a, ti, q, now)
	case kindTM:
		return s.serveTM(a, ti, q, now)
	}
	return s.serveV2(a, ti, q, now)
}

func (s *Sim) newBuf() *[]byte {
	bp := s.bufPool.Get().(*[]byte)
	*bp = (*bp)[:0]
	return bp
}

func okResponse(bp *[]byte, records int) *response {
	return &response{status: http.StatusOK, body: *bp, ctype: "application/json", records: records, buf: bp}
}

// msParam reads a required millisecond timestamp (docs/duo-api.md §1.5). Seconds (or
// anything that is not a 13-digit integer) are refused as Duo refuses them.
func msParam(q url.Values, name string) (int64, *response) {
	vs := q[name]
	if len(vs) == 0 || vs[0] == "" {
		return 0, paramError("Missing required request parameter: '" + name + "'")
	}
	v, err := strconv.ParseInt(vs[0], 10, 64)
	if err != nil || len(vs) > 1 || v < 1e12 || v >= 1e13 {
		return 0, paramError("'" + name + "' must be a timestamp in milliseconds")
	}
	return v, nil
}

// window reads and checks mintime and maxtime (docs/duo-api.md §3.1, §6.3-6.4).
func window(q url.Values, now time.Time) (int64, int64, *response) {
	minMs, e := msParam(q, "mintime")
	if e != nil {
		return 0, 0, e
	}
	maxMs, e := msParam(q, "maxtime")
	if e != nil {
		return 0, 0, e
	}
	if minMs < now.Add(-retention).UnixMilli() {
		return 0, 0, paramError("mintime must be within the past 180 days")
	}
	if maxMs <= minMs {
		return 0, 0, paramError("'maxtime' must be greater than 'mintime'")
	}
	return minMs, maxMs, nil
}

func limitParam(q url.Values, maxLimit int) (int, *response) {
	vs := q["limit"]
	if len(vs) == 0 {
		return defaultLimit, nil
	}
	v, err := strconv.Atoi(vs[0])
	if err != nil || len(vs) > 1 || v < 1 || v > maxLimit {
		return 0, paramError("'limit' must be an integer between 1 and " + strconv.Itoa(maxLimit))
	}
	return v, nil
}

// sortParam reads sort; the default is descending (docs/duo-api.md §3.4, §6.6).
func sortParam(q url.Values) (bool, *response) {
	vs := q["sort"]
	if len(vs) == 0 {
		return true, nil
	}
	if len(vs) == 1 {
		switch vs[0] {
		case "ts:asc":
			return false, nil
		case "ts:desc":
			return true, nil
		}
	}
	return false, paramError("'sort' must be one of ts:asc, ts:desc")
}

// cursor is a v2 search-after key (docs/duo-api.md §3.1, §3.3, §3.4).
type cursor struct {
	ms int64
	id string
}

// cursorParam reads next_offset. Authentication takes the comma-joined pair
// or the two repeated values; telephony and activity the "<ms>,<id>" string.
func cursorParam(ti *typeInfo, q url.Values) (*cursor, *response) {
	vs := q["next_offset"]
	if len(vs) == 0 {
		return nil, nil
	}
	bad := paramError("invalid 'next_offset'")
	var msStr, id string
	switch {
	case len(vs) == 1:
		var ok bool
		msStr, id, ok = strings.Cut(vs[0], ",")
		if !ok {
			return nil, bad
		}
	case len(vs) == 2 && ti.name == "authentication":
		msStr, id = vs[0], vs[1]
		if _, err := strconv.ParseInt(msStr, 10, 64); err != nil {
			msStr, id = vs[1], vs[0]
		}
	default:
		return nil, bad
	}
	ms, err := strconv.ParseInt(msStr, 10, 64)
	if err != nil || id == "" {
		return nil, bad
	}
	return &cursor{ms: ms, id: id}, nil
}

// cmpCursor compares a record's (ms, id) with a cursor.
func cmpCursor(r rec, c *cursor) int {
	if m := r.ms(); m != c.ms {
		return cmpInt(m, c.ms)
	}
	var buf [36]byte
	return strings.Compare(string(idOf(buf[:0], r.h)), c.id)
}

// msRange returns the index range of records with ms in [minMs, maxMs].
func (st *store) msRange(minMs, maxMs int64) (int, int) {
	recs := st.recs
	lo := sort.Search(len(recs), func(i int) bool { return recs[i].ms() >= minMs })
	hi := lo + sort.Search(len(recs)-lo, func(i int) bool { return recs[lo+i].ms() > maxMs })
	return lo, hi
}

// cutIndex is the first record that may still be hidden by the regular
// availability delay; records before it are hidden only if they are late.
func (s *Sim) cutIndex(st *store, nowUs int64) (int, int64) {
	cutMs := floorDiv(nowUs-s.delay.Microseconds(), 1000)
	return sort.Search(len(st.recs), func(i int) bool { return st.recs[i].ms() >= cutMs }), cutMs
}

// lateHidden counts late records in [minMs, maxMs] before cutMs that are not
// yet visible.
func (st *store) lateHidden(minMs, maxMs, cutMs, nowUs int64) int {
	n := 0
	for _, l := range st.late {
		if m := l.ms(); m >= minMs && m <= maxMs && m < cutMs && l.vis > nowUs {
			n++
		}
	}
	return n
}

// countVisible counts visible records in [lo, hi) without scanning the part
// that the delay cannot hide.
func (s *Sim) countVisible(st *store, lo, hi int, minMs, maxMs, nowUs int64) int {
	cut, cutMs := s.cutIndex(st, nowUs)
	hidden := st.lateHidden(minMs, maxMs, cutMs, nowUs)
	for i := max(lo, cut); i < hi; i++ {
		if st.recs[i].vis > nowUs {
			hidden++
		}
	}
	return hi - lo - hidden
}

// serveV2 answers authentication, telephony and activity (docs/duo-api.md §3.1, §3.3,
// §3.4, §4.1).
func (s *Sim) serveV2(a *Account, ti *typeInfo, q url.Values, now time.Time) *response {
	minMs, maxMs, e := window(q, now)
	if e != nil {
		return e
	}
	limit, e := limitParam(q, ti.maxLimit)
	if e != nil {
		return e
	}
	desc, e := sortParam(q)
	if e != nil {
		return e
	}
	cur, e := cursorParam(ti, q)
	if e != nil {
		return e
	}
	nowUs := now.UnixMicro()
	st := a.storeOf(ti.name)
	st.mu.RLock()
	defer st.mu.RUnlock()
	recs := st.recs
	lo, hi := st.msRange(minMs, maxMs)
	keep := func(i int) bool { return recs[i].vis <= nowUs }
	var filter *authFilter
	if ti.name == "authentication" {
		filter = parseAuthFilter(q, a.pools)
	}
	if filter != nil {
		var scratch []byte
		keep = func(i int) bool {
			if recs[i].vis > nowUs {
				return false
			}
			var at authAttrs
			at, scratch = a.attrs(ti, recs[i], scratch)
			return filter.match(&at)
		}
	}

	page := make([]int, 0, min(limit, hi-lo))
	more := false
	if !desc {
		i := lo
		if cur != nil {
			i = max(i, sort.Search(len(recs), func(j int) bool { return cmpCursor(recs[j], cur) > 0 }))
		}
		for ; i < hi && len(page) < limit; i++ {
			if keep(i) {
				page = append(page, i)
			}
		}
		for ; i < hi && !more; i++ {
			more = keep(i)
		}
	} else {
		i := hi - 1
		if cur != nil {
			i = min(i, sort.Search(len(recs), func(j int) bool { return cmpCursor(recs[j], cur) >= 0 })-1)
		}
		for ; i >= lo && len(page) < limit; i-- {
			if keep(i) {
				page = append(page, i)
			}
		}
		for ; i >= lo && !more; i-- {
			more = keep(i)
		}
	}
	var total int
	if filter == nil {
		total = s.countVisible(st, lo, hi, minMs, maxMs, nowUs)
	} else {
		// A filtered window is counted record by record: filters are for
		// tests, and this keeps the unfiltered path O(log n + page).
		for i := lo; i < hi; i++ {
			if keep(i) {
				total++
			}
		}
	}

	bp := s.newBuf()
	b := append(*bp, `{"response":{"`...)
	b = append(b, ti.listKey...)
	b = append(b, `":[`...)
	for n, i := range page {
		if n > 0 {
			b = append(b, ',')
		}
		b = a.render(b, ti, recs[i])
	}
	b = append(b, `],"metadata":{"next_offset":`...)
	if more {
		last := recs[page[len(page)-1]]
		if ti.name == "authentication" {
			// An array of two strings (docs/duo-api.md §3.1).
			b = append(b, `["`...)
			b = appendInt(b, last.ms())
			b = append(b, `","`...)
			b = idOf(b, last.h)
			b = append(b, `"]`...)
		} else {
			// One comma-joined string (docs/duo-api.md §3.3, §3.4).
			b = append(b, '"')
			b = appendInt(b, last.ms())
			b = append(b, ',')
			b = idOf(b, last.h)
			b = append(b, '"')
		}
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"total_objects":`...)
	// Telephony and activity report total_objects as an int or as
	// {relation, value} (docs/duo-api.md §3.3); which one is fixed per window.
	if ti.name != "authentication" && mix64(a.seed^uint64(minMs)^uint64(maxMs)<<1)&1 == 1 {
		b = append(b, `{"relation":"eq","value":`...)
		b = appendInt(b, int64(total))
		b = append(b, '}')
	} else {
		b = appendInt(b, int64(total))
	}
	b = append(b, `}},"stat":"OK"}`...)
	*bp = b
	return okResponse(bp, len(page))
}

// serveV1 answers administrator and offline enrollment: the earliest 1000
// visible records with timestamp >= mintime (seconds), oldest first, as a
// bare array (docs/duo-api.md §3.2, §3.5, §4.2).
func (s *Sim) serveV1(a *Account, ti *typeInfo, q url.Values, now time.Time) *response {
	var minUs int64
	if vs := q["mintime"]; len(vs) > 0 {
		v, err := strconv.ParseInt(vs[0], 10, 64)
		if err != nil || len(vs) > 1 {
			return paramError("'mintime' must be a timestamp in seconds")
		}
		// A 13-digit value is milliseconds sent to a seconds endpoint. Duo's
		// answer to that is not documented [U]; the simulator refuses it so
		// that a unit mix-up shows instead of returning nothing.
		if v >= 1e11 {
			return paramError("'mintime' must be a timestamp in seconds")
		}
		minUs = v * 1e6
	}
	nowUs := now.UnixMicro()
	st := a.storeOf(ti.name)
	st.mu.RLock()
	defer st.mu.RUnlock()
	recs := st.recs
	i := sort.Search(len(recs), func(j int) bool { return recs[j].t >= minUs })
	bp := s.newBuf()
	b := append(*bp, `{"response":[`...)
	n := 0
	for ; i < len(recs) && n < v1PageSize; i++ {
		if recs[i].vis > nowUs {
			continue
		}
		if n > 0 {
			b = append(b, ',')
		}
		b = a.render(b, ti, recs[i])
		n++
	}
	b = append(b, `],"stat":"OK"}`...)
	*bp = b
	return okResponse(bp, n)
}

// serveTM answers Trust Monitor: a window on surfaced time in ms, paged by
// offset = metadata.next_offset (docs/duo-api.md §3.6, §4.3). The token is the number
// of window records already returned, as a string.
func (s *Sim) serveTM(a *Account, ti *typeInfo, q url.Values, now time.Time) *response {
	minMs, maxMs, e := window(q, now)
	if e != nil {
		return e
	}
	limit, e := limitParam(q, ti.maxLimit)
	if e != nil {
		return e
	}
	offset := 0
	if vs := q["offset"]; len(vs) > 0 {
		v, err := strconv.Atoi(vs[0])
		if err != nil || v < 0 || len(vs) > 1 {
			return paramError("invalid 'offset'")
		}
		offset = v
	}
	typ := q.Get("type")
	nowUs := now.UnixMicro()
	st := a.storeOf(ti.name)
	st.mu.RLock()
	defer st.mu.RUnlock()
	recs := st.recs
	lo, hi := st.msRange(minMs, maxMs)
	keep := func(r rec) bool {
		return r.vis <= nowUs && (typ == "" || a.tmType(r.h) == typ)
	}

	i := lo
	if typ == "" {
		// Skip by arithmetic over the part no record can be hidden in.
		cut, cutMs := s.cutIndex(st, nowUs)
		if st.lateHidden(minMs, maxMs, cutMs, nowUs) == 0 {
			clear := max(lo, min(hi, cut)) - lo
			skip := min(offset, clear)
			i += skip
			offset -= skip
		}
	}
	for ; i < hi && offset > 0; i++ {
		if keep(recs[i]) {
			offset--
		}
	}
	bp := s.newBuf()
	b := append(*bp, `{"response":{"events":[`...)
	n := 0
	for ; i < hi && n < limit; i++ {
		if !keep(recs[i]) {
			continue
		}
		if n > 0 {
			b = append(b, ',')
		}
		b = a.render(b, ti, recs[i])
		n++
	}
	more := false
	for ; i < hi && !more; i++ {
		more = keep(recs[i])
	}
	b = append(b, `],"metadata":{`...)
	if more {
		next, _ := strconv.Atoi(firstOr(q["offset"], "0"))
		b = append(b, `"next_offset":"`...)
		b = appendInt(b, int64(next+n))
		b = append(b, '"')
	}
	b = append(b, `}},"stat":"OK"}`...)
	*bp = b
	return okResponse(bp, n)
}

func firstOr(vs []string, def string) string {
	if len(vs) == 0 {
		return def
	}
	return vs[0]
}
