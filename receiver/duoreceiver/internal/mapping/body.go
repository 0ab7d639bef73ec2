// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package mapping

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

// MaxDepth is how deeply objects and arrays may nest in a record body (the record itself
// is depth 1); it is the one nesting limit of the data path. Duo's records nest three or
// four levels. A record nested deeper is still delivered, with its body the raw JSON
// string (Append reports it): a body this deep would exceed the recursion limits of
// common OTLP decoders downstream.
const MaxDepth = 64

var (
	errNotObject = errors.New("record is not a JSON object")
	errTooDeep   = fmt.Errorf("JSON nests deeper than %d levels", MaxDepth)
)

// decodeOptions accept what encoding/json accepts: of repeated names the last one wins,
// and bytes that are not UTF-8 (which become U+FFFD) may appear inside strings.
var decodeOptions = []jsontext.Options{jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true)}

// DecodeMap parses raw, which must hold exactly one JSON object, straight into dst (whose
// previous content is replaced), without an intermediate map[string]any. It is strict
// about JSON syntax and follows encoding/json wherever JSON leaves a choice: numbers
// without a fraction or exponent that fit an int64 become Int, all other numbers Double
// (a number out of float64 range is an error); null becomes an empty Value; invalid
// UTF-8 and lone \u surrogates become U+FFFD; of repeated keys the last wins. On error
// dst holds whatever was decoded so far.
func DecodeMap(raw []byte, dst pcommon.Map) error {
	// One copy of the record: every string without escapes in the result is a substring of
	// it, so most strings cost no allocation of their own.
	d := getDecoder(string(raw), raw)
	defer d.release()
	if d.dec.PeekKind() != '{' {
		if _, err := d.dec.ReadValue(); err != nil {
			return err
		}
		return errNotObject
	}
	dst.Clear()
	if err := d.object(dst, 1); err != nil {
		return err
	}
	return d.eof()
}

// decoder reads one JSON text held in s (and, for a record, in its bytes).
type decoder struct {
	dec jsontext.Decoder
	b   bytes.Buffer // over a record's bytes: the decoder reads them in place
	r   strings.Reader
	s   string
	buf []byte // scratch for strings with escapes
	// sizes[i] is how many members the i-th container (in reading order) of the last
	// record held; next is the ordinal of the next container. Records of one type share
	// their shape, so the last record's sizes are good capacity hints: each map and
	// slice is then allocated once instead of regrown. A wrong hint costs a regrow or
	// some slack, never a wrong result.
	sizes []int32
	next  int
	pool  *sync.Pool
}

// maxSizeHint bounds a capacity hint and maxHints the containers hinted per record, so
// that one odd record cannot make later ones reserve much memory.
const (
	maxSizeHint = 1024
	maxHints    = 4096
)

// hint returns the capacity hint for the container that opens now and its ordinal.
func (d *decoder) hint() (n, ord int) {
	ord = d.next
	d.next++
	if ord < len(d.sizes) {
		return int(d.sizes[ord]), ord
	}
	return 0, ord
}

// learn records the size of container ord for the next record.
func (d *decoder) learn(ord, n int) {
	if ord >= maxHints {
		return
	}
	for len(d.sizes) <= ord {
		d.sizes = append(d.sizes, 0)
	}
	d.sizes[ord] = int32(min(n, maxSizeHint))
}

// Two pools: a decoder over a bytes.Buffer reads in place, one over a strings.Reader
// copies into a buffer of its own, which Reset keeps only if it last read a Reader.
var recordPool, stringPool sync.Pool

// getDecoder returns a decoder over s, or over raw (whose copy s is) when it is not nil.
func getDecoder(s string, raw []byte) *decoder {
	var d *decoder
	if raw != nil {
		d, _ = recordPool.Get().(*decoder)
		if d == nil {
			d = &decoder{pool: &recordPool}
		}
		d.b = *bytes.NewBuffer(raw)
		d.dec.Reset(&d.b, decodeOptions...)
	} else {
		d, _ = stringPool.Get().(*decoder)
		if d == nil {
			d = &decoder{pool: &stringPool}
		}
		d.r.Reset(s)
		d.dec.Reset(&d.r, decodeOptions...)
	}
	d.s, d.next = s, 0
	return d
}

func (d *decoder) release() {
	if len(d.s) > 64<<10 || cap(d.buf) > 64<<10 {
		return // do not keep a large buffer alive from the pool
	}
	d.s, d.b = "", bytes.Buffer{}
	d.r.Reset("")
	d.pool.Put(d)
}

// eof checks that nothing but whitespace follows the value read.
func (d *decoder) eof() error {
	if _, err := d.dec.ReadToken(); !errors.Is(err, io.EOF) {
		if err == nil {
			err = errors.New("invalid JSON: data after the top-level value")
		}
		return err
	}
	return nil
}

// object reads the object that opens next into m (which must be empty); depth is its
// own nesting level.
func (d *decoder) object(m pcommon.Map, depth int) error {
	if depth > MaxDepth {
		return errTooDeep
	}
	if _, err := d.dec.ReadToken(); err != nil {
		return err
	}
	n, ord := d.hint()
	if n > 0 {
		m.EnsureCapacity(n)
	}
	for d.dec.PeekKind() != '}' {
		name, err := d.dec.ReadValue()
		if err != nil {
			return err
		}
		// PutEmpty replaces the value of a repeated key: the last one wins, as in
		// encoding/json.
		if err := d.value(m.PutEmpty(d.str(name)), depth); err != nil {
			return err
		}
	}
	d.learn(ord, m.Len())
	_, err := d.dec.ReadToken()
	return err
}

// array reads the array that opens next into sl (which must be empty).
func (d *decoder) array(sl pcommon.Slice, depth int) error {
	if depth > MaxDepth {
		return errTooDeep
	}
	if _, err := d.dec.ReadToken(); err != nil {
		return err
	}
	n, ord := d.hint()
	if n > 0 {
		sl.EnsureCapacity(n)
	}
	for d.dec.PeekKind() != ']' {
		if err := d.value(sl.AppendEmpty(), depth); err != nil {
			return err
		}
	}
	d.learn(ord, sl.Len())
	_, err := d.dec.ReadToken()
	return err
}

// value reads the next value into v; depth is that of the enclosing container.
func (d *decoder) value(v pcommon.Value, depth int) error {
	switch d.dec.PeekKind() {
	case '{':
		return d.object(v.SetEmptyMap(), depth+1)
	case '[':
		return d.array(v.SetEmptySlice(), depth+1)
	}
	raw, err := d.dec.ReadValue()
	if err != nil {
		return err
	}
	switch raw.Kind() {
	case '"':
		v.SetStr(d.str(raw))
	case 't':
		v.SetBool(true)
	case 'f':
		v.SetBool(false)
	case '0':
		return d.number(v, raw)
	}
	// null: v stays empty.
	return nil
}

// at returns the text of the value just read, as a substring of s.
func (d *decoder) at(raw []byte) string {
	end := int(d.dec.InputOffset())
	return d.s[end-len(raw) : end]
}

// str returns the value of the string token just read: a substring of s when it holds
// no escape and only valid UTF-8, else its unquoted copy.
func (d *decoder) str(raw []byte) string {
	if bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
		t := d.at(raw)
		return t[1 : len(t)-1]
	}
	// The decoder has checked the escapes: the only error left is invalid UTF-8, which
	// becomes U+FFFD as encoding/json does.
	d.buf, _ = jsontext.AppendUnquote(d.buf[:0], raw)
	return string(d.buf)
}

// number sets v from the number token just read.
func (d *decoder) number(v pcommon.Value, raw []byte) error {
	text := d.at(raw)
	// ParseInt refuses a fraction or an exponent: those, and integers beyond int64, are
	// doubles.
	if n, err := strconv.ParseInt(text, 10, 64); err == nil {
		v.SetInt(n)
		return nil
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return fmt.Errorf("invalid JSON: number %.40s out of range", text)
	}
	v.SetDouble(f)
	return nil
}

// lookupStrings calls fn for every member of the JSON object in s whose value is a
// string, without building anything (other values are checked and skipped). It is for
// JSON held inside Duo's string fields (admin description, activity details): it
// reports false if s is not a well-formed JSON object.
func lookupStrings(s string, fn func(key, val string)) bool {
	d := getDecoder(s, nil)
	defer d.release()
	if d.dec.PeekKind() != '{' {
		return false
	}
	if _, err := d.dec.ReadToken(); err != nil {
		return false
	}
	for d.dec.PeekKind() != '}' {
		name, err := d.dec.ReadValue()
		if err != nil {
			return false
		}
		key := d.str(name)
		if d.dec.PeekKind() != '"' {
			if d.dec.SkipValue() != nil {
				return false
			}
			continue
		}
		val, err := d.dec.ReadValue()
		if err != nil {
			return false
		}
		fn(key, d.str(val))
	}
	if _, err := d.dec.ReadToken(); err != nil {
		return false
	}
	return d.eof() == nil
}
