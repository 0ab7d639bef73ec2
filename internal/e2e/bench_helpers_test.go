// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"

	"github.com/otelcol-duo/otelcol-duo/internal/duosim"
)

func TestParseStatCPU(t *testing.T) {
	tests := []struct {
		name    string
		stat    string
		want    time.Duration
		wantErr bool
	}{
		{
			name: "plain",
			stat: "1234 (otelcol-duo) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 12 0 100 0 0",
			want: 3250 * time.Millisecond, // (250+75) ticks of 10 ms
		},
		{
			name: "command with spaces and parentheses",
			stat: "99 (a) b (c)) R 1 99 99 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 5 0 0",
			want: 100 * time.Millisecond,
		},
		{name: "no command", stat: "1234 S 1", wantErr: true},
		{name: "too short", stat: "1 (x) S 1 2 3", wantErr: true},
		{name: "not a number", stat: "1 (x) S 1 1 1 0 -1 0 0 0 0 0 u 3 0", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStatCPU([]byte(tt.stat))
			if tt.wantErr {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseStatusRSS(t *testing.T) {
	tests := []struct {
		name             string
		status           string
		wantHWM, wantRSS int64
		wantErr          bool
	}{
		{
			name:    "both",
			status:  "Name:\totelcol-duo\nVmPeak:\t  900000 kB\nVmHWM:\t   65536 kB\nVmRSS:\t   61440 kB\nThreads:\t12\n",
			wantHWM: 64 << 20, wantRSS: 60 << 20,
		},
		{name: "missing", status: "Name:\tx\nVmRSS:\t 1 kB\n", wantErr: true},
		{name: "bad unit", status: "VmHWM:\t 1 MB\nVmRSS:\t 1 kB\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hwm, rss, err := parseStatusRSS([]byte(tt.status))
			if tt.wantErr {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantHWM, hwm)
			assert.Equal(t, tt.wantRSS, rss)
		})
	}
}

func TestReadProcStatsSelf(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc")
	}
	ps, err := ReadProcStats(os.Getpid())
	require.NoError(t, err)
	assert.Positive(t, ps.PeakRSS)
	assert.GreaterOrEqual(t, ps.PeakRSS, ps.RSS)
}

// logsWith returns logs holding the given number of records in each scope.
func logsWith(perScope ...[]int) plog.Logs {
	ld := plog.NewLogs()
	for _, scopes := range perScope {
		rl := ld.ResourceLogs().AppendEmpty()
		rl.Resource().Attributes().PutStr("duo.api.hostname", "api-x.duosecurity.com")
		for _, n := range scopes {
			sl := rl.ScopeLogs().AppendEmpty()
			sl.Scope().SetName("duo")
			for i := 0; i < n; i++ {
				lr := sl.LogRecords().AppendEmpty()
				lr.SetEventName("duo.authentication")
				lr.Body().SetEmptyMap().PutStr("txid", strings.Repeat("x", i))
				lr.Attributes().PutInt("n", int64(i))
			}
		}
	}
	return ld
}

func TestCountLogRecords(t *testing.T) {
	tests := []struct {
		name string
		ld   plog.Logs
	}{
		{"empty", plog.NewLogs()},
		{"one", logsWith([]int{1})},
		{"scopes and resources", logsWith([]int{3, 0, 200}, []int{}, []int{7})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := plogotlp.NewExportRequestFromLogs(tt.ld).MarshalProto()
			require.NoError(t, err)
			n, err := CountLogRecords(b)
			require.NoError(t, err)
			assert.Equal(t, tt.ld.LogRecordCount(), n)
		})
	}
	_, err := CountLogRecords([]byte{0x0a, 0x05, 0x01})
	assert.Error(t, err, "truncated message")
}

func TestCountingSink(t *testing.T) {
	sink := StartCountingSink(t)
	body, err := plogotlp.NewExportRequestFromLogs(logsWith([]int{5, 6})).MarshalProto()
	require.NoError(t, err)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, err = zw.Write(body)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	jsonBody, err := plogotlp.NewExportRequestFromLogs(logsWith([]int{5, 6})).MarshalJSON()
	require.NoError(t, err)

	tests := []struct {
		name, path, ctype, encoding string
		body                        []byte
		wantStatus                  int
	}{
		{"plain", "/v1/logs", "application/x-protobuf", "", body, http.StatusOK},
		{"gzip", "/v1/logs", "application/x-protobuf", "gzip", gz.Bytes(), http.StatusOK},
		{"json", "/v1/logs", "application/json", "", jsonBody, http.StatusOK},
		{"json, wrong path", "/v1/traces", "application/json", "", jsonBody, http.StatusNotFound},
		{"other type refused", "/v1/logs", "text/plain", "", body, http.StatusUnsupportedMediaType},
		{"wrong path", "/v1/traces", "application/x-protobuf", "", body, http.StatusNotFound},
		{"garbage", "/v1/logs", "application/x-protobuf", "", []byte{0x0a, 0x7f}, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, sink.URL+tt.path, bytes.NewReader(tt.body))
			require.NoError(t, err)
			req.Header.Set("Content-Type", tt.ctype)
			if tt.encoding != "" {
				req.Header.Set("Content-Encoding", tt.encoding)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			_ = resp.Body.Close()
			assert.Equal(t, tt.wantStatus, resp.StatusCode)
		})
	}
	records, requests, last := sink.Counts()
	assert.Equal(t, int64(33), records, "three accepted requests of 11 records")
	assert.Equal(t, int64(3), requests)
	assert.False(t, last.IsZero())
}

func TestFetchFloor(t *testing.T) {
	tests := []struct {
		name      string
		n         int
		wantPages int
	}{
		{"empty", 0, 1},
		{"one partial page", 10, 1},
		{"exact pages", 2000, 2},
		{"pages and a rest", 2500, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := time.Now()
			sim := StartTimedSim(t, duosim.Config{Seed: 3}, authPath)
			sim.Backfill("authentication", tt.n, now.Add(-2*time.Hour), now.Add(-time.Hour))
			fl, err := FetchFloor(t.Context(), http.DefaultClient, sim.SimServer, now.Add(-3*time.Hour), now)
			require.NoError(t, err)
			assert.Equal(t, tt.wantPages, fl.Pages)
			assert.False(t, sim.First().IsZero())
			// The simulator counts a response after writing it.
			WaitUntil(t, nil, 5*time.Second, func() (bool, string) {
				st := sim.Stats()
				return st.Records[authPath] == tt.n && st.Requests[authPath][http.StatusOK] == tt.wantPages,
					"simulator has not counted every page yet"
			})
		})
	}
}

func TestFetchFloorRefused(t *testing.T) {
	sim := StartTimedSim(t, duosim.Config{}, authPath)
	sim.SetCredentials(sim.IntegrationKey, strings.Repeat("z", 40))
	_, err := FetchFloor(t.Context(), http.DefaultClient, sim.SimServer, time.Now().Add(-time.Hour), time.Now())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "401")
}

func TestBenchConfigRender(t *testing.T) {
	tests := []struct {
		name          string
		cfg           BenchConfig
		want, notWant []string
	}{
		{
			name: "defaults",
			cfg:  BenchConfig{SimURL: "http://127.0.0.1:1", SinkURL: "http://127.0.0.1:2"},
			want: []string{"rate_limit: 0\n", "send_batch_size: 1000", "processors: [batch]", "compression: none",
				"logs_endpoint: http://127.0.0.1:2/v1/logs", "pull_interval: 1s"},
			notWant: []string{"file_storage", "memory_limiter"},
		},
		{
			name:    "storage, limiter, no batch",
			cfg:     BenchConfig{StorageDir: "/tmp/x", MemoryLimitMiB: 100, BatchSize: -1, Compression: "gzip", RateLimit: 60},
			want:    []string{"storage: file_storage", "extensions: [file_storage]", "limit_mib: 100", "processors: [memory_limiter]", "compression: gzip", "rate_limit: 60\n"},
			notWant: []string{"batch"},
		},
		{
			name:    "no processor at all",
			cfg:     BenchConfig{BatchSize: -1},
			notWant: []string{"processors"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.cfg.Render()
			require.NoError(t, err)
			for _, w := range tt.want {
				assert.Contains(t, string(b), w)
			}
			for _, w := range tt.notWant {
				assert.NotContains(t, string(b), w)
			}
		})
	}
}

func TestTimedSimReset(t *testing.T) {
	sim := StartTimedSim(t, duosim.Config{}, authPath)
	floor := func() {
		_, err := FetchFloor(t.Context(), http.DefaultClient, sim.SimServer, time.Now().Add(-time.Hour), time.Now())
		require.NoError(t, err)
	}
	floor()
	first := sim.First()
	require.False(t, first.IsZero())
	calls := 0
	sim.Reset(func() { calls++ })
	assert.True(t, sim.First().IsZero(), "Reset forgets the first request")
	floor()
	floor()
	assert.Equal(t, 1, calls, "onFirst is called once per Reset")
	assert.True(t, sim.First().After(first))
}
