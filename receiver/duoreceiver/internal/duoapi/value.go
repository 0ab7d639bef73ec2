// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoapi

import (
	"math"
	"strconv"
	"time"

	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/jsondoc"
)

// The readers of Duo's scalar values, which come as numbers or as strings holding them
// (docs/duo-api.md §6 items 12, 13).

// scalarText is a string's value or a number's literal text; "" for anything else.
func scalarText(v jsondoc.Value) string {
	switch v.Kind() {
	case '"':
		return v.Str()
	case '0':
		return v.Text()
	}
	return ""
}

// numberValue reads an integer from a number or a string holding one; a fraction is
// truncated.
func numberValue(v jsondoc.Value) (int64, bool) {
	s := scalarText(v)
	if s == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f > math.MaxInt64 || f < math.MinInt64 {
		return 0, false
	}
	return int64(f), true
}

func intValue(v jsondoc.Value) int {
	n, ok := numberValue(v)
	if !ok || n > math.MaxInt32 || n < math.MinInt32 {
		return 0
	}
	return int(n)
}

// timeValue reads a time: an ISO-8601 string for unit iso, else a Unix time in unit
// (time.Second or time.Millisecond) from a number or a numeric string, keeping any
// fraction. The result is in UTC.
func timeValue(v jsondoc.Value, unit time.Duration) (time.Time, bool) {
	if unit == iso {
		return isoTime(v)
	}
	s := scalarText(v)
	if s == "" {
		return time.Time{}, false
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if unit == time.Millisecond {
			return time.UnixMilli(n).UTC(), true
		}
		return time.Unix(n, 0).UTC(), true
	}
	f, err := strconv.ParseFloat(s, 64)
	// Beyond ±2^62 ns of the epoch the conversion overflows; no real timestamp is there.
	if err != nil || math.IsNaN(f) || math.Abs(f*float64(unit)) > 1<<62 {
		return time.Time{}, false
	}
	whole, frac := math.Modf(f)
	ns := int64(whole)*int64(unit) + int64(math.Round(frac*float64(unit)))
	return time.Unix(0, ns).UTC(), true
}

// isoLayouts are the ISO-8601 forms seen in isotimestamp and ts (docs/duo-api.md §1.5),
// most common first.
var isoLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
}

func isoTime(v jsondoc.Value) (time.Time, bool) {
	s := v.Str()
	if s == "" {
		return time.Time{}, false
	}
	for _, layout := range isoLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}
