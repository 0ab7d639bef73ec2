// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package otlpsink

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
)

func testLogs(t *testing.T, n int, prefix string) plog.Logs {
	t.Helper()
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "sinktest")
	lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
	for i := range n {
		lr := lrs.AppendEmpty()
		lr.Body().SetStr(prefix + strconv.Itoa(i))
	}
	return ld
}

type encoding int

const (
	encProto encoding = iota
	encJSON
	encGzipProto
)

func post(t *testing.T, url string, ld plog.Logs, enc encoding) *http.Response {
	t.Helper()
	req := plogotlp.NewExportRequestFromLogs(ld)
	var body []byte
	var err error
	ct := contentTypeProto
	if enc == encJSON {
		ct = contentTypeJSON
		body, err = req.MarshalJSON()
	} else {
		body, err = req.MarshalProto()
	}
	require.NoError(t, err)
	hreq, err := http.NewRequest(http.MethodPost, url+LogsPath, nil)
	require.NoError(t, err)
	if enc == encGzipProto {
		var buf bytes.Buffer
		gz := gzip.NewWriter(&buf)
		_, err = gz.Write(body)
		require.NoError(t, err)
		require.NoError(t, gz.Close())
		body = buf.Bytes()
		hreq.Header.Set("Content-Encoding", "gzip")
	}
	hreq.Body = httpBody(body)
	hreq.Header.Set("Content-Type", ct)
	resp, err := http.DefaultClient.Do(hreq)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func httpBody(b []byte) *readCloser { return &readCloser{bytes.NewReader(b)} }

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

func newSink(t *testing.T) (*Sink, *httptest.Server) {
	t.Helper()
	s := openSink(t)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close) // before the sink closes: cleanups run last first
	return s, srv
}

// openSink opens a sink on a fresh file, closed when the test ends; its handler is called
// directly, without a server.
func openSink(t *testing.T) *Sink {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "sink.bin"))
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, s.Close()) })
	return s
}

// protoBody is the protobuf body of an export of ld.
func protoBody(t *testing.T, ld plog.Logs) []byte {
	t.Helper()
	body, err := plogotlp.NewExportRequestFromLogs(ld).MarshalProto()
	require.NoError(t, err)
	return body
}

func TestStoreAndReadBack(t *testing.T) {
	tests := []struct {
		name   string
		enc    encoding
		wantCT string
	}{
		{"protobuf", encProto, contentTypeProto},
		{"json", encJSON, contentTypeJSON},
		{"gzip protobuf", encGzipProto, contentTypeProto},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, srv := newSink(t)
			resp := post(t, srv.URL, testLogs(t, 3, "a"), tt.enc)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, tt.wantCT, resp.Header.Get("Content-Type"))
			resp = post(t, srv.URL, testLogs(t, 2, "b"), tt.enc)
			require.Equal(t, http.StatusOK, resp.StatusCode)

			assert.Equal(t, 5, s.RecordCount())
			reqs, err := s.Requests()
			require.NoError(t, err)
			require.Len(t, reqs, 2)
			assert.Equal(t, 3, reqs[0].LogRecordCount())
			assert.Equal(t, "b1", reqs[1].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(1).Body().Str())
			all, err := s.Logs()
			require.NoError(t, err)
			assert.Equal(t, 5, all.LogRecordCount())
			st := s.Stats()
			assert.Equal(t, Stats{Requests: 2, Accepted: 2, Stored: 2, Records: 5}, st)
		})
	}
}

func TestRejectsMalformed(t *testing.T) {
	tests := []struct {
		name   string
		method string
		path   string
		ct     string
		ce     string
		body   []byte
		want   int
	}{
		{"wrong method", http.MethodGet, LogsPath, contentTypeProto, "", nil, http.StatusMethodNotAllowed},
		{"wrong path", http.MethodPost, "/v1/traces", contentTypeProto, "", nil, http.StatusNotFound},
		{"wrong content type", http.MethodPost, LogsPath, "text/plain", "", []byte("x"), http.StatusUnsupportedMediaType},
		{"unknown encoding", http.MethodPost, LogsPath, contentTypeProto, "br", []byte("x"), http.StatusUnsupportedMediaType},
		{"bad gzip", http.MethodPost, LogsPath, contentTypeProto, "gzip", []byte("not gzip"), http.StatusBadRequest},
		{"bad protobuf", http.MethodPost, LogsPath, contentTypeProto, "", []byte{0xff, 0xff, 0xff}, http.StatusBadRequest},
		{"bad json", http.MethodPost, LogsPath, contentTypeJSON, "", []byte("{"), http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, srv := newSink(t)
			req, err := http.NewRequest(tt.method, srv.URL+tt.path, bytes.NewReader(tt.body))
			require.NoError(t, err)
			req.Header.Set("Content-Type", tt.ct)
			if tt.ce != "" {
				req.Header.Set("Content-Encoding", tt.ce)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, tt.want, resp.StatusCode)
			assert.Zero(t, s.RecordCount())
			assert.Zero(t, s.Stats().Stored)
		})
	}
}

func TestRefuse(t *testing.T) {
	tests := []struct {
		name           string
		status         int
		retryAfter     time.Duration
		wantRetryAfter string
	}{
		{"503", http.StatusServiceUnavailable, 0, ""},
		{"429 with retry-after", http.StatusTooManyRequests, 3 * time.Second, "3"},
		{"429 sub-second retry-after rounds up", http.StatusTooManyRequests, 10 * time.Millisecond, "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, srv := newSink(t)
			s.Refuse(tt.status, 0, tt.retryAfter)
			resp := post(t, srv.URL, testLogs(t, 4, "r"), encProto)
			assert.Equal(t, tt.status, resp.StatusCode)
			assert.Equal(t, tt.wantRetryAfter, resp.Header.Get("Retry-After"))
			assert.Zero(t, s.RecordCount())

			s.Accept()
			resp = post(t, srv.URL, testLogs(t, 4, "r"), encProto)
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, 4, s.RecordCount())
			assert.Equal(t, Stats{Requests: 2, Accepted: 1, Refused: 1, Stored: 1, Records: 4}, s.Stats())
		})
	}
}

func TestRefuseForEnds(t *testing.T) {
	s, srv := newSink(t)
	s.Refuse(http.StatusServiceUnavailable, 200*time.Millisecond, 0)
	resp := post(t, srv.URL, testLogs(t, 1, "x"), encProto)
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	require.Eventually(t, func() bool {
		return post(t, srv.URL, testLogs(t, 1, "x"), encProto).StatusCode == http.StatusOK
	}, 5*time.Second, 50*time.Millisecond)
	assert.Equal(t, 1, s.RecordCount())
}

func TestReopenKeepsAndTruncatesTornTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sink.bin")
	s, err := Open(path)
	require.NoError(t, err)
	srv := httptest.NewServer(s)
	require.Equal(t, http.StatusOK, post(t, srv.URL, testLogs(t, 3, "a"), encProto).StatusCode)
	require.Equal(t, http.StatusOK, post(t, srv.URL, testLogs(t, 2, "b"), encProto).StatusCode)
	srv.Close()
	require.NoError(t, s.Close())

	fi, err := os.Stat(path)
	require.NoError(t, err)
	full := fi.Size()
	// A crash mid-append leaves part of a frame: header and a few payload bytes.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	_, err = f.Write([]byte{0, 0, 1, 0, 1, 2, 3, 4, 9, 9})
	require.NoError(t, err)
	require.NoError(t, f.Close())

	reqs, err := ReadFile(path)
	require.NoError(t, err)
	assert.Len(t, reqs, 2, "the torn frame is ignored on read")

	s2, err := Open(path)
	require.NoError(t, err)
	defer s2.Close()
	assert.Equal(t, 5, s2.RecordCount())
	fi, err = os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, full, fi.Size(), "the torn frame is cut off at Open")

	srv2 := httptest.NewServer(s2)
	defer srv2.Close()
	require.Equal(t, http.StatusOK, post(t, srv2.URL, testLogs(t, 1, "c"), encProto).StatusCode)
	reqs, err = s2.Requests()
	require.NoError(t, err)
	require.Len(t, reqs, 3)
	assert.Equal(t, "c0", reqs[2].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Body().Str())
}

func TestCorruptFrameIsAnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sink.bin")
	s, err := Open(path)
	require.NoError(t, err)
	srv := httptest.NewServer(s)
	require.Equal(t, http.StatusOK, post(t, srv.URL, testLogs(t, 3, "a"), encProto).StatusCode)
	srv.Close()
	require.NoError(t, s.Close())

	b, err := os.ReadFile(path)
	require.NoError(t, err)
	b[len(b)-1] ^= 0xff
	require.NoError(t, os.WriteFile(path, b, 0o600))

	_, err = ReadFile(path)
	require.ErrorContains(t, err, "checksum mismatch")
	_, err = Open(path)
	require.ErrorContains(t, err, "checksum mismatch")
}

func TestDelayHonoursContext(t *testing.T) {
	s, srv := newSink(t)
	s.SetDelay(time.Hour)
	req, err := http.NewRequest(http.MethodPost, srv.URL+LogsPath, bytes.NewReader(nil))
	require.NoError(t, err)
	req.Header.Set("Content-Type", contentTypeProto)
	client := &http.Client{Timeout: 200 * time.Millisecond}
	start := time.Now()
	_, err = client.Do(req)
	require.Error(t, err)
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.Zero(t, s.RecordCount())
}

func TestHoldRelease(t *testing.T) {
	tests := []struct {
		name      string
		giveUp    bool // the sender abandons the held request
		wantCount int
	}{
		{"released request is stored", false, 2},
		{"abandoned request is not stored", true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, srv := newSink(t)
			s.Hold()
			body := protoBody(t, testLogs(t, 2, "h"))
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+LogsPath, bytes.NewReader(body))
			require.NoError(t, err)
			req.Header.Set("Content-Type", contentTypeProto)
			result := make(chan int, 1)
			go func() {
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					result <- 0
					return
				}
				resp.Body.Close()
				result <- resp.StatusCode
			}()
			require.Eventually(t, func() bool { return s.Held() == 1 }, 5*time.Second, 10*time.Millisecond)
			assert.Zero(t, s.RecordCount())
			if tt.giveUp {
				cancel()
				assert.Equal(t, 0, <-result)
				require.Eventually(t, func() bool { return s.Held() == 0 }, 5*time.Second, 10*time.Millisecond)
				s.Release()
			} else {
				s.Release()
				assert.Equal(t, http.StatusOK, <-result)
			}
			assert.Equal(t, tt.wantCount, s.RecordCount())
		})
	}
}

// A request already past the gate when Hold is called is still stored and answered; Busy
// shows it until then, so that a test stopping a sender knows when nothing is in progress.
func TestBusyCoversRequestsPastTheGate(t *testing.T) {
	s, srv := newSink(t)
	s.SetDelay(300 * time.Millisecond)
	body := protoBody(t, testLogs(t, 2, "b"))
	result := make(chan int, 1)
	go func() {
		resp, err := http.Post(srv.URL+LogsPath, contentTypeProto, bytes.NewReader(body)) //nolint:noctx // a test request
		if err != nil {
			result <- 0
			return
		}
		resp.Body.Close()
		result <- resp.StatusCode
	}()
	require.Eventually(t, func() bool { return s.Busy() == 1 }, 5*time.Second, 5*time.Millisecond)
	s.Hold()
	defer s.Release()
	assert.Equal(t, 0, s.Held(), "a request past the gate is not held")
	assert.Equal(t, http.StatusOK, <-result)
	require.Eventually(t, func() bool { return s.Busy() == 0 }, 5*time.Second, 5*time.Millisecond)
	assert.Equal(t, 2, s.RecordCount(), "the request past the gate was stored")
}

// A request whose sender is gone by the time it would be stored (a client timeout, a
// killed collector whose last request was still being read) is not stored: the sender
// never saw it acknowledged, and storing it would count as a duplicate once the sender
// sends it again.
func TestAbandonedRequestIsNotStored(t *testing.T) {
	s := openSink(t)
	body := protoBody(t, testLogs(t, 3, "a"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, LogsPath, bytes.NewReader(body))
	req.Header.Set("Content-Type", contentTypeProto)
	s.ServeHTTP(httptest.NewRecorder(), req)
	assert.Zero(t, s.RecordCount())
	st := s.Stats()
	assert.Equal(t, int64(1), st.Abandoned)
	assert.Zero(t, st.Accepted)
	assert.Zero(t, st.Stored)
}

// Active counts a request from the moment it arrives until its handler returns, including
// while its body is still being read (before the gate): a test that kills a sender waits
// for Active() == 0 before releasing a Hold, so that no request of the dead sender is
// stored after it.
func TestActiveCoversRequestsBeingRead(t *testing.T) {
	s := openSink(t)
	body := protoBody(t, testLogs(t, 2, "r"))
	pr, pw := io.Pipe()
	req := httptest.NewRequest(http.MethodPost, LogsPath, pr)
	req.Header.Set("Content-Type", contentTypeProto)
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.ServeHTTP(httptest.NewRecorder(), req)
	}()
	_, err := pw.Write(body[:1])
	require.NoError(t, err)
	require.Eventually(t, func() bool { return s.Active() == 1 }, 5*time.Second, 5*time.Millisecond)
	assert.Zero(t, s.Held())
	assert.Zero(t, s.Busy())
	_, err = pw.Write(body[1:])
	require.NoError(t, err)
	require.NoError(t, pw.Close())
	<-done
	assert.Zero(t, s.Active())
	assert.Equal(t, 2, s.RecordCount())
}
