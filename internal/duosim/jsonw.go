// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duosim

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// The simulator writes JSON by hand: records are rendered on every page, and
// a byte appender is an order of magnitude faster than encoding/json over
// maps. Keys are written in sorted order, as Duo's responses have them.

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Non-ASCII text is kept as UTF-8.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, s[start:i]...)
				b = append(b, `\ufffd`...)
				i++
				start = i
				continue
			}
			if r == '\u2028' || r == '\u2029' {
				b = append(b, s[start:i]...)
				b = append(b, `\u202`...)
				b = append(b, hexDigits[r&0xf])
				i += size
				start = i
				continue
			}
			i += size
			continue
		}
		if c >= 0x20 && c != '"' && c != '\\' {
			i++
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendStringOrNull appends a JSON string, or null when ok is false.
func appendStringOrNull(b []byte, s string, ok bool) []byte {
	if !ok {
		return append(b, "null"...)
	}
	return appendString(b, s)
}

func appendKey(b []byte, k string, first bool) []byte {
	if !first {
		b = append(b, ',')
	}
	b = append(b, '"')
	b = append(b, k...)
	return append(b, '"', ':')
}

func appendInt(b []byte, v int64) []byte { return strconv.AppendInt(b, v, 10) }

func appendBool(b []byte, v bool) []byte { return strconv.AppendBool(b, v) }

// isoMicro formats t as Duo's microsecond ISO-8601 (docs/duo-api.md §1.5):
// 2020-02-13T18:56:20.351346+00:00.
func isoMicro(b []byte, t time.Time) []byte {
	return t.UTC().AppendFormat(b, "2006-01-02T15:04:05.000000+00:00")
}

// isoSecond formats t with second precision (docs/duo-api.md §3.2).
func isoSecond(b []byte, t time.Time) []byte {
	return t.UTC().AppendFormat(b, "2006-01-02T15:04:05+00:00")
}

// errorResponse builds Duo's error envelope (docs/duo-api.md §1.4).
func errorResponse(status, code int, message, detail string) *response {
	b := make([]byte, 0, 128)
	b = append(b, `{"code":`...)
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, `,"message":`...)
	b = appendString(b, message)
	if detail != "" {
		b = append(b, `,"message_detail":`...)
		b = appendString(b, detail)
	}
	b = append(b, `,"stat":"FAIL"}`...)
	return &response{status: status, body: b, ctype: "application/json"}
}

func paramError(detail string) *response {
	return errorResponse(400, 40002, "Invalid request parameters", detail)
}
