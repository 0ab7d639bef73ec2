// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoapi

import (
	"math"
	"strconv"
	"time"
)

// Duo's numbers and times come as JSON numbers or as strings holding them (docs/duo-api.md
// §6 items 12, 13); these readers take the text scalarText gives of either.

// parseNumber reads a decimal number as an integer part and, when it has one, a fraction
// (f is then the whole number).
func parseNumber(s string) (n int64, f float64, isInt, ok bool) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, 0, true, true
	}
	f, err := strconv.ParseFloat(s, 64)
	return 0, f, false, err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
}

// parseInt reads an integer; a fraction is truncated.
func parseInt(s string) (int64, bool) {
	n, f, isInt, ok := parseNumber(s)
	if isInt || !ok {
		return n, ok
	}
	if f >= math.MaxInt64 || f < math.MinInt64 {
		return 0, false
	}
	return int64(f), true
}

// parseTime reads a time: an ISO-8601 string for unit iso, else a Unix time in unit
// (time.Second or time.Millisecond), keeping any fraction. The result is in UTC.
func parseTime(s string, unit time.Duration) (time.Time, bool) {
	if unit == iso {
		for _, layout := range isoLayouts {
			if t, err := time.Parse(layout, s); err == nil {
				return t.UTC(), true
			}
		}
		return time.Time{}, false
	}
	n, f, isInt, ok := parseNumber(s)
	switch {
	case isInt && unit == time.Millisecond:
		return time.UnixMilli(n).UTC(), true
	case isInt:
		return time.Unix(n, 0).UTC(), true
	case !ok || math.Abs(f*float64(unit)) > 1<<62: // beyond ±2^62 ns the conversion overflows
		return time.Time{}, false
	}
	whole, frac := math.Modf(f)
	return time.Unix(0, int64(whole)*int64(unit)+int64(math.Round(frac*float64(unit)))).UTC(), true
}

// isoLayouts are the ISO-8601 forms seen in isotimestamp and ts (docs/duo-api.md §1.5),
// most common first.
var isoLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
}
