// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// now of the tests: windows lie a day before it, well inside Duo's 180 days.
var testNow = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return testNow }

type fakeRec struct {
	id string
	t  time.Time
}

// cursorServer is a fake v2 log endpoint or Trust Monitor over recs (sorted by time). It
// checks every request's parameters and that mintime and maxtime stay fixed while paging.
type cursorServer struct {
	t    *testing.T
	lt   LogType
	recs []fakeRec

	mu        sync.Mutex
	window    [2]string
	pageSizes []int
}

func (s *cursorServer) render(r fakeRec) string {
	iso := r.t.UTC().Format("2006-01-02T15:04:05.000000+00:00")
	switch s.lt {
	case Authentication:
		return fmt.Sprintf(`{"txid":%q,"timestamp":%d,"isotimestamp":%q,"result":"success","user":{"name":"u"}}`, r.id, r.t.Unix(), iso)
	case Telephony:
		return fmt.Sprintf(`{"telephony_id":%q,"ts":%q,"credits":1}`, r.id, iso)
	case Activity:
		return fmt.Sprintf(`{"activity_id":%q,"ts":%q,"action":{"name":"x","details":null}}`, r.id, iso)
	}
	return fmt.Sprintf(`{"sekey":%q,"surfaced_timestamp":%d,"type":"auth"}`, r.id, r.t.UnixMilli())
}

func (s *cursorServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	assert.Equal(s.t, Path(s.lt), r.URL.Path)
	if s.window[0] == "" {
		s.window = [2]string{q.Get("mintime"), q.Get("maxtime")}
	}
	assert.Equal(s.t, s.window, [2]string{q.Get("mintime"), q.Get("maxtime")}, "the window stays fixed while paging")
	minMS, err1 := strconv.ParseInt(q.Get("mintime"), 10, 64)
	maxMS, err2 := strconv.ParseInt(q.Get("maxtime"), 10, 64)
	require.NoError(s.t, err1)
	require.NoError(s.t, err2)
	limit, _ := strconv.Atoi(q.Get("limit"))
	offsetParam, wantLimit, wantSort := "next_offset", 1000, "ts:asc"
	if s.lt == TrustMonitor {
		offsetParam, wantLimit, wantSort = "offset", 500, ""
		assert.False(s.t, q.Has("next_offset"))
	} else {
		assert.False(s.t, q.Has("offset"))
	}
	assert.Equal(s.t, wantLimit, limit)
	assert.Equal(s.t, wantSort, q.Get("sort"))

	var in []fakeRec
	for _, rec := range s.recs {
		if ms := rec.t.UnixMilli(); ms >= minMS && ms <= maxMS {
			in = append(in, rec)
		}
	}
	start := 0
	if off := q.Get(offsetParam); off != "" {
		if s.lt == TrustMonitor {
			start, _ = strconv.Atoi(off)
		} else {
			// "<ms>,<id>" of the last record returned (docs/duo-api.md §3.1, §3.3): continue after it.
			_, id, ok := strings.Cut(off, ",")
			require.True(s.t, ok, "offset %q", off)
			start = slices.IndexFunc(in, func(r fakeRec) bool { return r.id == id }) + 1
			require.Positive(s.t, start, "offset %q names a returned record", off)
		}
	}
	end := min(start+limit, len(in))
	page := in[start:end]
	s.pageSizes = append(s.pageSizes, len(page))
	items := make([]string, len(page))
	for i, rec := range page {
		items[i] = s.render(rec)
	}
	next := "null"
	if end < len(in) {
		last := page[len(page)-1]
		switch s.lt {
		case Authentication:
			next = fmt.Sprintf(`[%q,%q]`, strconv.FormatInt(last.t.UnixMilli(), 10), last.id)
		case TrustMonitor:
			next = strconv.Itoa(end)
		default:
			next = strconv.Quote(strconv.FormatInt(last.t.UnixMilli(), 10) + "," + last.id)
		}
	}
	writeJSON(w, 200, fmt.Sprintf(`{"stat":"OK","response":{%q:[%s],"metadata":{"next_offset":%s,"total_objects":%d}}}`,
		endpointOf(s.lt).ListKey, strings.Join(items, ","), next, len(in)))
}

func makeRecs(prefix string, n int, from time.Time, step time.Duration) []fakeRec {
	recs := make([]fakeRec, n)
	for i := range recs {
		recs[i] = fakeRec{id: fmt.Sprintf("%s-%05d", prefix, i), t: from.Add(time.Duration(i) * step)}
	}
	return recs
}

func TestFetchCursorEndpoints(t *testing.T) {
	start := testNow.Add(-24 * time.Hour)
	tests := []struct {
		lt        LogType
		n         int
		wantPages []int
		step      time.Duration
	}{
		{Authentication, 2345, []int{1000, 1000, 345}, 1234 * time.Microsecond},
		{Telephony, 2000, []int{1000, 1000}, 3 * time.Millisecond},
		{Activity, 1, []int{1}, time.Second},
		{TrustMonitor, 1100, []int{500, 500, 100}, 7 * time.Millisecond},
		{Authentication, 0, []int{0}, time.Second},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s_%d", tt.lt, tt.n), func(t *testing.T) {
			// Records outside the window must not come back.
			recs := append([]fakeRec{{id: "before", t: start.Add(-time.Millisecond)}},
				makeRecs(string(tt.lt), tt.n, start, tt.step)...)
			w := Window{Start: start, End: start.Add(time.Hour)}
			recs = append(recs, fakeRec{id: "after", t: w.End.Add(time.Millisecond)})
			srv := &cursorServer{t: t, lt: tt.lt, recs: recs}
			c := newTestClient(t, signed(t, srv.ServeHTTP), func(c *Config) { c.Now = fixedNow })

			pages, err := collect(t, c.Client, tt.lt, w)
			require.NoError(t, err)
			var got []string
			for i, p := range pages {
				assert.Equal(t, i == len(pages)-1, p.Next == nil, "only the last page has no Next")
				for _, r := range p.Records {
					got = append(got, r.ID)
					want := recs[slices.IndexFunc(recs, func(f fakeRec) bool { return f.id == r.ID })]
					precision := time.Microsecond
					if tt.lt == TrustMonitor {
						precision = time.Millisecond
					}
					assert.True(t, want.t.Truncate(precision).Equal(r.Time), "time of %s: %s, want %s", r.ID, r.Time, want.t)
					assert.True(t, json.Valid([]byte(r.Raw)))
				}
			}
			require.Len(t, got, tt.n)
			for i, id := range got {
				assert.Equal(t, fmt.Sprintf("%s-%05d", tt.lt, i), id, "every record once, in order")
			}
			assert.Equal(t, tt.wantPages, srv.pageSizes)
			if tt.lt == Authentication && len(pages) > 1 {
				// Auth's [ms, txid] is sent back comma-joined.
				assert.Equal(t, strconv.FormatInt(recs[1000].t.UnixMilli(), 10)+","+"authentication-00999", pages[0].Next.Offset)
			}
		})
	}
}

func TestFetchCursorResumesFromPosition(t *testing.T) {
	start := testNow.Add(-24 * time.Hour)
	recs := makeRecs("tel", 2500, start, time.Millisecond)
	srv := &cursorServer{t: t, lt: Telephony, recs: recs}
	c := newTestClient(t, signed(t, srv.ServeHTTP), func(c *Config) { c.Now = fixedNow })
	w := Window{Start: start, End: start.Add(time.Hour)}

	var first *Position
	err := c.Fetch(t.Context(), Telephony, w, func(p Page) error {
		first = p.Next
		return errStop
	})
	require.ErrorIs(t, err, errStop, "fn's error comes back")
	require.NotNil(t, first)

	// A restarted receiver hands back the persisted position.
	b, err := json.Marshal(first)
	require.NoError(t, err)
	var pos Position
	require.NoError(t, json.Unmarshal(b, &pos))
	w.From = &pos
	pages, err := collect(t, c.Client, Telephony, w)
	require.NoError(t, err)
	var n int
	for _, p := range pages {
		for _, r := range p.Records {
			assert.Equal(t, recs[1000+n].id, r.ID)
			n++
		}
	}
	assert.Equal(t, 1500, n)
}

var errStop = fmt.Errorf("stop")

func TestFetchCursorStopsWhenCursorDoesNotAdvance(t *testing.T) {
	c := newTestClient(t, signed(t, answer(200, `{"stat":"OK","response":{"items":[],"metadata":{"next_offset":"1,a"}}}`)), func(c *Config) { c.Now = fixedNow })
	var calls int
	err := c.Fetch(t.Context(), Activity, Window{Start: testNow.Add(-time.Hour), End: testNow}, func(Page) error {
		calls++
		return nil
	})
	require.ErrorIs(t, err, errNoProgress)
	assert.Equal(t, 1, calls)
	assert.Len(t, c.rec.statuses(), 2)
}

// v1Server is a fake v1 log endpoint: the earliest 1000 rows at or after mintime (s).
type v1Server struct {
	t    *testing.T
	lt   LogType
	rows []v1Row // sorted by second

	mu       sync.Mutex
	mintimes []int64
}

type v1Row struct {
	sec int64
	raw string
}

func (s *v1Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	assert.Equal(s.t, Path(s.lt), r.URL.Path)
	assert.Equal(s.t, []string{"mintime"}, slices.Collect(func(yield func(string) bool) {
		for k := range q {
			if !yield(k) {
				return
			}
		}
	}), "v1 takes only mintime")
	mt, err := strconv.ParseInt(q.Get("mintime"), 10, 64)
	require.NoError(s.t, err)
	s.mu.Lock()
	s.mintimes = append(s.mintimes, mt)
	s.mu.Unlock()
	var out []string
	for _, row := range s.rows {
		if row.sec >= mt && len(out) < 1000 {
			out = append(out, row.raw)
		}
	}
	writeJSON(w, 200, `{"stat":"OK","response":[`+strings.Join(out, ",\n")+`]}`)
}

func adminRow(sec int64, what string) v1Row {
	return v1Row{sec, fmt.Sprintf(`{"action": "user_update", "description": %q, "isotimestamp": %q, "object": "jsmith", "timestamp": %d, "username": "admin"}`,
		what, time.Unix(sec, 0).UTC().Format("2006-01-02T15:04:05+00:00"), sec)}
}

func TestFetchV1(t *testing.T) {
	base := testNow.Add(-24 * time.Hour).Unix()
	distinct := func(n int, secOf func(i int) int64) []v1Row {
		rows := make([]v1Row, n)
		for i := range rows {
			rows[i] = adminRow(secOf(i), fmt.Sprintf("event %d", i))
		}
		return rows
	}
	twins := func(n int, sec int64) []v1Row {
		rows := make([]v1Row, n)
		for i := range rows {
			rows[i] = adminRow(sec, "twin")
		}
		return rows
	}
	tests := []struct {
		name         string
		rows         []v1Row
		start, end   time.Time
		wantSkipped  []int64
		wantRequests int
		// wantLost rows are not expected back (past a stepped-over second's first 1000).
		wantLost int
	}{
		{
			name:         "boundary second straddles pages",
			rows:         distinct(2500, func(i int) int64 { return base + int64(i/7) }),
			wantRequests: 3,
		},
		{
			name: "twins straddle the cut",
			rows: slices.Concat(
				distinct(997, func(i int) int64 { return base + int64(i/10) }),
				twins(5, base+100),
				distinct(3, func(int) int64 { return base + 101 })),
			wantRequests: 2,
		},
		{
			name:         "999 events in one second",
			rows:         distinct(999, func(int) int64 { return base + 5 }),
			wantRequests: 1,
		},
		{
			name: "1000 in one second steps on",
			rows: slices.Concat(
				distinct(1000, func(int) int64 { return base + 5 }),
				distinct(10, func(int) int64 { return base + 6 })),
			wantSkipped:  []int64{base + 5},
			wantRequests: 2,
		},
		{
			name: "1200 in one second: 200 unreadable, never loops",
			rows: slices.Concat(
				distinct(1200, func(int) int64 { return base + 5 }),
				distinct(1500, func(i int) int64 { return base + 6 + int64(i/500) })),
			wantSkipped:  []int64{base + 5},
			wantRequests: 4,
			wantLost:     200,
		},
		{
			name:         "1000 twins in one second",
			rows:         slices.Concat(twins(1000, base+1), twins(2, base+2)),
			wantSkipped:  []int64{base + 1},
			wantRequests: 2,
		},
		{
			name:         "rows after the window are held back",
			rows:         distinct(3000, func(i int) int64 { return base + int64(i) }),
			end:          time.Unix(base+1499, 999e6),
			wantRequests: 2,
		},
		{
			name:         "rows before a mid-second start are left out",
			rows:         distinct(20, func(i int) int64 { return base + int64(i/2) }),
			start:        time.Unix(base+3, 500e6),
			wantRequests: 1,
		},
		{
			name:         "empty",
			wantRequests: 1,
		},
	}
	for _, lt := range []LogType{Administrator, OfflineEnrollment} {
		for _, tt := range tests {
			t.Run(string(lt)+"/"+tt.name, func(t *testing.T) {
				w := Window{Start: tt.start, End: tt.end}
				if w.Start.IsZero() {
					w.Start = time.Unix(base, 0)
				}
				if w.End.IsZero() {
					w.End = time.Unix(base+86000, 0)
				}
				srv := &v1Server{t: t, lt: lt, rows: tt.rows}
				c := newTestClient(t, signed(t, srv.ServeHTTP), func(c *Config) { c.Now = fixedNow })
				pages, err := collect(t, c.Client, lt, w)
				require.NoError(t, err)

				want := map[string]int{}
				for _, row := range tt.rows {
					tm := time.Unix(row.sec, 0)
					if !tm.Before(w.Start) && !tm.After(w.End) {
						want[row.raw]++
					}
				}
				got := map[string]int{}
				ids := map[string]bool{}
				n := 0
				for i, p := range pages {
					assert.Equal(t, i == len(pages)-1, p.Next == nil, "only the last page has no Next")
					for _, r := range p.Records {
						got[r.Raw]++
						n++
						assert.False(t, ids[r.ID], "id %s handed out twice", r.ID)
						ids[r.ID] = true
						assert.False(t, r.Time.Before(w.Start) || r.Time.After(w.End), "record time %s outside the window", r.Time)
					}
				}
				wantN := 0
				for raw, k := range want {
					wantN += k
					if tt.wantLost == 0 {
						assert.Equal(t, k, got[raw], "row %s", raw)
					}
				}
				for raw, k := range got {
					assert.LessOrEqual(t, k, want[raw], "row %s delivered too often", raw)
				}
				assert.Equal(t, wantN-tt.wantLost, n)
				assert.Equal(t, tt.wantSkipped, c.rec.skippedSeconds())
				assert.Len(t, srv.mintimes, tt.wantRequests, "mintimes sent: %v", srv.mintimes)
				if len(tt.wantSkipped) > 0 {
					assert.Equal(t, len(tt.wantSkipped), c.logs.FilterMessageSnippet("stepping over it").Len())
				}
			})
		}
	}
}

func TestFetchV1NextNeverPlusOne(t *testing.T) {
	base := testNow.Add(-24 * time.Hour).Unix()
	rows := make([]v1Row, 1500)
	for i := range rows {
		rows[i] = adminRow(base+int64(i/10), fmt.Sprintf("e%d", i))
	}
	srv := &v1Server{t: t, lt: Administrator, rows: rows}
	c := newTestClient(t, signed(t, srv.ServeHTTP), func(c *Config) { c.Now = fixedNow })
	w := Window{Start: time.Unix(base, 0), End: time.Unix(base+1000, 0)}
	pages, err := collect(t, c.Client, Administrator, w)
	require.NoError(t, err)
	require.Len(t, pages, 2)
	// Row 999 is at base+99: the next mintime is that second, with its 10 rows seen.
	require.NotNil(t, pages[0].Next)
	assert.Equal(t, base+99, pages[0].Next.MinTime)
	assert.Len(t, pages[0].Next.Seen, 10)
	assert.Equal(t, []int64{base, base + 99}, srv.mintimes)

	// Resuming from the persisted position hands out the rest and nothing twice.
	w.From = pages[0].Next
	again, err := collect(t, c.Client, Administrator, w)
	require.NoError(t, err)
	require.Len(t, again, 1)
	assert.Len(t, again[0].Records, 500)
}

func TestFetchV1ServerIgnoringMintimeDoesNotLoop(t *testing.T) {
	base := testNow.Add(-24 * time.Hour).Unix()
	rows := make([]string, 1000)
	for i := range rows {
		rows[i] = adminRow(base+int64(i/10), fmt.Sprintf("e%d", i)).raw
	}
	var mu sync.Mutex
	requests := 0
	c := newTestClient(t, signed(t, func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		requests++
		mu.Unlock()
		writeJSON(w, 200, `{"stat":"OK","response":[`+strings.Join(rows, ",")+`]}`)
	}), func(c *Config) { c.Now = fixedNow })
	_, err := collect(t, c.Client, Administrator, Window{Start: time.Unix(base, 0), End: time.Unix(base+86000, 0)})
	require.ErrorIs(t, err, errNoProgress)
	mu.Lock()
	defer mu.Unlock()
	assert.LessOrEqual(t, requests, 3)
}

func TestFetchWindowChecks(t *testing.T) {
	var requests int
	mu := sync.Mutex{}
	c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		requests++
		mu.Unlock()
		writeJSON(w, 500, "")
	}), func(c *Config) { c.Now = fixedNow })
	tests := []struct {
		name    string
		lt      LogType
		w       Window
		wantErr error
		pages   int
	}{
		{"end equals start", Authentication, Window{Start: testNow.Add(-time.Hour), End: testNow.Add(-time.Hour)}, nil, 1},
		{"end before start", Administrator, Window{Start: testNow.Add(-time.Hour), End: testNow.Add(-2 * time.Hour)}, nil, 1},
		{"same millisecond", TrustMonitor, Window{Start: testNow.Add(-time.Hour), End: testNow.Add(-time.Hour + 100*time.Microsecond)}, nil, 1},
		{"181 days back", Authentication, Window{Start: testNow.Add(-181 * 24 * time.Hour), End: testNow}, ErrWindowTooOld, 0},
		{"181 days back v1", OfflineEnrollment, Window{Start: testNow.Add(-181 * 24 * time.Hour), End: testNow}, ErrWindowTooOld, 0},
		{"unknown log type", LogType("bogus"), Window{Start: testNow.Add(-time.Hour), End: testNow}, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pages, err := collect(t, c.Client, tt.lt, tt.w)
			switch {
			case tt.wantErr != nil:
				require.ErrorIs(t, err, tt.wantErr)
			case tt.pages == 0:
				require.Error(t, err)
			default:
				require.NoError(t, err)
			}
			require.Len(t, pages, tt.pages)
			for _, p := range pages {
				assert.Empty(t, p.Records)
				assert.Nil(t, p.Next)
			}
		})
	}
	mu.Lock()
	defer mu.Unlock()
	assert.Zero(t, requests, "no request for an empty, too old or unknown window")
}

func TestRequestSigning(t *testing.T) {
	tests := []struct {
		name    string
		signing Signing
		base    string // path prefix of BaseURL (a proxy): sent, not signed
		account string
	}{
		{"default is v5", "", "", ""},
		{"v5", SigningV5, "", ""},
		{"v2-sha512", SigningV2SHA512, "", ""},
		{"v2-sha1", SigningV2SHA1, "", ""},
		{"child account", SigningV5, "", "DA9VZOC5X63I2W72NRP9"},
		{"base path prefix", SigningV5, "/duo-proxy", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			signing := tt.signing
			if signing == "" {
				signing = SigningV5
			}
			var dates []string
			var mu sync.Mutex
			clock := testNow
			c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				assert.True(t, strings.HasPrefix(r.URL.Path, tt.base+"/admin/"), r.URL.Path)
				r.URL.Path = strings.TrimPrefix(r.URL.Path, tt.base)
				assert.NoError(t, verifySignature(r, signing))
				assert.Equal(t, tt.account, r.URL.Query().Get("account_id"))
				assert.NotContains(t, r.URL.RawQuery, "+", "spaces are %20")
				mu.Lock()
				dates = append(dates, r.Header.Get("Date"))
				mu.Unlock()
				if len(dates) == 1 {
					writeJSON(w, 503, "busy")
					return
				}
				writeJSON(w, 200, `{"stat":"OK","response":{"user_count":8}}`)
			}), func(c *Config) {
				c.Signing = tt.signing
				c.AccountID = tt.account
				c.BaseURL += tt.base
				c.Now = func() time.Time {
					mu.Lock()
					defer mu.Unlock()
					clock = clock.Add(time.Second)
					return clock
				}
			})
			got, err := c.Summary(t.Context())
			require.NoError(t, err)
			assert.Equal(t, map[string]int64{"user_count": 8}, got)
			require.Len(t, dates, 2)
			assert.NotEqual(t, dates[0], dates[1], "a fresh Date on the retry")
			assert.True(t, strings.HasSuffix(dates[0], "+0000"), dates[0])
		})
	}
}

func TestRequestQueryIsCanonical(t *testing.T) {
	params := url.Values{"b": {"x y"}, "a": {"1/2"}}
	assert.Equal(t, "a=1%2F2&b=x%20y", canonParams(params))
}

// Elements of a record list that are not JSON objects are left out, logged, and reported
// to the Observer so the receiver counts them as dropped records.
func TestFetchReportsSkippedRecords(t *testing.T) {
	start := time.Now().Add(-time.Hour).Truncate(time.Second).UTC()
	rec := func(id string, at time.Time) string {
		return fmt.Sprintf(`{"txid":%q,"timestamp":%d,"isotimestamp":%q}`, id, at.Unix(), at.Format("2006-01-02T15:04:05.000000+00:00"))
	}
	tc := newTestClient(t, signed(t, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, 200, `{"stat":"OK","response":{"authlogs":[`+
			rec("a", start.Add(time.Second))+`,7,"text",null,[1],`+rec("b", start.Add(2*time.Second))+
			`],"metadata":{"next_offset":null}}}`)
	}), nil)
	pages, err := collect(t, tc.Client, Authentication, Window{Start: start, End: start.Add(time.Minute)})
	require.NoError(t, err)
	require.Len(t, pages, 1)
	require.Len(t, pages[0].Records, 2)
	tc.rec.mu.Lock()
	defer tc.rec.mu.Unlock()
	require.Equal(t, 4, tc.rec.skippedRecords)
	require.Len(t, tc.logs.FilterMessage("duo log page held elements that are not objects, skipped them").All(), 1)
}
