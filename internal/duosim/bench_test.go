// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duosim

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
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

// rssMiB reads the process's resident set (VmRSS) and its peak (VmHWM) from
// /proc; zeros where /proc is not there.
func rssMiB() (rss, peak float64) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "VmRSS:":
			rss = kb / 1024
		case "VmHWM:":
			peak = kb / 1024
		}
	}
	return rss, peak
}

func heapMiB() float64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapAlloc) / (1 << 20)
}

// BenchmarkInventorySnapshot reads a whole 50,000-user, ~20,000-bypass-code
// inventory per iteration (users at limit 300, bypass codes at 500), the
// way the receiver takes a snapshot. store-MiB is the population's heap,
// heap-growth-MiB what the heap grew by over all snapshots (flat memory
// means near 0).
func BenchmarkInventorySnapshot(b *testing.B) {
	pop := DefaultPopulation()
	pop.Users = 50_000
	pop.ShareBypassCodes = 0.4
	pop.BypassCodesPerUser = 1
	before := heapMiB()
	s := New(Config{Now: fixedClock(t0), Seed: 1, Population: &pop})
	start := time.Now()
	c := s.InventoryCounts(pop.InactiveAfter, t0)
	gen := time.Since(start)
	store := heapMiB() - before
	sg := defaultSigner()
	page := func(path string, offset, limit int) (int, int) {
		q := msq("limit", strconv.Itoa(limit))
		if offset > 0 {
			q.Set("offset", strconv.Itoa(offset))
		}
		req := httptest.NewRequest(http.MethodGet, path+"?"+q.Encode(), nil)
		sg.sign(req, t0, nil)
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
		}
		return rec.Body.Len(), 1
	}
	var bytes, requests int
	snapshot := func() {
		for off := 0; off < c.UsersTotal; off += 300 {
			n, r := page("/admin/v1/users", off, 300)
			bytes, requests = bytes+n, requests+r
		}
		for off := 0; off < c.BypassCodes; off += 500 {
			n, r := page("/admin/v1/bypass_codes", off, 500)
			bytes, requests = bytes+n, requests+r
		}
	}
	snapshot() // warm the buffer pool
	afterFirst := heapMiB()
	bytes, requests = 0, 0
	b.ResetTimer()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		snapshot()
	}
	b.StopTimer()
	growth := heapMiB() - afterFirst
	_, peak := rssMiB()
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/snapshot")
	b.ReportMetric(float64(requests)/float64(b.N), "requests/snapshot")
	b.ReportMetric(float64(bytes)/float64(b.N)/(1<<20), "MiB-served/snapshot")
	b.ReportMetric(float64(c.BypassCodes), "bypass-codes")
	b.ReportMetric(gen.Seconds(), "generate-s")
	b.ReportMetric(store, "store-MiB")
	b.ReportMetric(growth, "heap-growth-MiB")
	b.ReportMetric(peak, "peak-RSS-MiB")
}

// BenchmarkChildren500 lists 500 children and, per iteration, polls every
// child's six log types once with a one-minute window (mostly idle: 10
// events per type per child). per-child-KiB is the heap each child costs
// once its logs have been read, with-inventory-KiB/child once its default
// inventory (60 users) has been read too.
func BenchmarkChildren500(b *testing.B) {
	kids := ChildAccounts(1, 0, 500)
	before := heapMiB()
	s := New(Config{Now: fixedClock(t0), Seed: 1, Children: kids})
	listed := heapMiB() - before
	for _, k := range kids {
		for _, lt := range LogTypes() {
			s.Account(k.AccountID).Backfill(lt, 10, t0.Add(-time.Hour), t0.Add(-3*time.Minute))
		}
	}
	sg := signer{ikey: DefaultAccountsIntegrationKey, skey: DefaultAccountsSecretKey, mode: signV2SHA512}
	poll := func() {
		for _, k := range kids {
			sg.host = k.APIHostname
			for _, ti := range logTypes {
				var q url.Values
				if ti.kind == kindV1 {
					q = msq("mintime", strconv.FormatInt(t0.Add(-time.Hour).Unix(), 10))
				} else {
					q = msq("mintime", ms(t0.Add(-time.Hour)), "maxtime", ms(t0.Add(-2*time.Minute)), "limit", strconv.Itoa(ti.maxLimit))
				}
				q.Set("account_id", k.AccountID)
				req := httptest.NewRequest(http.MethodGet, ti.path+"?"+q.Encode(), nil)
				sg.sign(req, t0, nil)
				rec := httptest.NewRecorder()
				s.ServeHTTP(rec, req)
				if rec.Code != 200 {
					b.Fatalf("%s %s: %d %s", k.AccountID, ti.path, rec.Code, rec.Body)
				}
			}
		}
	}
	poll()
	read := heapMiB() - before
	// Each child's default inventory, read once.
	for _, k := range kids {
		sg.host = k.APIHostname
		for _, path := range []string{"/admin/v1/users", summaryPath} {
			req := httptest.NewRequest(http.MethodGet, path+"?account_id="+k.AccountID, nil)
			sg.sign(req, t0, nil)
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			if rec.Code != 200 {
				b.Fatalf("%s %s: %d %s", k.AccountID, path, rec.Code, rec.Body)
			}
		}
	}
	withInv := heapMiB() - before
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		poll()
	}
	b.StopTimer()
	_, peak := rssMiB()
	b.ReportMetric(float64(b.N*len(kids)*len(logTypes))/b.Elapsed().Seconds(), "requests/s")
	b.ReportMetric(listed*1024/float64(len(kids)), "listed-KiB/child")
	b.ReportMetric(read*1024/float64(len(kids)), "per-child-KiB")
	b.ReportMetric(withInv*1024/float64(len(kids)), "with-inventory-KiB/child")
	b.ReportMetric(withInv, "heap-MiB")
	b.ReportMetric(peak, "peak-RSS-MiB")
}
