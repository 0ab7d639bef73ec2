// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
)

// Decoding is lenient (API.md 6.12, 6.13): Duo adds fields and changes their types, so a
// page is never decoded into maps or structs. The body is validated once with json.Valid,
// then a small structural scanner walks the envelope, hands out each record as a slice of
// the body (Record.Raw aliases the page's buffer) and reads only the few members that
// give the record's time and id.

// envelope is the top level of every answer (API.md 1.3, 1.4). The byte slices alias the
// body.
type envelope struct {
	stat     string
	response []byte
	metadata []byte
	code     int
	message  string
	detail   string
}

var (
	errNotJSON   = errors.New("body is not valid JSON (truncated?)")
	errNotObject = errors.New("body is not a JSON object")
)

func decodeEnvelope(body []byte) (envelope, error) {
	var env envelope
	if !json.Valid(body) {
		return env, errNotJSON
	}
	i := skipWS(body, 0)
	if body[i] != '{' {
		return env, errNotObject
	}
	objectMembers(body, i, func(key, v []byte) bool {
		switch {
		case keyIs(key, "stat"):
			env.stat, _ = stringValue(v)
		case keyIs(key, "response"):
			env.response = v
		case keyIs(key, "metadata"):
			env.metadata = v
		case keyIs(key, "code"):
			env.code = intValue(v)
		case keyIs(key, "message"):
			env.message, _ = stringValue(v)
		case keyIs(key, "message_detail"):
			env.detail, _ = stringValue(v)
		}
		return true
	})
	return env, nil
}

// pageData is one decoded log page.
type pageData struct {
	records []Record
	// next is metadata.next_offset as the client sends it back ("" when absent or null).
	next string
	// skipped counts list elements that were not JSON objects and were left out.
	skipped int
}

// listKey is the member of a v2 or Trust Monitor response object that holds the records
// (API.md 3.1, 3.3, 3.4, 3.6).
func listKey(lt LogType) string {
	switch lt {
	case Authentication:
		return "authlogs"
	case TrustMonitor:
		return "events"
	}
	return "items"
}

func isV1(lt LogType) bool { return lt == Administrator || lt == OfflineEnrollment }

// decodePage decodes one 200 answer of log type lt. A stat of FAIL gives an *APIError, a
// body that is not the expected envelope a *decodeError.
func decodePage(lt LogType, path string, body []byte) (pageData, error) {
	var pd pageData
	env, err := decodeEnvelope(body)
	if err != nil {
		return pd, &decodeError{path: path, msg: err.Error()}
	}
	if err := checkStat(env, path); err != nil {
		return pd, err
	}
	var list, meta []byte
	resp := env.response
	switch {
	case len(resp) == 0 || resp[0] == 'n': // absent or null: nothing in the window
	case resp[0] == '[': // v1: a bare array (API.md 1.3)
		list = resp
	case resp[0] == '{': // v2 and Trust Monitor: {<list>: [...], metadata: {...}}
		want := listKey(lt)
		objectMembers(resp, 0, func(key, v []byte) bool {
			switch {
			case keyIs(key, want):
				list = v
			case keyIs(key, "metadata"):
				meta = v
			}
			return true
		})
	default:
		return pd, &decodeError{path: path, msg: "response is neither an object nor an array"}
	}
	if len(list) > 0 && list[0] != '[' {
		if list[0] != 'n' {
			return pd, &decodeError{path: path, msg: "record list is not an array"}
		}
		list = nil
	}
	// /users-style answers carry metadata beside response (API.md 1.3); accept either.
	if len(meta) == 0 {
		meta = env.metadata
	}
	if len(meta) > 0 && meta[0] == '{' {
		objectMembers(meta, 0, func(key, v []byte) bool {
			if keyIs(key, "next_offset") {
				pd.next = offsetValue(v)
			}
			return true
		})
	}
	if len(list) == 0 {
		return pd, nil
	}
	var ids *v1IDs
	if isV1(lt) {
		ids = &v1IDs{}
	}
	pd.records = make([]Record, 0, 64)
	// One pass: each record's members are read while its end is found.
	for i := 1; ; {
		i = skipWS(list, i)
		if i >= len(list) || list[i] == ']' {
			break
		}
		if list[i] == ',' {
			i++
			continue
		}
		if list[i] != '{' {
			pd.skipped++
			i = skipValue(list, i)
			continue
		}
		r, end := extract(lt, list, i)
		if ids != nil {
			r.ID = ids.id(r.Raw, r.Time)
		}
		pd.records = append(pd.records, r)
		i = end
	}
	return pd, nil
}

// checkStat turns a stat other than OK into an error. An answer without stat but with a
// response is accepted.
func checkStat(env envelope, path string) error {
	switch env.stat {
	case "OK":
		return nil
	case "":
		if env.response != nil {
			return nil
		}
		return &decodeError{path: path, msg: "no stat and no response"}
	}
	msg := env.message
	if msg == "" {
		msg = "stat " + env.stat
	}
	return &APIError{Status: 200, Code: env.code, Message: msg, Detail: env.detail, Path: path}
}

// extract reads the record object at d[start] == '{': its Raw, and its Time and ID from
// the members that carry them (API.md 1.5, 3). It returns the index just past the object.
func extract(lt LogType, d []byte, start int) (Record, int) {
	var r Record
	var (
		isoTS  []byte // isotimestamp or ts
		numTS  []byte // timestamp (s) or surfaced_timestamp (ms)
		idKey  string
		isoKey = "isotimestamp"
		numKey = "timestamp"
	)
	switch lt {
	case Authentication:
		idKey = "txid"
	case Telephony:
		idKey, isoKey, numKey = "telephony_id", "ts", ""
	case Activity:
		idKey, isoKey, numKey = "activity_id", "ts", ""
	case TrustMonitor:
		idKey, isoKey, numKey = "sekey", "", "surfaced_timestamp"
	}
	end := objectMembers(d, start, func(key, v []byte) bool {
		switch {
		case idKey != "" && keyIs(key, idKey):
			r.ID = scalarText(v)
		case isoKey != "" && keyIs(key, isoKey):
			isoTS = v
		case numKey != "" && keyIs(key, numKey):
			numTS = v
		}
		return true
	})
	r.Raw = d[start:end]
	switch lt {
	case Authentication:
		// isotimestamp keeps microseconds; timestamp is whole seconds (API.md 3.1).
		if t, ok := isoTime(isoTS); ok {
			r.Time = t
		} else if t, ok := unixTime(numTS, time.Second); ok {
			r.Time = t
		}
	case Administrator, OfflineEnrollment:
		// v1 timestamp is int seconds, the unit the endpoint pages in (API.md 3.2, 3.5).
		if t, ok := unixTime(numTS, time.Second); ok {
			r.Time = t
		} else if t, ok := isoTime(isoTS); ok {
			r.Time = t
		}
	case Telephony, Activity:
		r.Time, _ = isoTime(isoTS)
	case TrustMonitor:
		r.Time, _ = unixTime(numTS, time.Millisecond)
	}
	return r, end
}

// v1IDs numbers identical records of the same second within one page: a v1 record's id is
// the hash of its compacted content plus its occurrence number, so true twins stay
// separate events (API.md 3.2, 4.2). A re-query from the boundary second returns that
// second's records again from the first, so the numbering is stable across pages.
type v1IDs struct {
	buf  []byte
	seen map[string]int
}

func (v *v1IDs) id(raw []byte, t time.Time) string {
	v.buf = compact(v.buf[:0], raw)
	sum := sha256.Sum256(v.buf)
	h := hex.EncodeToString(sum[:16])
	if v.seen == nil {
		v.seen = make(map[string]int)
	}
	key := strconv.FormatInt(t.Unix(), 10) + "/" + h
	n := v.seen[key]
	v.seen[key] = n + 1
	return h + "#" + strconv.Itoa(n)
}

// compact appends raw (valid JSON) to dst without the whitespace between tokens.
func compact(dst, raw []byte) []byte {
	for i := 0; i < len(raw); {
		switch c := raw[i]; c {
		case ' ', '\t', '\n', '\r':
			i++
		case '"':
			j := skipString(raw, i)
			dst = append(dst, raw[i:j]...)
			i = j
		default:
			dst = append(dst, c)
			i++
		}
	}
	return dst
}

// decodeSummary decodes /admin/v1/info/summary (API.md 3.7): every numeric member of
// response. Non-numeric members are left out.
func decodeSummary(path string, body []byte) (map[string]int64, error) {
	env, err := decodeEnvelope(body)
	if err != nil {
		return nil, &decodeError{path: path, msg: err.Error()}
	}
	if err := checkStat(env, path); err != nil {
		return nil, err
	}
	out := make(map[string]int64)
	if len(env.response) == 0 || env.response[0] != '{' {
		if len(env.response) > 0 && env.response[0] == 'n' {
			return out, nil
		}
		return nil, &decodeError{path: path, msg: "response is not an object"}
	}
	objectMembers(env.response, 0, func(key, v []byte) bool {
		name, ok := stringValue(key)
		if !ok {
			return true
		}
		if n, ok := numberValue(v); ok {
			out[name] = n
		}
		return true
	})
	return out, nil
}

// --- value helpers (input is valid JSON) ---

// stringValue unquotes a JSON string token.
func stringValue(v []byte) (string, bool) {
	if len(v) < 2 || v[0] != '"' {
		return "", false
	}
	inner := v[1 : len(v)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return string(inner), true
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		return "", false
	}
	return s, true
}

// scalarText is a string's value or a number's literal text; "" for anything else.
func scalarText(v []byte) string {
	if len(v) == 0 {
		return ""
	}
	switch v[0] {
	case '"':
		s, _ := stringValue(v)
		return s
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return string(v)
	}
	return ""
}

// offsetValue renders a next_offset as the client sends it back (API.md 3.1, 3.3, 3.6,
// pitfall 7): an array (auth's [ms, txid]) joined with a comma, a string as is, a number
// as its literal; null, absent or empty gives "".
func offsetValue(v []byte) string {
	if len(v) == 0 {
		return ""
	}
	if v[0] != '[' {
		return scalarText(v)
	}
	var parts []string
	arrayElems(v, 0, func(e []byte) {
		if s := scalarText(e); s != "" {
			parts = append(parts, s)
		}
	})
	return strings.Join(parts, ",")
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

// unixTime reads a Unix time in unit (time.Second or time.Millisecond) from a number or
// a numeric string, keeping any fraction.
func unixTime(v []byte, unit time.Duration) (time.Time, bool) {
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

// isoLayouts are the ISO-8601 forms seen in isotimestamp and ts (API.md 1.5), most
// common first.
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

// --- structural scanner over valid JSON ---

func skipWS(d []byte, i int) int {
	for i < len(d) {
		switch d[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// skipString returns the index just past the string that starts at d[i] == '"': the
// first quote not escaped by an odd run of backslashes.
func skipString(d []byte, i int) int {
	j := i + 1
	for {
		k := bytes.IndexByte(d[j:], '"')
		if k < 0 {
			return len(d)
		}
		j += k
		n := 0
		for p := j - 1; p > i && d[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return j + 1
		}
		j++
	}
}

// skipValue returns the index just past the value that starts at d[i].
func skipValue(d []byte, i int) int {
	if i >= len(d) {
		return i
	}
	switch d[i] {
	case '"':
		return skipString(d, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(d); j++ {
			switch d[j] {
			case '"':
				j = skipString(d, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return len(d)
	}
	j := i
	for j < len(d) {
		switch d[j] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return j
		}
		j++
	}
	return j
}

// objectMembers calls fn with each member's key token (quotes included) and value of the
// object at d[i] == '{', until fn returns false. It returns the index just past the
// object, or -1 when fn stopped it early.
func objectMembers(d []byte, i int, fn func(key, v []byte) bool) int {
	i++
	for {
		i = skipWS(d, i)
		if i >= len(d) {
			return len(d)
		}
		if d[i] == '}' {
			return i + 1
		}
		if d[i] == ',' {
			i++
			continue
		}
		ks := i
		i = skipString(d, i)
		key := d[ks:i]
		i = skipWS(d, i)
		if i >= len(d) || d[i] != ':' {
			return len(d)
		}
		i = skipWS(d, i+1)
		vs := i
		i = skipValue(d, i)
		if i <= vs || !fn(key, d[vs:i]) {
			return -1
		}
	}
}

// arrayElems calls fn with each element of the array at d[i] == '['.
func arrayElems(d []byte, i int, fn func(v []byte)) {
	i++
	for {
		i = skipWS(d, i)
		if i >= len(d) || d[i] == ']' {
			return
		}
		if d[i] == ',' {
			i++
			continue
		}
		vs := i
		i = skipValue(d, i)
		if i <= vs {
			return
		}
		fn(d[vs:i])
	}
}

// keyIs reports whether the key token equals name.
func keyIs(key []byte, name string) bool {
	if len(key) < 2 {
		return false
	}
	inner := key[1 : len(key)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return string(inner) == name
	}
	s, ok := stringValue(key)
	return ok && s == name
}
