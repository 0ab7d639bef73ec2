// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Decoding is lenient (API.md 6.12, 6.13): Duo adds fields and changes their types, so a
// page is never decoded into maps or structs. One walk over the body checks its JSON
// syntax as json.Valid would (valid.go), finds the envelope's members, hands out each
// record as a slice of the body (Record.Raw aliases the page's buffer) and reads only the
// few members that give the record's time and id.

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
	if !validJSON(body) {
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

// DecodePage decodes one 200 answer of a log endpoint of type lt exactly as Fetch does for
// each page it reads: Records alias body, with their Time and ID. Next carries the page's
// next_offset when it has one; it is always nil for the v1 endpoints, whose position
// depends on the window being read (Fetch works it out). A stat of FAIL gives an
// *APIError. It is for tools and benchmarks that hold a page's body; Fetch is the client.
func DecodePage(lt LogType, body []byte) (Page, error) {
	path, ok := paths[lt]
	if !ok {
		return Page{}, fmt.Errorf("duo api: unknown log type %q", string(lt))
	}
	pd, err := decodePage(lt, path, body)
	if err != nil {
		return Page{}, err
	}
	p := Page{Records: pd.records}
	if pd.next != "" && !lt.V1() {
		p.Next = &Position{Offset: pd.next}
	}
	return p, nil
}

// decodePage decodes one 200 answer of log type lt. A stat of FAIL gives an *APIError, a
// body that is not the expected envelope a *decodeError.
//
// It is one pass over the body: the walk that finds the envelope's members and each
// record's end, id and time also checks the JSON syntax of every byte (the same checks as
// validJSON, so a body json.Valid refuses is refused here too), and records are taken
// out while it goes. Members that matter only once stat is known (the response's shape)
// are noted and judged after the walk.
func decodePage(lt LogType, path string, body []byte) (pageData, error) {
	var pd pageData
	ps := pageScan{lt: lt, want: listKey(lt), pd: &pd}
	var env envelope
	start := skipWS(body, 0)
	if start >= len(body) || body[start] != '{' {
		msg := errNotJSON.Error()
		if validJSON(body) {
			msg = errNotObject.Error()
		}
		return pd, &decodeError{path: path, msg: msg}
	}
	end := walkObject(body, start, 1, func(key []byte, v int) int {
		if keyIs(key, "response") {
			e := ps.response(body, v)
			if e >= 0 {
				env.response = body[v:e]
			}
			return e
		}
		e := validValue(body, v, 2)
		if e < 0 {
			return e
		}
		val := body[v:e]
		switch {
		case keyIs(key, "stat"):
			env.stat, _ = stringValue(val)
		case keyIs(key, "metadata"):
			env.metadata = val
		case keyIs(key, "code"):
			env.code = intValue(val)
		case keyIs(key, "message"):
			env.message, _ = stringValue(val)
		case keyIs(key, "message_detail"):
			env.detail, _ = stringValue(val)
		}
		return e
	})
	if end < 0 || skipWS(body, end) != len(body) {
		return pageData{}, &decodeError{path: path, msg: errNotJSON.Error()}
	}
	if err := checkStat(env, path); err != nil {
		return pageData{}, err
	}
	switch {
	case ps.respNotContainer:
		return pageData{}, &decodeError{path: path, msg: "response is neither an object nor an array"}
	case ps.listNotArray:
		return pageData{}, &decodeError{path: path, msg: "record list is not an array"}
	}
	// /users-style answers carry metadata beside response (API.md 1.3); accept either.
	meta := ps.meta
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
	if lt.V1() && len(pd.records) > 0 {
		ids := &v1IDs{}
		for i := range pd.records {
			r := &pd.records[i]
			r.ID = ids.id(r.Raw, r.Time)
		}
	}
	return pd, nil
}

// pageScan holds what the walk of one page has found in its response member. Of repeated
// members the last one counts, as everywhere in this package.
type pageScan struct {
	lt   LogType
	want string // the member holding the records (listKey)
	pd   *pageData
	meta []byte // the response object's metadata
	// respNotContainer: response is neither an object, an array nor null.
	respNotContainer bool
	// listNotArray: the record list is neither an array nor null.
	listNotArray bool
}

// response walks the response member's value at d[v] (envelope depth 1) and returns the
// index just past it, or -1 where the JSON is invalid.
func (ps *pageScan) response(d []byte, v int) int {
	ps.pd.records, ps.pd.skipped, ps.meta = ps.pd.records[:0], 0, nil
	ps.respNotContainer, ps.listNotArray = false, false
	if v >= len(d) {
		return -1
	}
	switch d[v] {
	case '[': // v1: a bare array (API.md 1.3)
		return ps.list(d, v, 2)
	case '{': // v2 and Trust Monitor: {<list>: [...], metadata: {...}}
		return walkObject(d, v, 2, func(key []byte, u int) int {
			if keyIs(key, ps.want) {
				ps.pd.records, ps.pd.skipped, ps.listNotArray = ps.pd.records[:0], 0, false
				if u < len(d) && d[u] == '[' {
					return ps.list(d, u, 3)
				}
				e := validValue(d, u, 3)
				ps.listNotArray = e >= 0 && d[u] != 'n'
				return e
			}
			e := validValue(d, u, 3)
			if e >= 0 && keyIs(key, "metadata") {
				ps.meta = d[u:e]
			}
			return e
		})
	case 'n': // null: nothing in the window
		return validValue(d, v, 2)
	}
	e := validValue(d, v, 2)
	ps.respNotContainer = e >= 0
	return e
}

// list walks the record array at d[i] == '[' at nesting depth, keeping each object as a
// record; other elements are counted in skipped.
func (ps *pageScan) list(d []byte, i, depth int) int {
	if ps.pd.records == nil {
		// Sized from the list's bytes (Duo's records run from about 250 bytes to a few
		// kilobytes) so that a full page does not regrow the slice; a page holds at most
		// 1000 records (API.md 1.6). A wrong guess costs only a regrow.
		ps.pd.records = make([]Record, 0, min(max((len(d)-i)/128, 16), 1000))
	}
	return walkArray(d, i, depth, func(u int) int {
		if u >= len(d) || d[u] != '{' {
			e := validValue(d, u, depth+1)
			if e >= 0 {
				ps.pd.skipped++
			}
			return e
		}
		r, e := extract(ps.lt, d, u, depth+1)
		if e >= 0 {
			ps.pd.records = append(ps.pd.records, r)
		}
		return e
	})
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

// extract reads the record object at d[start] == '{', which opens nesting level depth:
// its Raw, and its Time and ID from the members that carry them (API.md 1.5, 3). It
// returns the index just past the object, or -1 if the object is not valid JSON.
func extract(lt LogType, d []byte, start, depth int) (Record, int) {
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
	end := walkObject(d, start, depth, func(key []byte, i int) int {
		e := validValue(d, i, depth+1)
		if e < 0 {
			return e
		}
		switch v := d[i:e]; {
		case idKey != "" && keyIs(key, idKey):
			r.ID = scalarText(v)
		case isoKey != "" && keyIs(key, isoKey):
			isoTS = v
		case numKey != "" && keyIs(key, numKey):
			numTS = v
		}
		return e
	})
	if end < 0 {
		return Record{}, -1
	}
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
	seen map[v1Key]int
}

// v1Key is a record's second and content hash: the group its occurrence number counts in.
type v1Key struct {
	sec int64
	sum [16]byte
}

func (v *v1IDs) id(raw []byte, t time.Time) string {
	v.buf = compact(v.buf[:0], raw)
	full := sha256.Sum256(v.buf)
	k := v1Key{sec: t.Unix()}
	copy(k.sum[:], full[:16])
	if v.seen == nil {
		v.seen = make(map[v1Key]int)
	}
	n := v.seen[k]
	v.seen[k] = n + 1
	// One allocation: the hex of the hash, '#', the occurrence number.
	var b [32 + 1 + 20]byte
	id := hex.AppendEncode(b[:0], k.sum[:])
	id = append(id, '#')
	id = strconv.AppendInt(id, int64(n), 10)
	return string(id)
}

// compact appends raw (valid JSON) to dst without the whitespace between tokens.
func compact(dst, raw []byte) []byte {
	// Runs between whitespace are copied whole: a compact record is one run.
	run := 0
	for i := 0; i < len(raw); {
		switch raw[i] {
		case ' ', '\t', '\n', '\r':
			dst = append(dst, raw[run:i]...)
			i++
			run = i
		case '"':
			i = skipString(raw, i)
		default:
			i++
		}
	}
	return append(dst, raw[run:]...)
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
	switch {
	case len(inner) == len(name):
		// An escape would make the token longer than the text it stands for.
		return string(inner) == name
	case len(inner) < len(name) || bytes.IndexByte(inner, '\\') < 0:
		return false
	}
	s, ok := stringValue(key)
	return ok && s == name
}
