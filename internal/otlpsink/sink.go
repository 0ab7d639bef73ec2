// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

// Package otlpsink is a durable OTLP/HTTP logs endpoint for tests: every accepted request
// is appended to a file and fsynced before the sink answers 200, so a record the sender
// saw acknowledged is a record the sink holds, even if the sink's process dies right after;
// and a request whose sender was gone before the answer (a timeout, a killed process) is
// not stored, since its sender will send it again.
// It can be told to refuse requests (503 or 429) for a while, to be slow, and can read
// everything it stored back as plog.Logs.
package otlpsink // import "github.com/otelcol-duo/otelcol-duo/internal/otlpsink"

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"mime"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
)

// LogsPath is the only path the sink serves.
const LogsPath = "/v1/logs"

const (
	contentTypeProto = "application/x-protobuf"
	contentTypeJSON  = "application/json"

	// maxBodyBytes bounds one request body (after decompression).
	maxBodyBytes = 64 << 20

	// frameHeaderLen is the length (uint32, big endian) and CRC-32C (uint32) before each
	// stored request.
	frameHeaderLen = 8
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Stats counts what the sink has seen since it was opened.
type Stats struct {
	Requests int64 // POSTs to LogsPath, whatever their outcome
	Accepted int64 // requests stored and answered 200
	Refused  int64 // requests answered with the refusal status
	// Abandoned counts requests whose sender was gone (timed out, or died) by the time
	// they would have been stored: never stored, as the sender never saw them answered.
	Abandoned int64
	Rejected  int64 // malformed requests (400, 405, 413, 415)
	Stored    int64 // requests in the file, including those found there at Open
	Records   int64 // log records in the file, including those found there at Open
}

// Sink is an http.Handler that stores OTLP logs requests durably. It is safe for
// concurrent use; requests are stored one at a time, in arrival order.
type Sink struct {
	path string

	mu         sync.Mutex // guards f and stats, and serialises appends
	f          *os.File
	stats      Stats
	refuse     int       // status to answer instead of storing; 0 = accept
	refuseTill time.Time // zero = until told otherwise
	retryAfter time.Duration
	delay      time.Duration
	gate       chan struct{} // nil = open; else requests wait until it is closed
	held       int           // requests waiting at the gate
	busy       int           // requests past the gate, being stored or answered
	active     int           // requests in ServeHTTP, from arrival to return
}

// Open opens (creating it if needed) the file at path and returns a sink that appends to
// it. Requests already in the file are kept and counted: a sink reopened on the same file
// continues where the previous one stopped. A torn frame at the end of the file (a crash
// mid-append, before the 200) is cut off.
func Open(path string) (*Sink, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("failed to open sink file: %w", err)
	}
	s := &Sink{path: path, f: f}
	good, err := scan(f, func(ld plog.Logs) error {
		s.stats.Stored++
		s.stats.Records += int64(ld.LogRecordCount())
		return nil
	})
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	if err := f.Truncate(good); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("failed to truncate torn sink file: %w", err)
	}
	if _, err := f.Seek(good, io.SeekStart); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("failed to seek sink file: %w", err)
	}
	return s, nil
}

// Path returns the file the sink appends to.
func (s *Sink) Path() string { return s.path }

// Close closes the file. Requests after Close are answered 503.
func (s *Sink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}

// Refuse makes the sink answer every request with status (use 503 or 429) for d, or until
// Accept when d is 0. Refused requests are not stored. retryAfter, if positive, is sent as
// a Retry-After header (whole seconds, at least 1).
func (s *Sink) Refuse(status int, d, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuse = status
	s.retryAfter = retryAfter
	s.refuseTill = time.Time{}
	if d > 0 {
		s.refuseTill = time.Now().Add(d)
	}
}

// Accept ends a refusal started with Refuse.
func (s *Sink) Accept() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuse = 0
}

// SetDelay makes the sink wait d before handling each request (0 = no wait). The wait
// ends early if the request's context ends.
func (s *Sink) SetDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// Hold makes requests wait, unstored and unanswered, until Release. A held request whose
// sender gives up (or dies) is never stored: use it to stop a sender at a known point,
// with an export in flight.
func (s *Sink) Hold() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gate == nil {
		s.gate = make(chan struct{})
	}
}

// Release lets held requests (and later ones) through.
func (s *Sink) Release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gate != nil {
		close(s.gate)
		s.gate = nil
	}
}

// Held returns the number of requests waiting at a Hold.
func (s *Sink) Held() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.held
}

// Busy returns the number of requests past the gate that are being stored or answered.
// A test that stops a sender with Hold waits for Held() > 0 and Busy() == 0: then every
// request the sender made before the Hold and that reached the gate has been answered,
// and every later one waits.
func (s *Sink) Busy() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.busy
}

// Active returns the number of requests being handled, at any stage: still being read,
// held, stored or answered. A test that kills a held sender waits for Active() == 0
// before it releases the Hold: a request the dead sender had sent whole may still be
// read after the kill, and must meet the gate, not a released sink.
func (s *Sink) Active() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.active
}

// Stats returns a snapshot of the counters.
func (s *Sink) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// RecordCount returns the number of log records stored so far. It is cheap: use it to
// wait for progress, and Logs to inspect what was stored.
func (s *Sink) RecordCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return int(s.stats.Records)
}

// ServeHTTP implements http.Handler for POST /v1/logs with protobuf or JSON bodies,
// optionally gzip-compressed.
func (s *Sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != LogsPath {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		s.reject(w, http.StatusMethodNotAllowed, "only POST is allowed")
		return
	}
	s.mu.Lock()
	s.stats.Requests++
	s.active++
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.active--
		s.mu.Unlock()
	}()
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (ct != contentTypeProto && ct != contentTypeJSON) {
		s.reject(w, http.StatusUnsupportedMediaType, "content type must be "+contentTypeProto+" or "+contentTypeJSON)
		return
	}
	body, status, err := ReadBody(r)
	if err != nil {
		s.reject(w, status, err.Error())
		return
	}
	req := plogotlp.NewExportRequest()
	if ct == contentTypeJSON {
		err = req.UnmarshalJSON(body)
	} else {
		err = req.UnmarshalProto(body)
	}
	if err != nil {
		s.reject(w, http.StatusBadRequest, "cannot decode request: "+err.Error())
		return
	}

	// The body is read first: only then does net/http notice a sender that goes away
	// (and cancel r.Context()), which is what keeps an abandoned held request unstored.
	s.mu.Lock()
	delay := s.delay
	gate := s.gate
	if gate != nil {
		s.held++
	} else {
		s.busy++
	}
	s.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-r.Context().Done():
		}
		s.mu.Lock()
		s.held--
		if r.Context().Err() == nil {
			s.busy++
		}
		s.mu.Unlock()
		if r.Context().Err() != nil {
			return
		}
	}
	defer func() {
		s.mu.Lock()
		s.busy--
		s.mu.Unlock()
	}()
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}

	if status := s.store(r.Context(), req); status != http.StatusOK {
		s.mu.Lock()
		ra := s.retryAfter
		s.mu.Unlock()
		if ra > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(max(1, int(ra/time.Second))))
		}
		http.Error(w, http.StatusText(status), status)
		return
	}

	resp := plogotlp.NewExportResponse()
	var out []byte
	if ct == contentTypeJSON {
		out, err = resp.MarshalJSON()
	} else {
		out, err = resp.MarshalProto()
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
}

// store appends req durably, or returns the refusal status. A request whose sender is
// gone (ctx ended: net/http ends it when the connection closes) is not stored, or is
// rolled back if the sender went during the write: only a sender still waiting can see
// the 200, and a stored request nobody saw answered would come back as a duplicate.
func (s *Sink) store(ctx context.Context, req plogotlp.ExportRequest) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ctx.Err() != nil {
		s.stats.Abandoned++
		return http.StatusServiceUnavailable
	}
	if s.refuse != 0 && !s.refuseTill.IsZero() && !time.Now().Before(s.refuseTill) {
		s.refuse = 0
	}
	if s.refuse != 0 {
		s.stats.Refused++
		return s.refuse
	}
	if s.f == nil {
		s.stats.Refused++
		return http.StatusServiceUnavailable
	}
	payload, err := req.MarshalProto()
	if err != nil {
		s.stats.Rejected++
		return http.StatusInternalServerError
	}
	frame := make([]byte, frameHeaderLen+len(payload))
	binary.BigEndian.PutUint32(frame[0:4], uint32(len(payload)))
	binary.BigEndian.PutUint32(frame[4:8], crc32.Checksum(payload, castagnoli))
	copy(frame[frameHeaderLen:], payload)
	off, err := s.f.Seek(0, io.SeekCurrent)
	if err != nil {
		return http.StatusInternalServerError
	}
	if _, err := s.f.Write(frame); err != nil {
		s.rollback(off)
		return http.StatusInternalServerError
	}
	if err := s.f.Sync(); err != nil {
		s.rollback(off)
		return http.StatusInternalServerError
	}
	if ctx.Err() != nil {
		s.rollback(off)
		s.stats.Abandoned++
		return http.StatusServiceUnavailable
	}
	s.stats.Accepted++
	s.stats.Stored++
	s.stats.Records += int64(req.Logs().LogRecordCount())
	return http.StatusOK
}

// rollback cuts a partly written frame off so that later appends stay readable.
func (s *Sink) rollback(off int64) {
	_ = s.f.Truncate(off)
	_, _ = s.f.Seek(off, io.SeekStart)
}

func (s *Sink) reject(w http.ResponseWriter, status int, msg string) {
	s.mu.Lock()
	s.stats.Rejected++
	s.mu.Unlock()
	http.Error(w, msg, status)
}

// ReadBody reads the body of an OTLP/HTTP request, plain or gzip, up to 64 MiB once
// decompressed. On error, status is what to answer.
func ReadBody(r *http.Request) (body []byte, status int, err error) {
	var rd io.Reader = r.Body
	switch enc := r.Header.Get("Content-Encoding"); enc {
	case "", "identity":
	case "gzip":
		gz, err := gzip.NewReader(r.Body)
		if err != nil {
			return nil, http.StatusBadRequest, fmt.Errorf("bad gzip body: %w", err)
		}
		defer gz.Close()
		rd = gz
	default:
		return nil, http.StatusUnsupportedMediaType, fmt.Errorf("unsupported content encoding %q", enc)
	}
	body, err = io.ReadAll(io.LimitReader(rd, maxBodyBytes+1))
	if err != nil {
		return nil, http.StatusBadRequest, fmt.Errorf("failed to read body: %w", err)
	}
	if len(body) > maxBodyBytes {
		return nil, http.StatusRequestEntityTooLarge, errors.New("body too large")
	}
	return body, http.StatusOK, nil
}

// Requests reads back every stored request, in the order they were stored.
func (s *Sink) Requests() ([]plog.Logs, error) {
	return ReadFile(s.path)
}

// Logs reads back everything stored, as one plog.Logs holding every request's
// ResourceLogs in order.
func (s *Sink) Logs() (plog.Logs, error) {
	reqs, err := s.Requests()
	if err != nil {
		return plog.NewLogs(), err
	}
	all := plog.NewLogs()
	for _, ld := range reqs {
		ld.ResourceLogs().MoveAndAppendTo(all.ResourceLogs())
	}
	return all, nil
}

// ReadFile reads every complete request stored in a sink file. A torn frame at the end is
// ignored; a frame whose checksum does not match is an error.
func ReadFile(path string) ([]plog.Logs, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("failed to open sink file: %w", err)
	}
	defer f.Close()
	var out []plog.Logs
	_, err = scan(f, func(ld plog.Logs) error {
		out = append(out, ld)
		return nil
	})
	return out, err
}

// scan reads frames from the start of f and returns the offset just past the last
// complete frame.
func scan(f *os.File, fn func(plog.Logs) error) (int64, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return 0, fmt.Errorf("failed to seek sink file: %w", err)
	}
	br := bufio.NewReader(f)
	var good int64
	hdr := make([]byte, frameHeaderLen)
	for {
		if _, err := io.ReadFull(br, hdr); err != nil {
			return good, nil // EOF or a torn header
		}
		n := binary.BigEndian.Uint32(hdr[0:4])
		if n > maxBodyBytes*2 {
			return good, fmt.Errorf("corrupt sink file at offset %d: frame length %d", good, n)
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(br, payload); err != nil {
			return good, nil // torn payload
		}
		if crc32.Checksum(payload, castagnoli) != binary.BigEndian.Uint32(hdr[4:8]) {
			return good, fmt.Errorf("corrupt sink file at offset %d: checksum mismatch", good)
		}
		req := plogotlp.NewExportRequest()
		if err := req.UnmarshalProto(payload); err != nil {
			return good, fmt.Errorf("corrupt sink file at offset %d: %w", good, err)
		}
		if err := fn(req.Logs()); err != nil {
			return good, err
		}
		good += int64(frameHeaderLen) + int64(n)
	}
}
