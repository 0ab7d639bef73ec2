// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json/jsontext"
)

// Decoding is lenient (docs/duo-api.md §6 items 12, 13): Duo adds fields and changes their
// types, so a page is never decoded into maps or structs. One jsontext walk over the body
// checks its syntax, finds the envelope's members, hands out each record as a slice of the
// body (Record.Raw aliases the page's buffer) and reads only the members that give the
// record's time and id; everything else is skipped.

// decodeOptions accept what encoding/json accepts: of repeated member names the last
// counts, and bytes that are not UTF-8 may appear inside strings.
var decodeOptions = []jsontext.Options{jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true)}

var (
	errNotJSON   = errors.New("body is not valid JSON (truncated?)")
	errNotObject = errors.New("body is not a JSON object")
)

// envelope is the top level of every answer (docs/duo-api.md §1.3, §1.4).
type envelope struct {
	stat    string
	code    int
	message string
	detail  string
	// response is the kind of the response member's value ('{', '[', 'n', ...), 0 when
	// there is none.
	response jsontext.Kind
	// next is metadata.next_offset (nextOffset), which object lists carry beside
	// response (docs/duo-api.md §1.3).
	next string
}

// member reads the envelope member whose name dec has just read; false when the name is
// not an envelope member (the caller then reads or skips the value).
func (env *envelope) member(dec *jsontext.Decoder, name []byte) (bool, error) {
	var dst *string
	switch {
	case keyIs(name, "stat"):
		dst = &env.stat
	case keyIs(name, "message"):
		dst = &env.message
	case keyIs(name, "message_detail"):
		dst = &env.detail
	case keyIs(name, "code"):
		v, err := dec.ReadValue()
		env.code = intValue(v)
		return true, err
	default:
		return false, nil
	}
	v, err := dec.ReadValue()
	*dst, _ = stringValue(v)
	return true, err
}

// decodeEnvelope reads the envelope of body, a JSON object, handing the response member
// to resp (nil: skip it), which must read or skip the value.
func decodeEnvelope(body []byte, resp func(dec *jsontext.Decoder) error) (envelope, error) {
	var env envelope
	dec := jsontext.NewDecoder(bytes.NewBuffer(body), decodeOptions...)
	if dec.PeekKind() != '{' {
		if dec.SkipValue() == nil && atEOF(dec) {
			return env, errNotObject
		}
		return env, errNotJSON
	}
	if _, err := dec.ReadToken(); err != nil {
		return env, errNotJSON
	}
	err := members(dec, func(name []byte) error {
		if ok, err := env.member(dec, name); ok || err != nil {
			return err
		}
		if keyIs(name, "metadata") {
			var err error
			env.next, err = nextOffset(dec)
			return err
		}
		if !keyIs(name, "response") {
			return dec.SkipValue()
		}
		env.response = dec.PeekKind()
		if resp == nil {
			return dec.SkipValue()
		}
		return resp(dec)
	})
	if err != nil || !atEOF(dec) {
		return env, errNotJSON
	}
	return env, nil
}

// members reads the members of the object whose '{' dec has just read, through its '}'.
// fn is called with each name and must read or skip the value.
func members(dec *jsontext.Decoder, fn func(name []byte) error) error {
	for dec.PeekKind() != '}' {
		name, err := dec.ReadValue()
		if err != nil {
			return err
		}
		if err := fn(name); err != nil {
			return err
		}
	}
	_, err := dec.ReadToken()
	return err
}

// atEOF reports whether nothing but whitespace follows the value dec has read.
func atEOF(dec *jsontext.Decoder) bool {
	_, err := dec.ReadToken()
	return errors.Is(err, io.EOF)
}

// checkStat turns a stat other than OK into an error. An answer without stat but with a
// response is accepted.
func checkStat(env envelope, path string) error {
	switch env.stat {
	case "OK":
		return nil
	case "":
		if env.response != 0 {
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

// pageData is one decoded page.
type pageData struct {
	records []Record
	// next is metadata.next_offset as the client sends it back ("" when absent or null).
	next string
	// skipped counts list elements that were not JSON objects and were left out.
	skipped int
}

// DecodePage decodes one 200 answer of a log endpoint of type lt exactly as Fetch does for
// each page it reads: Records alias body, with their Time and ID. Next carries the page's
// next_offset when it has one; it is always nil for the v1 endpoints, whose position
// depends on the window being read (Fetch works it out). A stat of FAIL gives an
// *APIError. It is for tools and benchmarks that hold a page's body; Fetch is the client.
func DecodePage(lt LogType, body []byte) (Page, error) {
	ep := endpointOf(lt)
	if ep == nil {
		return Page{}, fmt.Errorf("duo api: unknown log type %q", string(lt))
	}
	pd, err := decodePage(ep, body)
	if err != nil {
		return Page{}, err
	}
	p := Page{Records: pd.records}
	if pd.next != "" && ep.Paging != PagingMinTime {
		p.Next = &Position{Offset: pd.next}
	}
	return p, nil
}

// decodePage decodes one 200 answer of endpoint ep in one pass. A stat of FAIL gives an
// *APIError, a body that is not valid JSON or not the expected envelope a *decodeError,
// both before any record is handed out. Of repeated members the last one counts.
func decodePage(ep *Endpoint, body []byte) (pageData, error) {
	ps := pageScan{ep: ep, body: body}
	env, err := decodeEnvelope(body, ps.response)
	if err != nil {
		return pageData{}, &decodeError{path: ep.Path, msg: err.Error()}
	}
	if err := checkStat(env, ep.Path); err != nil {
		return pageData{}, err
	}
	if ps.shapeErr != nil {
		return pageData{}, &decodeError{path: ep.Path, msg: ps.shapeErr.Error()}
	}
	if ps.next == "" {
		ps.next = env.next
	}
	pd := pageData{records: ps.records, next: ps.next, skipped: ps.skipped}
	if ep.IDKey == "" && len(pd.records) > 0 {
		ids := &v1IDs{}
		for i := range pd.records {
			r := &pd.records[i]
			r.ID = ids.id(r.Raw, r.Time)
		}
	}
	return pd, nil
}

// pageScan holds what the walk of one page has found.
type pageScan struct {
	ep      *Endpoint
	body    []byte
	records []Record
	skipped int
	next    string // next_offset of the response's metadata
	// shapeErr: the response or the record list has the wrong type.
	shapeErr error
}

var (
	errResponseShape = errors.New("response is neither an object nor an array")
	errListShape     = errors.New("record list is not an array")
)

// response reads the response member's value.
func (ps *pageScan) response(dec *jsontext.Decoder) error {
	ps.records, ps.skipped, ps.next, ps.shapeErr = ps.records[:0], 0, "", nil
	switch dec.PeekKind() {
	case '[': // v1 and object lists: a bare array (docs/duo-api.md §1.3)
		return ps.list(dec)
	case '{': // v2 and Trust Monitor: {<list>: [...], metadata: {...}}
		if _, err := dec.ReadToken(); err != nil {
			return err
		}
		return members(dec, func(name []byte) error {
			switch {
			case ps.ep.ListKey != "" && keyIs(name, ps.ep.ListKey):
				ps.records, ps.skipped, ps.shapeErr = ps.records[:0], 0, nil
				switch dec.PeekKind() {
				case '[':
					return ps.list(dec)
				case 'n':
				default:
					ps.shapeErr = errListShape
				}
			case keyIs(name, "metadata"):
				var err error
				ps.next, err = nextOffset(dec)
				return err
			}
			return dec.SkipValue()
		})
	case 'n': // null: nothing in the window
	default:
		ps.shapeErr = errResponseShape
	}
	return dec.SkipValue()
}

// list reads the record array at dec, keeping each object as a record; other elements are
// counted in skipped.
func (ps *pageScan) list(dec *jsontext.Decoder) error {
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	if ps.records == nil {
		// Sized from the body (Duo's records run from about 250 bytes to a few kilobytes)
		// so that a full page does not regrow the slice. A wrong guess costs a regrow.
		ps.records = make([]Record, 0, min(max(len(ps.body)/128, 16), ps.ep.Limit))
	}
	for dec.PeekKind() != ']' {
		if dec.PeekKind() != '{' {
			if err := dec.SkipValue(); err != nil {
				return err
			}
			ps.skipped++
			continue
		}
		r, err := ps.record(dec)
		if err != nil {
			return err
		}
		ps.records = append(ps.records, r)
	}
	_, err := dec.ReadToken()
	return err
}

// maxTimeFields is the most time fields an endpoint may name (TestEndpointTable).
const maxTimeFields = 4

// record reads one record object: its Raw (the body between its braces, found by offset),
// its ID and its Time from the members the endpoint names (docs/duo-api.md §1.5, §3).
func (ps *pageScan) record(dec *jsontext.Decoder) (Record, error) {
	var r Record
	if _, err := dec.ReadToken(); err != nil {
		return r, err
	}
	start := dec.InputOffset() - 1
	var times [maxTimeFields]time.Time // by precedence
	err := members(dec, func(name []byte) error {
		if ps.ep.IDKey != "" && keyIs(name, ps.ep.IDKey) {
			v, err := dec.ReadValue()
			r.ID = scalarText(v)
			return err
		}
		for i, tf := range ps.ep.Times {
			if keyIs(name, tf.Key) {
				v, err := dec.ReadValue()
				times[i], _ = timeValue(v, tf.Unit)
				return err
			}
		}
		return dec.SkipValue()
	})
	if err != nil {
		return r, err
	}
	r.Raw = ps.body[start:dec.InputOffset()]
	for _, t := range times {
		if !t.IsZero() {
			r.Time = t
			break
		}
	}
	return r, nil
}

// nextOffset reads a metadata object's next_offset, rendered as the client sends it back
// (docs/duo-api.md §3.1, §3.3, §3.6, §6 item 7): an array (auth's [ms, txid]) joined
// with a comma, a string as is, a number as its literal; null, absent, empty or anything
// else gives "". A metadata that is not an object is skipped.
func nextOffset(dec *jsontext.Decoder) (string, error) {
	if dec.PeekKind() != '{' {
		return "", dec.SkipValue()
	}
	if _, err := dec.ReadToken(); err != nil {
		return "", err
	}
	var next string
	err := members(dec, func(name []byte) error {
		if !keyIs(name, "next_offset") {
			return dec.SkipValue()
		}
		next = ""
		if dec.PeekKind() != '[' {
			v, err := dec.ReadValue()
			next = scalarText(v)
			return err
		}
		if _, err := dec.ReadToken(); err != nil {
			return err
		}
		var parts []string
		for dec.PeekKind() != ']' {
			v, err := dec.ReadValue()
			if err != nil {
				return err
			}
			if s := scalarText(v); s != "" {
				parts = append(parts, s)
			}
		}
		next = strings.Join(parts, ",")
		_, err := dec.ReadToken()
		return err
	})
	return next, err
}

// decodeSummary decodes /admin/v1/info/summary (docs/duo-api.md §3.7): every numeric member
// of response. Non-numeric members are left out.
func decodeSummary(path string, body []byte) (map[string]int64, error) {
	out := make(map[string]int64)
	env, err := decodeEnvelope(body, func(dec *jsontext.Decoder) error {
		clear(out)
		if dec.PeekKind() != '{' {
			return dec.SkipValue()
		}
		if _, err := dec.ReadToken(); err != nil {
			return err
		}
		return members(dec, func(name []byte) error {
			key, _ := stringValue(name)
			v, err := dec.ReadValue()
			if n, ok := numberValue(v); ok {
				out[key] = n
			}
			return err
		})
	})
	if err != nil {
		return nil, &decodeError{path: path, msg: err.Error()}
	}
	if err := checkStat(env, path); err != nil {
		return nil, err
	}
	if env.response != '{' && env.response != 'n' {
		return nil, &decodeError{path: path, msg: "response is not an object"}
	}
	return out, nil
}

// v1IDs numbers identical records of the same second within one page: a v1 record's id is
// the hash of its compacted content plus its occurrence number, so true twins stay separate
// events (docs/duo-api.md §3.2, §4.2). A re-query from the boundary second returns that
// second's records again from the first, so the numbering is stable across pages.
type v1IDs struct {
	buf  jsontext.Value
	seen map[v1Key]int
}

// v1Key is a record's second and content hash: the group its occurrence number counts in.
type v1Key struct {
	sec int64
	sum [16]byte
}

func (v *v1IDs) id(raw []byte, t time.Time) string {
	v.buf = append(v.buf[:0], raw...)
	_ = v.buf.Compact() // raw is valid JSON: the decoder read it
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

// --- value helpers: v is one whole JSON value the decoder has read ---

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
