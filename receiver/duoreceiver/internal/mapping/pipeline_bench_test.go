// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package mapping

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/plogtest"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-duo/otelcol-duo/internal/duosim"
	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/duoapi"
)

// The whole per-page cost (issue #6): a page's body as Duo sends it, through
// duoapi.DecodePage (what Fetch runs on every page) and Append for every record, against
// the obvious way of doing the same: encoding/json into map[string]any, FromRaw, and the
// same attribute and severity code (finish). Reproduce with
//
//	go test ./receiver/duoreceiver/internal/mapping -run '^$' -bench Pipeline -benchtime 2s -count 6

// simPages holds one full page per log type as the simulator serves it: 1000 records
// (Trust Monitor's largest page is 500, docs/duo-api.md §3.6).
var simPages = struct {
	once  sync.Once
	pages map[duoapi.LogType][]byte
	err   error
}{}

// capture keeps the body of the last response it carried.
type capture struct {
	mu   sync.Mutex
	last []byte
}

func (c *capture) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.last = body
	c.mu.Unlock()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

var errGotPage = errors.New("got the page")

// loadSimPages backfills a simulator with every log type and reads the first page of a
// window holding more than a page, through the real client (signed requests).
func loadSimPages() (map[duoapi.LogType][]byte, error) {
	simPages.once.Do(func() {
		sim := duosim.New(duosim.Config{Seed: 6})
		srv := httptest.NewServer(sim)
		defer srv.Close()
		now := time.Now()
		from, to := now.Add(-3*time.Hour).Truncate(time.Second), now.Add(-time.Hour)
		tr := &capture{}
		c, err := duoapi.New(duoapi.Config{
			BaseURL:        srv.URL,
			Host:           duosim.DefaultHost,
			IntegrationKey: duosim.DefaultIntegrationKey,
			SecretKey:      duosim.DefaultSecretKey,
		}, &http.Client{Transport: tr, Timeout: time.Minute})
		if err != nil {
			simPages.err = err
			return
		}
		simPages.pages = make(map[duoapi.LogType][]byte)
		for _, lt := range duoapi.LogTypes {
			sim.Backfill(string(lt), 5000, from, to)
			err := c.Fetch(context.Background(), lt, duoapi.Window{Start: from, End: to}, func(duoapi.Page) error {
				return errGotPage
			})
			if !errors.Is(err, errGotPage) {
				simPages.err = fmt.Errorf("%s: %w", lt, err)
				return
			}
			tr.mu.Lock()
			simPages.pages[lt] = tr.last
			tr.mu.Unlock()
		}
	})
	return simPages.pages, simPages.err
}

func fullPageSize(lt duoapi.LogType) int {
	if lt == logTrustMonitor {
		return 500
	}
	return 1000
}

func simPage(tb testing.TB, lt duoapi.LogType) []byte {
	tb.Helper()
	pages, err := loadSimPages()
	require.NoError(tb, err)
	return pages[lt]
}

// pipeFunc maps every record of one page body into lrs and returns how many it mapped.
type pipeFunc func(lrs plog.LogRecordSlice, lt duoapi.LogType, body []byte, observed time.Time) (int, error)

// fastPipeline is what the receiver runs per page: the client's jsontext page walk and
// Append's jsontext body building.
func fastPipeline(lrs plog.LogRecordSlice, lt duoapi.LogType, body []byte, observed time.Time) (int, error) {
	page, err := duoapi.DecodePage(lt, body)
	if err != nil {
		return 0, err
	}
	for _, r := range page.Records {
		if _, err := Append(lrs, lt, r, observed); err != nil {
			return 0, err
		}
	}
	return len(page.Records), nil
}

// jsonPipeline is fastPipeline with the body kept as the record's JSON text (body: json).
func jsonPipeline(lrs plog.LogRecordSlice, lt duoapi.LogType, body []byte, observed time.Time) (int, error) {
	page, err := duoapi.DecodePage(lt, body)
	if err != nil {
		return 0, err
	}
	for _, r := range page.Records {
		if err := AppendJSON(lrs, lt, r, observed); err != nil {
			return 0, err
		}
	}
	return len(page.Records), nil
}

// naivePipeline decodes the whole page with encoding/json into map[string]any (UseNumber,
// so integers stay Int as in the fast path), builds each body with FromRaw, reads the
// record's time and id from the map by the client's rules, and sets attributes and
// severity with the very code Append uses. It is given no work the fast path does not
// do, and is spared one: the content hash that is a v1 record's id.
func naivePipeline(lrs plog.LogRecordSlice, lt duoapi.LogType, body []byte, observed time.Time) (int, error) {
	tm, ok := types[lt]
	if !ok {
		return 0, fmt.Errorf("unknown log type %q", lt)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var env map[string]any
	if err := dec.Decode(&env); err != nil {
		return 0, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return 0, errors.New("data after the top-level value")
	}
	if stat, _ := env["stat"].(string); stat != "OK" {
		return 0, fmt.Errorf("stat %q", stat)
	}
	var list []any
	switch resp := env["response"].(type) {
	case []any:
		list = resp
	case map[string]any:
		key := "items"
		switch lt {
		case logAuthentication:
			key = "authlogs"
		case logTrustMonitor:
			key = "events"
		}
		list, _ = resp[key].([]any)
	}
	// The ids, as the fast path's page holds them.
	ids := make([]string, 0, len(list))
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			continue
		}
		if err := convertNumbers(m); err != nil {
			return 0, err
		}
		t, id := naiveTimeID(lt, m)
		ids = append(ids, id)
		lr := lrs.AppendEmpty()
		b := lr.Body().SetEmptyMap()
		if err := b.FromRaw(m); err != nil {
			return 0, err
		}
		finish(lr, tm, tm.onMap, pmap{b}, duoapi.Record{Time: t, ID: id}, observed)
	}
	return len(ids), nil
}

// naiveTimeID reads a record's time and id from its map by the client's rules (docs/duo-api.md
// §1.5, §3); the v1 id (a content hash) is not computed.
func naiveTimeID(lt duoapi.LogType, m map[string]any) (time.Time, string) {
	iso := func(k string) (time.Time, bool) {
		s, ok := m[k].(string)
		if !ok {
			return time.Time{}, false
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		return t.UTC(), err == nil
	}
	unix := func(k string, unit time.Duration) (time.Time, bool) {
		switch v := m[k].(type) {
		case int64:
			return time.Unix(0, v*int64(unit)).UTC(), true
		case float64:
			return time.Unix(0, int64(v*float64(unit))).UTC(), true
		}
		return time.Time{}, false
	}
	idOf := func(k string) string { s, _ := m[k].(string); return s }
	var t time.Time
	var ok bool
	switch lt {
	case logAuthentication:
		if t, ok = iso("isotimestamp"); !ok {
			t, _ = unix("timestamp", time.Second)
		}
		return t, idOf("txid")
	case logAdministrator, logOfflineEnrollment:
		if t, ok = unix("timestamp", time.Second); !ok {
			t, _ = iso("isotimestamp")
		}
		return t, ""
	case logTelephony:
		t, _ = iso("ts")
		return t, idOf("telephony_id")
	case logActivity:
		t, _ = iso("ts")
		return t, idOf("activity_id")
	case logTrustMonitor:
		t, _ = unix("surfaced_timestamp", time.Millisecond)
		return t, idOf("sekey")
	}
	return t, ""
}

// TestPipelineFastMatchesNaive shows that the two paths the benchmark compares produce
// the same logs from the simulator's full pages: bodies, times, attributes, severities.
func TestPipelineFastMatchesNaive(t *testing.T) {
	if testing.Short() {
		t.Skip("builds simulator pages")
	}
	for _, lt := range logTypes {
		t.Run(string(lt), func(t *testing.T) {
			body := simPage(t, lt)
			fast, fastRecs := NewLogs(testResource)
			naive, naiveRecs := NewLogs(testResource)
			n, err := fastPipeline(fastRecs, lt, body, testObserved)
			require.NoError(t, err)
			require.Equal(t, fullPageSize(lt), n)
			m, err := naivePipeline(naiveRecs, lt, body, testObserved)
			require.NoError(t, err)
			require.Equal(t, n, m)
			if lt.V1() {
				// The naive path does not compute the v1 content hash, so it sets no uid.
				for _, lr := range fastRecs.All() {
					uid, ok := lr.Attributes().Get(attrLogRecordUID)
					require.True(t, ok)
					require.NotEmpty(t, uid.Str())
					lr.Attributes().Remove(attrLogRecordUID)
				}
			}
			require.NoError(t, plogtest.CompareLogs(naive, fast))
			for i := range fastRecs.Len() {
				require.True(t, naiveRecs.At(i).Body().Equal(fastRecs.At(i).Body()), "record %d", i)
				require.False(t, fastRecs.At(i).Timestamp() == 0, "record %d has no time", i)
			}
		})
	}
}

// TestPipelineRejectsBadPages: a page that is not valid JSON gives an error and maps
// nothing, on both paths.
func TestPipelineRejectsBadPages(t *testing.T) {
	good := simPage(t, logAuthentication)
	tests := []struct {
		name string
		body []byte
	}{
		{"truncated", good[:len(good)/2]},
		{"trailing garbage", append(bytes.Clone(good), " x"...)},
		{"control character in a string", bytes.Replace(good, []byte(`"success"`), []byte("\"suc\x01cess\""), 1)},
		{"bad literal", bytes.Replace(good, []byte(`true`), []byte(`tru`), 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for name, fn := range map[string]pipeFunc{"fast": fastPipeline, "naive": naivePipeline} {
				_, lrs := NewLogs(testResource)
				_, err := fn(lrs, logAuthentication, tt.body, testObserved)
				require.Error(t, err, name)
				require.Zero(t, lrs.Len(), name)
			}
		})
	}
}

// cpuTime is the CPU time (user and system) the process has used so far.
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkPipeline runs both paths over each log type's full simulator page and reports
// per-record time, bytes and allocations (the whole page, including the Logs).
func BenchmarkPipeline(b *testing.B) {
	impls := []struct {
		name string
		fn   pipeFunc
	}{
		{"fast", fastPipeline},
		{"json", jsonPipeline},
		{"naive", naivePipeline},
	}
	for _, lt := range logTypes {
		body := simPage(b, lt)
		for _, impl := range impls {
			b.Run(string(lt)+"/"+impl.name, func(b *testing.B) {
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				cpu0 := cpuTime(b)
				b.SetBytes(int64(len(body)))
				b.ResetTimer()
				records := 0
				for b.Loop() {
					_, lrs := NewLogs(testResource)
					n, err := impl.fn(lrs, lt, body, testObserved)
					if err != nil || n != fullPageSize(lt) {
						b.Fatalf("%d records, %v", n, err)
					}
					records += n
				}
				b.StopTimer()
				cpu := cpuTime(b) - cpu0
				runtime.ReadMemStats(&after)
				n := float64(records)
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/record")
				// CPU time of the whole process (garbage collection on other cores
				// included) is steadier than wall time on a shared machine.
				b.ReportMetric(float64(cpu.Nanoseconds())/n, "cpu-ns/record")
				b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/n, "B/record")
				b.ReportMetric(float64(after.Mallocs-before.Mallocs)/n, "allocs/record")
			})
		}
	}
}
