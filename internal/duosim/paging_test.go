// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duosim

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

type envV2 struct {
	Stat     string `json:"stat"`
	Response struct {
		Authlogs []json.RawMessage `json:"authlogs"`
		Items    []json.RawMessage `json:"items"`
		Events   []json.RawMessage `json:"events"`
		Metadata struct {
			NextOffset   json.RawMessage `json:"next_offset"`
			TotalObjects json.RawMessage `json:"total_objects"`
		} `json:"metadata"`
	} `json:"response"`
}

func (e envV2) records() []json.RawMessage {
	switch {
	case e.Response.Authlogs != nil:
		return e.Response.Authlogs
	case e.Response.Items != nil:
		return e.Response.Items
	}
	return e.Response.Events
}

var idField = map[string]string{
	"authentication": "txid", "telephony": "telephony_id", "activity": "activity_id", "trust_monitor": "sekey",
}

func recordID(t testing.TB, lt string, raw []byte) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("record is not JSON: %v", err)
	}
	id, _ := m[idField[lt]].(string)
	if id == "" {
		t.Fatalf("record without %s: %s", idField[lt], raw)
	}
	return id
}

func typeInfoOf(lt string) *typeInfo {
	for _, ti := range logTypes {
		if ti.name == lt {
			return ti
		}
	}
	return nil
}

func totalOf(t testing.TB, raw json.RawMessage) int {
	t.Helper()
	var n int
	if err := json.Unmarshal(raw, &n); err == nil {
		return n
	}
	var o struct {
		Relation string `json:"relation"`
		Value    int    `json:"value"`
	}
	if err := json.Unmarshal(raw, &o); err != nil || o.Relation == "" {
		t.Fatalf("total_objects %s is neither int nor {relation,value}", raw)
	}
	return o.Value
}

// walk follows next_offset (v2) or offset (Trust Monitor) to the end and
// returns the ids in the order served.
func walk(t testing.TB, s *Sim, lt string, now time.Time, base url.Values) (ids []string, pages int, total int) {
	t.Helper()
	ti := typeInfoOf(lt)
	q := url.Values{}
	for k, v := range base {
		q[k] = v
	}
	for pages = 1; pages < 10000; pages++ {
		r := do(t, s, defaultSigner(), now, ti.path, q)
		if r.status != 200 {
			t.Fatalf("page %d: %d %s", pages, r.status, r.body)
		}
		var env envV2
		if err := json.Unmarshal(r.body, &env); err != nil || env.Stat != "OK" {
			t.Fatalf("page %d: bad envelope %v: %.300s", pages, err, r.body)
		}
		recs := env.records()
		if recs == nil {
			t.Fatalf("page %d: no %q list: %.300s", pages, ti.listKey, r.body)
		}
		for _, raw := range recs {
			ids = append(ids, recordID(t, lt, raw))
		}
		if lt != "trust_monitor" {
			total = totalOf(t, env.Response.Metadata.TotalObjects)
		}
		no := env.Response.Metadata.NextOffset
		if len(no) == 0 || string(no) == "null" {
			return ids, pages, total
		}
		q.Del("next_offset")
		q.Del("offset")
		switch lt {
		case "authentication":
			var pair []string
			if err := json.Unmarshal(no, &pair); err != nil || len(pair) != 2 {
				t.Fatalf("auth next_offset %s is not [ms, txid]", no)
			}
			if pages%2 == 0 { // both forms Duo accepts (docs/duo-api.md §3.1)
				q.Set("next_offset", pair[0]+","+pair[1])
			} else {
				q["next_offset"] = pair
			}
		case "trust_monitor":
			var tok string
			if err := json.Unmarshal(no, &tok); err != nil {
				t.Fatalf("TM next_offset %s is not a string", no)
			}
			q.Set("offset", tok)
		default:
			var tok string
			if err := json.Unmarshal(no, &tok); err != nil || !strings.Contains(tok, ",") {
				t.Fatalf("next_offset %s is not a \"ms,id\" string", no)
			}
			q.Set("next_offset", tok)
		}
		if len(recs) == 0 {
			t.Fatalf("page %d: empty page with a next_offset", pages)
		}
	}
	t.Fatal("walk does not end")
	return nil, 0, 0
}

func idsOf(evs []Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}

func inWindow(evs []Event, from, to time.Time) []Event {
	var out []Event
	for _, e := range evs {
		m := e.Time.UnixMilli()
		if m >= from.UnixMilli() && m <= to.UnixMilli() {
			out = append(out, e)
		}
	}
	return out
}

// TestCursorWalk: a v2 walk with next_offset (and a Trust Monitor walk with
// offset) returns every visible event in the window exactly once, in order.
func TestCursorWalk(t *testing.T) {
	tests := []struct {
		lt      string
		limit   int
		desc    bool
		perPage int
	}{
		{lt: "authentication", limit: 1000, perPage: 1000},
		{lt: "authentication", limit: 333, desc: true, perPage: 333},
		{lt: "telephony", limit: 1000, perPage: 1000},
		{lt: "activity", limit: 700, perPage: 700},
		{lt: "activity", limit: 0, desc: true, perPage: 100}, // default limit
		{lt: "trust_monitor", limit: 500, perPage: 500},
		{lt: "trust_monitor", limit: 0, perPage: 100},
	}
	for _, tc := range tests {
		name := tc.lt
		if tc.desc {
			name += "/desc"
		}
		t.Run(name, func(t *testing.T) {
			s := New(Config{Now: fixedClock(t0), Seed: 7})
			s.Backfill(tc.lt, 2400, t0.Add(-3*time.Hour), t0)
			s.Burst(tc.lt, 40, t0.Add(-time.Hour))                      // many events in one second
			s.Twins(tc.lt, 1, t0.Add(-90*time.Minute))                  // harmless single "twin"
			s.Straggler(tc.lt, t0.Add(-2*time.Hour), t0.Add(time.Hour)) // not yet visible
			from, to := t0.Add(-150*time.Minute), t0
			q := msq("mintime", ms(from), "maxtime", ms(to))
			if tc.limit > 0 {
				q.Set("limit", itoaInt(tc.limit))
			}
			if tc.lt != "trust_monitor" {
				q.Set("sort", map[bool]string{false: "ts:asc", true: "ts:desc"}[tc.desc])
			}
			got, pages, total := walk(t, s, tc.lt, t0, q)
			want := idsOf(inWindow(s.Visible(tc.lt, t0), from, to))
			if tc.desc {
				slices.Reverse(want)
			}
			if len(want) < 1500 {
				t.Fatalf("fixture too small: %d", len(want))
			}
			if !slices.Equal(got, want) {
				t.Fatalf("walk returned %d ids, want %d (same order)", len(got), len(want))
			}
			if wantPages := (len(want) + tc.perPage - 1) / tc.perPage; pages != wantPages {
				t.Fatalf("pages %d, want %d", pages, wantPages)
			}
			if tc.lt != "trust_monitor" && total != len(want) {
				t.Fatalf("total_objects %d, want %d", total, len(want))
			}
			if st := s.Stats(); st.MaxPageSize != tc.perPage {
				t.Fatalf("max page size %d, want %d", st.MaxPageSize, tc.perPage)
			}
		})
	}
}

func itoaInt(v int) string { b, _ := json.Marshal(v); return string(b) }

// TestCursorSkipsTheSecond: duo_log_sync checkpoints "<last ms + 1>,<id>"
// (docs/duo-api.md §4.1); the cursor is a search-after key, so that resumes after the
// whole millisecond.
func TestCursorSearchAfter(t *testing.T) {
	s := New(Config{Now: fixedClock(t0), Seed: 2})
	s.Backfill("telephony", 300, t0.Add(-time.Hour), t0.Add(-10*time.Minute))
	evs := s.Visible("telephony", t0)
	cut := evs[99]
	q := msq("mintime", ms(t0.Add(-time.Hour)), "maxtime", ms(t0), "sort", "ts:asc", "limit", "1000",
		"next_offset", itoaInt(int(cut.Time.UnixMilli()+1))+","+cut.ID)
	got, _, _ := walk(t, s, "telephony", t0, q)
	var want []string
	for _, e := range evs {
		if e.Time.UnixMilli() > cut.Time.UnixMilli() {
			want = append(want, e.ID)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got %d ids, want %d", len(got), len(want))
	}
}

type envV1 struct {
	Stat     string            `json:"stat"`
	Response []json.RawMessage `json:"response"`
}

type v1rec struct {
	Timestamp    int64  `json:"timestamp"`
	Isotimestamp string `json:"isotimestamp"`
}

func getV1(t *testing.T, s *Sim, lt string, mintime int64) []v1rec {
	t.Helper()
	r := do(t, s, defaultSigner(), t0, typeInfoOf(lt).path, msq("mintime", itoaInt(int(mintime))))
	var env envV1
	if r.status != 200 || json.Unmarshal(r.body, &env) != nil || env.Stat != "OK" {
		t.Fatalf("%d %.300s", r.status, r.body)
	}
	out := make([]v1rec, len(env.Response))
	for i, raw := range env.Response {
		if err := json.Unmarshal(raw, &out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestV1Paging: at most 1000 of the earliest visible records with timestamp
// >= mintime, oldest first; re-querying from the last second returns its
// records again (docs/duo-api.md §3.2, §4.2).
func TestV1Paging(t *testing.T) {
	for _, lt := range []string{"administrator", "offline_enrollment"} {
		t.Run(lt, func(t *testing.T) {
			s := New(Config{Now: fixedClock(t0), Seed: 5})
			s.Backfill(lt, 2500, t0.Add(-2*time.Hour), t0)
			s.Twins(lt, 1200, t0.Add(-100*time.Minute))
			vis := s.Visible(lt, t0)
			mintime := t0.Add(-3 * time.Hour).Unix()
			seen := 0
			for page := 0; page < 20; page++ {
				recs := getV1(t, s, lt, mintime)
				// Expected: the earliest 1000 visible with time >= mintime.
				var want []Event
				for _, e := range vis {
					if e.Time.Unix() >= mintime && len(want) < 1000 {
						want = append(want, e)
					}
				}
				if len(recs) != len(want) {
					t.Fatalf("page %d: %d records, want %d", page, len(recs), len(want))
				}
				for i := range recs {
					if recs[i].Timestamp != want[i].Time.Unix() {
						t.Fatalf("page %d record %d: timestamp %d, want %d", page, i, recs[i].Timestamp, want[i].Time.Unix())
					}
					if i > 0 && recs[i].Timestamp < recs[i-1].Timestamp {
						t.Fatal("not oldest first")
					}
				}
				if len(recs) < 1000 {
					break
				}
				last := recs[len(recs)-1].Timestamp
				if recs[0].Timestamp == last {
					last++ // a full page in one second: the only way on (docs/duo-api.md §4.2)
				}
				seen++
				mintime = last
			}
			if seen < 2 {
				t.Fatalf("walked only %d full pages", seen)
			}
		})
	}
}

func TestVisibilityDelay(t *testing.T) {
	for _, lt := range LogTypes() {
		t.Run(lt, func(t *testing.T) {
			clock := t0
			s := New(Config{Now: func() time.Time { return clock }, Seed: 9})
			s.Backfill(lt, 600, t0.Add(-10*time.Minute), t0)
			all := s.Events(lt)
			for _, at := range []time.Time{t0, t0.Add(time.Minute), t0.Add(2 * time.Minute)} {
				clock = at
				var want []string
				for _, e := range all {
					if !e.VisibleAt.Equal(e.Time.Add(DefaultDelay)) {
						t.Fatalf("VisibleAt %v != Time+Delay %v", e.VisibleAt, e.Time.Add(DefaultDelay))
					}
					if !e.VisibleAt.After(at) {
						want = append(want, string(e.Raw))
					}
				}
				got := served(t, s, lt, at, t0.Add(-20*time.Minute), at)
				if !slices.Equal(got, want) {
					t.Fatalf("at %v: served %d records, want %d visible", at.Sub(t0), len(got), len(want))
				}
				if at.Equal(t0.Add(2*time.Minute)) && len(got) != len(all) {
					t.Fatalf("all events should be visible after the delay: %d of %d", len(got), len(all))
				}
			}
		})
	}
}

// served returns the raw records served for the window, walking all pages.
func served(t testing.TB, s *Sim, lt string, now, from, to time.Time) []string {
	t.Helper()
	ti := typeInfoOf(lt)
	var out []string
	if ti.kind == kindV1 {
		r := do(t, s, defaultSigner(), now, ti.path, msq("mintime", itoaInt(int(from.Unix()))))
		var env envV1
		if err := json.Unmarshal(r.body, &env); err != nil {
			t.Fatal(err)
		}
		for _, raw := range env.Response {
			out = append(out, string(raw))
		}
		return out
	}
	q := msq("mintime", ms(from), "maxtime", ms(to), "limit", itoaInt(ti.maxLimit), "sort", "ts:asc")
	for {
		r := do(t, s, defaultSigner(), now, ti.path, q)
		var env envV2
		if r.status != 200 || json.Unmarshal(r.body, &env) != nil {
			t.Fatalf("%d %.200s", r.status, r.body)
		}
		for _, raw := range env.records() {
			out = append(out, string(raw))
		}
		no := env.Response.Metadata.NextOffset
		if len(no) == 0 || string(no) == "null" {
			return out
		}
		var tok any
		_ = json.Unmarshal(no, &tok)
		switch v := tok.(type) {
		case []any:
			q.Set("next_offset", v[0].(string)+","+v[1].(string))
		case string:
			if lt == "trust_monitor" {
				q.Set("offset", v)
			} else {
				q.Set("next_offset", v)
			}
		}
	}
}
