// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoapi

import (
	"bytes"
	"math"
	"strconv"
	"time"

	"github.com/go-json-experiment/json/jsontext"
)

// The readers of single values: v is one whole JSON value the decoder has read.

// keyIs reports whether the member name token (quotes included) equals name.
func keyIs(key []byte, name string) bool {
	if len(key) == len(name)+2 {
		// An escape would make the token longer than the text it stands for.
		return string(key[1:len(key)-1]) == name
	}
	if len(key) < len(name)+2 || bytes.IndexByte(key, '\\') < 0 {
		return false
	}
	s, ok := stringValue(key)
	return ok && s == name
}

// stringValue unquotes a JSON string token.
func stringValue(v []byte) (string, bool) {
	if len(v) < 2 || v[0] != '"' {
		return "", false
	}
	if bytes.IndexByte(v, '\\') < 0 {
		return string(v[1 : len(v)-1]), true
	}
	// The decoder has checked the escapes: the only error left is invalid UTF-8, which
	// becomes U+FFFD as encoding/json does.
	s, _ := jsontext.AppendUnquote(nil, v)
	return string(s), true
}

// scalarText is a string's value or a number's literal text; "" for anything else.
func scalarText(v []byte) string {
	switch jsontext.Value(v).Kind() {
	case '"':
		s, _ := stringValue(v)
		return s
	case '0':
		return string(v)
	}
	return ""
}

// numberValue reads an integer from a number or a string holding one; a fraction is
// truncated.
func numberValue(v []byte) (int64, bool) {
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

func intValue(v []byte) int {
	n, ok := numberValue(v)
	if !ok || n > math.MaxInt32 || n < math.MinInt32 {
		return 0
	}
	return int(n)
}

// timeValue reads a time: an ISO-8601 string for unit iso, else a Unix time in unit
// (time.Second or time.Millisecond) from a number or a numeric string, keeping any
// fraction. The result is in UTC.
func timeValue(v []byte, unit time.Duration) (time.Time, bool) {
	if unit == iso {
		return isoTime(v)
	}
	switch jsontext.Value(v).Kind() {
	case '"':
		s, _ := stringValue(v)
		v = []byte(s)
	case '0':
	default:
		return time.Time{}, false
	}
	// string(v) stays on the stack: the conversions allocate nothing.
	if n, err := strconv.ParseInt(string(v), 10, 64); err == nil {
		if unit == time.Millisecond {
			return time.UnixMilli(n).UTC(), true
		}
		return time.Unix(n, 0).UTC(), true
	}
	f, err := strconv.ParseFloat(string(v), 64)
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

func isoTime(v []byte) (time.Time, bool) {
	s, ok := stringValue(v)
	if !ok || s == "" {
		return time.Time{}, false
	}
	for _, layout := range isoLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}
