// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"text/template"
	"time"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/otelcol-duo/otelcol-duo/internal/duosim"
	"github.com/otelcol-duo/otelcol-duo/internal/otlpsink"
)

// This file holds what the end-to-end benchmarks (bench_e2e_test.go, `make bench-e2e`)
// need beyond the harness: resource figures of a process from /proc, a simulator that
// notes when its first log request came, an OTLP/HTTP sink that only counts, the
// fetch-only floor, and the benchmark's own collector configuration.

// authPath is the authentication log's endpoint (docs/duo-api.md §3.1).
const authPath = "/admin/v2/logs/authentication"

// clockTicks is the unit of utime and stime in /proc/<pid>/stat: USER_HZ, 100 on every
// Linux architecture Go supports (proc(5)).
const clockTicks = 100

// ProcStats is what /proc says about a running process.
type ProcStats struct {
	// CPU is user plus system time so far.
	CPU time.Duration
	// PeakRSS is the resident set's high-water mark (VmHWM), in bytes.
	PeakRSS int64
	// RSS is the current resident set (VmRSS), in bytes.
	RSS int64
}

// ReadProcStats reads the CPU time and resident set figures of a live process (Linux).
func ReadProcStats(pid int) (ProcStats, error) {
	var ps ProcStats
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return ps, err
	}
	if ps.CPU, err = parseStatCPU(stat); err != nil {
		return ps, err
	}
	status, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return ps, err
	}
	ps.PeakRSS, ps.RSS, err = parseStatusRSS(status)
	return ps, err
}

// parseStatCPU returns utime+stime (fields 14 and 15) of a /proc/<pid>/stat line. The
// command name (field 2) is in parentheses and may hold spaces, so fields are counted
// from the last ')'.
func parseStatCPU(stat []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("proc stat: no ')' after the command name")
	}
	// After ')': field 3 (state) is the first.
	f := strings.Fields(string(stat[i+1:]))
	const utime, stime = 14 - 3, 15 - 3
	if len(f) <= stime {
		return 0, fmt.Errorf("proc stat: %d fields after the command name, want more than %d", len(f), stime)
	}
	u, err1 := strconv.ParseInt(f[utime], 10, 64)
	s, err2 := strconv.ParseInt(f[stime], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("proc stat: %w", err)
	}
	return time.Duration(u+s) * time.Second / clockTicks, nil
}

// parseStatusRSS returns VmHWM and VmRSS, in bytes, of a /proc/<pid>/status file.
func parseStatusRSS(status []byte) (hwm, rss int64, err error) {
	found := 0
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || (name != "VmHWM" && name != "VmRSS") {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, 0, fmt.Errorf("proc status: unexpected %s line %q", name, sc.Text())
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("proc status: %s: %w", name, err)
		}
		if name == "VmHWM" {
			hwm = kb << 10
		} else {
			rss = kb << 10
		}
		found++
	}
	if found != 2 {
		return 0, 0, errors.New("proc status: no VmHWM and VmRSS lines")
	}
	return hwm, rss, nil
}

// TimedSim is a simulator served on 127.0.0.1 that notes when the first request to one
// path arrived, so that a benchmark's clock starts at the collector's first log request
// rather than at its process start.
type TimedSim struct {
	*SimServer
	path    string
	first   atomic.Int64 // UnixNano of the first request to path since Reset; 0 = none yet
	onFirst atomic.Pointer[func()]
}

// StartTimedSim starts a simulator like StartSim, timing the first request to path.
func StartTimedSim(tb testing.TB, cfg duosim.Config, path string) *TimedSim {
	tb.Helper()
	cfg = withCredentials(cfg)
	ts := &TimedSim{path: path}
	sim := duosim.New(cfg)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == ts.path && ts.first.Load() == 0 && ts.first.CompareAndSwap(0, time.Now().UnixNano()) {
			if f := ts.onFirst.Load(); f != nil {
				(*f)()
			}
		}
		sim.ServeHTTP(w, r)
	}))
	tb.Cleanup(srv.Close)
	ts.SimServer = &SimServer{
		Sim: sim, Server: srv, URL: srv.URL,
		Host: cfg.Host, IntegrationKey: cfg.IntegrationKey, SecretKey: cfg.SecretKey,
	}
	return ts
}

// Reset forgets the first request seen so far: the next request to the path is the
// first again, and onFirst (if not nil) is called with it, on the request's goroutine,
// before it is served.
func (ts *TimedSim) Reset(onFirst func()) {
	if onFirst == nil {
		ts.onFirst.Store(nil)
	} else {
		ts.onFirst.Store(&onFirst)
	}
	ts.first.Store(0)
}

// First returns when the first request to the timed path since Reset arrived (zero if
// none has).
func (ts *TimedSim) First() time.Time {
	if n := ts.first.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}

// CountingSink is an OTLP/HTTP logs endpoint that counts log records and keeps nothing.
// The durable sink (internal/otlpsink) fsyncs every request, which would make the sink
// the bottleneck of a throughput measurement; this one walks the protobuf wire format
// without building pdata, so it takes as little CPU as possible from the collector on a
// shared machine.
type CountingSink struct {
	Server *httptest.Server
	// URL is the base URL; logs go to URL + "/v1/logs".
	URL string

	mu       sync.Mutex
	records  int64
	requests int64
	last     time.Time // when the count last grew
}

// StartCountingSink serves a CountingSink on 127.0.0.1 until the test ends.
func StartCountingSink(tb testing.TB) *CountingSink {
	tb.Helper()
	s := &CountingSink{}
	s.Server = serve(tb, s)
	s.URL = s.Server.URL
	return s
}

// ServeHTTP accepts POST /v1/logs with a protobuf ExportLogsServiceRequest (or, for
// the exporter's encoding: json, its JSON form), plain or gzip-compressed, and answers an
// empty ExportLogsServiceResponse.
func (s *CountingSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Content-Type") == "application/json" && r.Method == http.MethodPost && r.URL.Path == "/v1/logs" {
		// The exporter's encoding: json (BENCH_E2E_ENCODING), to measure what it costs.
		b, status, err := otlpsink.ReadBody(r)
		if err != nil {
			http.Error(w, err.Error(), status)
			return
		}
		req := plogotlp.NewExportRequest()
		if err := req.UnmarshalJSON(b); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.count(req.Logs().LogRecordCount())
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("{}"))
		return
	}
	b, ok := exportBody(w, r)
	if !ok {
		return
	}
	n, err := CountLogRecords(b)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.count(n)
	acceptExport(w)
}

func (s *CountingSink) count(n int) {
	s.mu.Lock()
	s.records += int64(n)
	s.requests++
	if n > 0 {
		s.last = time.Now()
	}
	s.mu.Unlock()
}

// Counts returns the records and requests received so far and when the record count
// last grew.
func (s *CountingSink) Counts() (records, requests int64, last time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.records, s.requests, s.last
}

// CountLogRecords counts the log records of a protobuf ExportLogsServiceRequest
// (resource_logs = 1; ResourceLogs.scope_logs = 2; ScopeLogs.log_records = 2) without
// decoding them.
func CountLogRecords(b []byte) (int, error) {
	n := 0
	err := eachField(b, 1, func(rl []byte) error {
		return eachField(rl, 2, func(sl []byte) error {
			return eachField(sl, 2, func([]byte) error {
				n++
				return nil
			})
		})
	})
	return n, err
}

// eachField calls fn with the payload of every length-delimited field number num of the
// message b, skipping every other field.
func eachField(b []byte, num protowire.Number, fn func([]byte) error) error {
	for len(b) > 0 {
		n, typ, l := protowire.ConsumeTag(b)
		if l < 0 {
			return protowire.ParseError(l)
		}
		b = b[l:]
		if n == num && typ == protowire.BytesType {
			v, l := protowire.ConsumeBytes(b)
			if l < 0 {
				return protowire.ParseError(l)
			}
			if err := fn(v); err != nil {
				return err
			}
			b = b[l:]
			continue
		}
		l = protowire.ConsumeFieldValue(n, typ, b)
		if l < 0 {
			return protowire.ParseError(l)
		}
		b = b[l:]
	}
	return nil
}

// Floor is the result of a fetch-only pass over a window.
type Floor struct {
	Pages   int
	Bytes   int64
	Elapsed time.Duration
}

// FetchFloor reads every page of the authentication log in [start, end] the way the
// receiver's requests do (signed, limit 1000, ascending, following next_offset; docs/duo-api.md
// §3.1, §4.1) and throws the bodies away: no validation, no record decoding, no pdata. It
// is the floor an end-to-end run is compared with: the cost of signing, the HTTP round
// trips and the simulator's serving, which no receiver can avoid.
//
// It signs with the v2 canonical request over HMAC-SHA512 (docs/duo-api.md §2.1), a scheme the
// simulator accepts; the receiver signs with v5, which adds two SHA-512 hashes of
// an empty body and of no X-Duo headers per request, a cost too small to matter over
// 1000-record pages.
func FetchFloor(ctx context.Context, hc *http.Client, sim *SimServer, start, end time.Time) (Floor, error) {
	var fl Floor
	const path = authPath
	base := map[string]string{
		"mintime": strconv.FormatInt(start.UnixMilli(), 10),
		"maxtime": strconv.FormatInt(end.UnixMilli(), 10),
		"limit":   "1000",
		"sort":    "ts:asc",
	}
	var buf bytes.Buffer
	next := ""
	t0 := time.Now()
	for {
		params := base
		if next != "" {
			params = map[string]string{"next_offset": next}
			for k, v := range base {
				params[k] = v
			}
		}
		req, err := signedGet(ctx, sim, path, params)
		if err != nil {
			return fl, err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return fl, err
		}
		buf.Reset()
		_, err = buf.ReadFrom(resp.Body)
		_ = resp.Body.Close()
		if err != nil {
			return fl, err
		}
		if resp.StatusCode != http.StatusOK {
			return fl, fmt.Errorf("floor: GET %s: %d %s", path, resp.StatusCode, tail(buf.Bytes(), 300))
		}
		fl.Pages++
		fl.Bytes += int64(buf.Len())
		next, err = nextOffset(buf.Bytes())
		if err != nil {
			return fl, err
		}
		if next == "" {
			fl.Elapsed = time.Since(t0)
			return fl, nil
		}
	}
}

// nextOffset finds the authentication log's metadata.next_offset (an array of two
// strings, or null; docs/duo-api.md §3.1) near the end of a page and returns it comma-joined, or ""
// for the last page. It looks for the member's name from the end of the body, where the
// simulator puts the metadata, instead of decoding the page.
func nextOffset(body []byte) (string, error) {
	const key = `"next_offset":`
	i := bytes.LastIndex(body, []byte(key))
	if i < 0 {
		return "", fmt.Errorf("floor: page has no next_offset: %s", tail(body, 300))
	}
	rest := body[i+len(key):]
	if bytes.HasPrefix(rest, []byte("null")) {
		return "", nil
	}
	j := bytes.IndexByte(rest, ']')
	if j < 0 {
		return "", errors.New("floor: next_offset is not an array")
	}
	var pair []string
	if err := json.Unmarshal(rest[:j+1], &pair); err != nil || len(pair) != 2 {
		return "", fmt.Errorf("floor: next_offset %q is not two strings", rest[:j+1])
	}
	return pair[0] + "," + pair[1], nil
}

// signedGet builds a GET of path with params, signed with the v2 canonical request
// (date, method, host, path, sorted percent-encoded parameters; docs/duo-api.md §2.1) under
// HMAC-SHA512.
func signedGet(ctx context.Context, sim *SimServer, path string, params map[string]string) (*http.Request, error) {
	var q strings.Builder
	for i, k := range slices.Sorted(maps.Keys(params)) {
		if i > 0 {
			q.WriteByte('&')
		}
		q.WriteString(duoEscape(k))
		q.WriteByte('=')
		q.WriteString(duoEscape(params[k]))
	}
	date := time.Now().UTC().Format(time.RFC1123Z)
	canon := strings.Join([]string{date, http.MethodGet, strings.ToLower(sim.Host), path, q.String()}, "\n")
	mac := hmac.New(sha512.New, []byte(sim.SecretKey))
	mac.Write([]byte(canon))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, sim.URL+path+"?"+q.String(), http.NoBody)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Date", date)
	req.SetBasicAuth(sim.IntegrationKey, hex.EncodeToString(mac.Sum(nil)))
	return req, nil
}

// duoEscape percent-encodes s leaving only RFC 3986 unreserved bytes, with upper-case
// hex (docs/duo-api.md §2.1).
func duoEscape(s string) string {
	// url.QueryEscape leaves exactly the unreserved set alone and writes upper-case hex,
	// but a space as '+', which Duo wants as %20 (a real '+' comes out as %2B).
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// BenchConfig is the collector configuration of the benchmarks: the duo receiver with
// the authentication log only, a batch processor and otlp_http to a CountingSink.
type BenchConfig struct {
	SimURL, Host, IntegrationKey, SecretKey string
	SinkURL                                 string
	// StorageDir, when set, keeps the receiver's cursors in file_storage there (as a
	// deployment does); empty keeps them in memory.
	StorageDir      string
	PullInterval    time.Duration
	Window          time.Duration
	Delay           time.Duration
	InitialLookback time.Duration
	// RateLimit is the receiver's starting budget, requests/min per endpoint; 0 = no budget.
	RateLimit float64
	// Retry* are the receiver's retry_on_failure settings.
	RetryInitial, RetryMax time.Duration
	RetryMultiplier        float64
	RetryRandomization     float64
	// Compression of the exporter: "none" or "gzip".
	Compression string
	// Encoding of the exporter: "proto" (empty, the default) or "json".
	Encoding string
	// Body is the receiver's body setting, map or json; empty leaves the default (map).
	Body string
	// MemoryLimitMiB, when positive, adds a memory_limiter processor with this limit.
	MemoryLimitMiB int
	// BatchSize sets the batch processor's send_batch_size and send_batch_max_size; 0
	// means 1000 (one Duo page, as examples/duo-to-otlp.yaml batches), a negative value
	// leaves the processor out. The processor's own default, 8192, holds eight pages of
	// mapped records at a time: about 240 MiB of peak RSS where 1000 takes about 64 MiB.
	BatchSize int
}

const benchConfigTmpl = `# otelcol-duo benchmark configuration (internal/e2e/bench.go).
{{- if .StorageDir}}
extensions:
  file_storage:
    directory: {{.StorageDir}}
    create_directory: true
{{- end}}
receivers:
  duo:
    api_hostname: {{.Host}}
    integration_key: {{.IntegrationKey}}
    secret_key: {{.SecretKey}}
    endpoint: {{.SimURL}}
{{- if .StorageDir}}
    storage: file_storage
{{- end}}
    delay: {{dur .Delay}}
    initial_lookback: {{dur .InitialLookback}}
    rate_limit: {{.RateLimit}}
{{- if .Body}}
    body: {{.Body}}
{{- end}}
    retry_on_failure:
      enabled: true
      initial_interval: {{dur .RetryInitial}}
      max_interval: {{dur .RetryMax}}
      multiplier: {{.RetryMultiplier}}
      randomization_factor: {{.RetryRandomization}}
      max_elapsed_time: 0s
    logs:
      authentication: {enabled: true, pull_interval: {{dur .PullInterval}}, window: {{dur .Window}}}
      administrator: {enabled: false}
      telephony: {enabled: false}
      activity: {enabled: false}
      offline_enrollment: {enabled: false}
      trust_monitor: {enabled: false}
{{- if or (gt .MemoryLimitMiB 0) (gt .BatchSize 0)}}
processors:
{{- end}}
{{- if gt .MemoryLimitMiB 0}}
  memory_limiter:
    check_interval: 1s
    limit_mib: {{.MemoryLimitMiB}}
{{- end}}
{{- if gt .BatchSize 0}}
  batch:
    send_batch_size: {{.BatchSize}}
    send_batch_max_size: {{.BatchSize}}
{{- end}}
exporters:
  otlp_http:
    logs_endpoint: {{.SinkURL}}/v1/logs
    compression: {{.Compression}}
{{- if .Encoding}}
    encoding: {{.Encoding}}
{{- end}}
    # No queue: the exporter's back pressure reaches the receiver, so memory does not
    # depend on how far the sink is behind.
    sending_queue:
      enabled: false
    retry_on_failure:
      enabled: true
      initial_interval: 100ms
      max_interval: 1s
      max_elapsed_time: 0s
service:
{{- if .StorageDir}}
  extensions: [file_storage]
{{- end}}
  telemetry:
    logs:
      level: info
    metrics:
      level: none
  pipelines:
    logs:
      receivers: [duo]
{{- if or (gt .MemoryLimitMiB 0) (gt .BatchSize 0)}}
      processors: [{{if gt .MemoryLimitMiB 0}}memory_limiter{{if gt .BatchSize 0}}, {{end}}{{end}}{{if gt .BatchSize 0}}batch{{end}}]
{{- end}}
      exporters: [otlp_http]
`

// Render returns the collector YAML, with unset fields at the benchmark's defaults.
func (c BenchConfig) Render() ([]byte, error) {
	set := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	set(&c.PullInterval, time.Second)
	set(&c.Window, 2*time.Second)
	set(&c.Delay, time.Second)
	set(&c.InitialLookback, 3*time.Hour)
	set(&c.RetryInitial, 100*time.Millisecond)
	set(&c.RetryMax, time.Second)
	if c.RetryMultiplier == 0 {
		c.RetryMultiplier = 1.5
	}
	if c.BatchSize == 0 {
		c.BatchSize = 1000
	}
	if c.Compression == "" {
		c.Compression = "none"
	}
	tmpl, err := template.New("bench").Funcs(template.FuncMap{
		"dur": func(d time.Duration) string { return d.String() },
	}).Parse(benchConfigTmpl)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, c); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
