// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"

	"github.com/otelcol-duo/otelcol-duo/internal/duosim"
)

// This file holds what the freshness benchmark (BenchmarkE2EFreshness) needs: a sink that
// notes when it first stored each event, and the summary of how late events arrived
// compared with when the simulator made them visible and with their event time.

// StampingSink is an OTLP/HTTP logs endpoint (protobuf, plain or gzip) that keeps, for
// each event Key, when a record of it was first stored and how many were. It keeps no
// records, so a long run stays small.
type StampingSink struct {
	Server *httptest.Server
	// URL is the base URL; logs go to URL + "/v1/logs".
	URL string

	mu      sync.Mutex
	first   map[Key]time.Time
	counts  Counts
	records int
	now     func() time.Time
}

// StartStampingSink serves a StampingSink on 127.0.0.1 until the test ends.
func StartStampingSink(tb testing.TB) *StampingSink {
	tb.Helper()
	s := newStampingSink(time.Now)
	s.Server = serve(tb, s)
	s.URL = s.Server.URL
	return s
}

func newStampingSink(now func() time.Time) *StampingSink {
	return &StampingSink{first: map[Key]time.Time{}, counts: Counts{}, now: now}
}

// ServeHTTP accepts POST /v1/logs with a protobuf ExportLogsServiceRequest, plain or
// gzip-compressed, and stamps every record of it with the time the request was decoded.
func (s *StampingSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, ok := exportBody(w, r)
	if !ok {
		return
	}
	req := plogotlp.NewExportRequest()
	if err := req.UnmarshalProto(b); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	now := s.now()
	counts := Received(req.Logs())
	s.mu.Lock()
	for k, n := range counts {
		if _, seen := s.first[k]; !seen {
			s.first[k] = now
		}
		s.counts[k] += n
		s.records += n
	}
	s.mu.Unlock()
	acceptExport(w)
}

// Stored returns when a record of k was first stored.
func (s *StampingSink) Stored(k Key) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.first[k]
	return t, ok
}

// Received returns how many records of each event the sink has stored.
func (s *StampingSink) Received() Counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(Counts, len(s.counts))
	for k, n := range s.counts {
		out[k] = n
	}
	return out
}

// Records returns how many records the sink has stored, repeats included.
func (s *StampingSink) Records() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.records
}

// Spread is the p50, p99 and maximum of a set of durations.
type Spread struct {
	P50, P99, Max time.Duration
}

func (s Spread) String() string {
	return fmt.Sprintf("p50 %s, p99 %s, max %s",
		s.P50.Round(100*time.Millisecond), s.P99.Round(100*time.Millisecond), s.Max.Round(100*time.Millisecond))
}

// spreadOf returns the nearest-rank p50 and p99 and the maximum of ds (zero when empty).
func spreadOf(ds []time.Duration) Spread {
	if len(ds) == 0 {
		return Spread{}
	}
	ds = slices.Clone(ds)
	slices.Sort(ds)
	rank := func(p float64) time.Duration {
		i := int(p*float64(len(ds))+0.999999) - 1
		return ds[min(max(i, 0), len(ds)-1)]
	}
	return Spread{P50: rank(0.50), P99: rank(0.99), Max: ds[len(ds)-1]}
}

// Freshness is how late the events made visible in a period reached the sink.
type Freshness struct {
	Events   int // events made visible in the period
	Unstored int // of those, not in the sink (yet)
	// VisibleToStored is stored time minus the simulator's visible-at time; EventToStored
	// is stored time minus the event time. Both over the stored events only.
	VisibleToStored, EventToStored Spread
}

// MeasureFreshness looks up in sink every event of the given log types that the simulator
// made visible in (from, to].
func MeasureFreshness(sim *duosim.Sim, sink *StampingSink, lts []string, from, to time.Time) (Freshness, error) {
	var f Freshness
	var vis, ev []time.Duration
	for _, lt := range lts {
		for _, e := range sim.Events(lt) {
			if !e.VisibleAt.After(from) || e.VisibleAt.After(to) {
				continue
			}
			k, err := keyOfRaw(lt, e.ID, e.Raw)
			if err != nil {
				return f, err
			}
			f.Events++
			stored, ok := sink.Stored(k)
			if !ok {
				f.Unstored++
				continue
			}
			vis = append(vis, stored.Sub(e.VisibleAt))
			ev = append(ev, stored.Sub(e.Time))
		}
	}
	f.VisibleToStored, f.EventToStored = spreadOf(vis), spreadOf(ev)
	return f, nil
}
