// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duosim

import (
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"
)

// BenchmarkAuthPage serves 1000-record authentication pages out of a
// 1,000,000-event backfill, walking the window with next_offset.
func BenchmarkAuthPage(b *testing.B) {
	s := New(Config{Now: fixedClock(t0), Seed: 1})
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	s.Backfill("authentication", 1_000_000, t0.Add(-24*time.Hour), t0.Add(-time.Hour))
	backfill := time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&after)
	storeMiB := float64(after.HeapAlloc-before.HeapAlloc) / (1 << 20)

	base := msq("mintime", ms(t0.Add(-25*time.Hour)), "maxtime", ms(t0), "limit", "1000", "sort", "ts:asc")
	evs := s.parent.stores["authentication"].recs
	sg := defaultSigner()
	b.ResetTimer()
	b.ReportAllocs()
	var bytes int64
	for i := 0; i < b.N; i++ {
		q := msq()
		for k, v := range base {
			q[k] = v
		}
		// A cursor somewhere in the backfill.
		r := evs[(i*7919*1000)%(len(evs)-2000)]
		var buf [36]byte
		q.Set("next_offset", itoaInt(int(r.ms()))+","+string(idOf(buf[:0], r.h)))
		req := httptest.NewRequest(http.MethodGet, "/admin/v2/logs/authentication?"+q.Encode(), nil)
		sg.sign(req, t0, nil)
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
		bytes += int64(rec.Body.Len())
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "records/s")
	b.SetBytes(bytes / int64(b.N))
	// ResetTimer drops metrics reported before it, so these come last.
	b.ReportMetric(backfill.Seconds(), "backfill-s")
	b.ReportMetric(storeMiB, "store-MiB")
}
