// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

//go:build e2e

package e2e

import (
	"os"
	"slices"
	"strconv"
	"testing"
	"time"
)

// Targets of the body rows: collector CPU per record end to end (otlp_http, protobuf, no
// compression, a batch of one page), the median of the repetitions; peak RSS as for the
// backfill (targetPeakRSS).
const (
	targetCPUMap  = 25 * time.Microsecond
	targetCPUJSON = 10 * time.Microsecond
)

// BenchmarkE2EBody runs the backfill of BenchmarkE2EBackfill (1,000,000 authentication
// records by default, the first of BENCH_E2E_RECORDS otherwise) once per body setting,
// map and json, each BENCH_E2E_REPEAT times (default 3), and reports the median collector
// CPU per record and the highest peak RSS of the repetitions. The exporter is otlp_http
// with protobuf and no compression unless BENCH_E2E_ENCODING (json) or
// BENCH_E2E_COMPRESSION (gzip) say otherwise; the batch is one page (1000 records). Run
// it alone with
//
//	OTELCOL_DUO_BIN=build/otelcol-duo go test -tags e2e -timeout 60m -run '^$' \
//	    -bench '^BenchmarkE2EBody$' -benchtime 1x -v ./internal/e2e
//
// The targets (targetCPUMap, targetCPUJSON, targetPeakRSS) fail the run only under
// BENCH_E2E_STRICT=1; a wrong record count always does.
func BenchmarkE2EBody(b *testing.B) {
	bin := Collector(b)
	n := 1_000_000
	if os.Getenv("BENCH_E2E_RECORDS") != "" {
		n = backfillSizes(b)[0]
	}
	repeat := 3
	if v := os.Getenv("BENCH_E2E_REPEAT"); v != "" {
		var err error
		if repeat, err = strconv.Atoi(v); err != nil || repeat < 1 {
			b.Fatalf("BENCH_E2E_REPEAT: %q is not a positive integer", v)
		}
	}
	for _, row := range []struct {
		body   string
		target time.Duration
	}{
		{"map", targetCPUMap},
		{"json", targetCPUJSON},
	} {
		b.Run("body="+row.body+"/records="+strconv.Itoa(n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				var perRecord []time.Duration
				var peak int64
				for rep := range repeat {
					r := runBackfill(b, bin, n, func(c *BenchConfig) {
						c.Body = row.body
						c.Encoding = os.Getenv("BENCH_E2E_ENCODING")
					})
					pr := r.cpu / time.Duration(r.records)
					perRecord = append(perRecord, pr)
					peak = max(peak, r.peakRSS)
					b.Logf("body=%s repetition %d: collector CPU %s, %.2f µs/record, peak RSS %.1f MiB",
						row.body, rep+1, r.cpu.Round(10*time.Millisecond), us(pr), float64(r.peakRSS)/(1<<20))
				}
				med := median(perRecord)
				b.ReportMetric(us(med), "cpu-µs/record")
				b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MiB")
				b.Logf("body=%s, %d records, %d repetitions: collector CPU per record median %.2f µs (each: %s; target <= %.0f µs), peak RSS %.1f MiB (target < %d MiB)",
					row.body, n, repeat, us(med), perRecord, us(row.target), float64(peak)/(1<<20), targetPeakRSS>>20)
				if os.Getenv("BENCH_E2E_STRICT") == "1" {
					if med > row.target {
						b.Errorf("body=%s: %.2f µs of collector CPU per record, target <= %.0f µs", row.body, us(med), us(row.target))
					}
					if peak >= targetPeakRSS {
						b.Errorf("body=%s: peak RSS %.1f MiB, target under %d MiB", row.body, float64(peak)/(1<<20), targetPeakRSS>>20)
					}
				}
			}
		})
	}
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// median of ds (the lower middle one for an even count).
func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}
