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
// utf8Options refuse those bytes: a record read with them needs no check of its own.
var (
	decodeOptions = []jsontext.Options{jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true)}
	utf8Options   = []jsontext.Options{jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(false)}
)

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
	s := string(raw)
	// Nearly every record is valid UTF-8: read it so first, which spares each string a
	// check, and read it again leniently only if that fails on syntax.
	err := decodeMap(s, raw, dst, true)
	if serr := (*jsontext.SyntacticError)(nil); errors.As(err, &serr) {
		err = decodeMap(s, raw, dst, false)
	}
	return err
}

func decodeMap(s string, raw []byte, dst pcommon.Map, validUTF8 bool) error {
	d := getDecoder(s, raw, validUTF8)
	defer d.release()
	if d.dec.PeekKind() != '{' {
		if _, err := d.dec.ReadValue(); err != nil {
			return err
		}
		return errNotObject
	}
	dst.Clear()
	if err := d.object(dst, 1, ""); err != nil {
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
	// sizes[i] is the name and size of the i-th container (in reading order) of the
	// last record, byName the last size seen under each name (the member holding the
	// container; "" for the record). Records of one type share their shape, so these
	// are good capacity hints: each map and slice is then allocated once instead of
	// regrown. A wrong hint costs a regrow or some slack, never a wrong result.
	sizes  []sizeHint
	byName map[string]int32
	next   int
	pool   *sync.Pool
	// validUTF8: s is known to be valid UTF-8, so no string needs U+FFFD replacements.
	validUTF8 bool
}

type sizeHint struct {
	name string
	n    int32
}

// maxSizeHint bounds a capacity hint and maxHints the containers and names remembered,
// so that one odd record cannot make later ones reserve much memory.
const (
	maxSizeHint = 1024
	maxHints    = 4096
)

// hint returns the capacity hint for the container that opens now under name, and its
// ordinal.
func (d *decoder) hint(name string) (n, ord int) {
	ord = d.next
	d.next++
	if ord < len(d.sizes) && d.sizes[ord].name == name {
		return int(d.sizes[ord].n), ord
	}
	return int(d.byName[name]), ord
}

// learn records the size of container ord, under name, for the next record. Names are
// cloned when first kept: they are substrings of a record that must not stay alive.
func (d *decoder) learn(ord int, name string, n int) {
	h := sizeHint{name: name, n: int32(min(n, maxSizeHint))}
	if ord < maxHints {
		for len(d.sizes) <= ord {
			d.sizes = append(d.sizes, sizeHint{})
		}
		if old := d.sizes[ord]; old == h {
			return // the same shape as before: byName is consulted only when it differs
		} else if old.name == name {
			h.name = old.name
		} else {
			h.name = strings.Clone(name)
		}
		d.sizes[ord] = h
	}
	if d.byName == nil {
		d.byName = make(map[string]int32)
	}
	if _, ok := d.byName[name]; ok || len(d.byName) < maxHints {
		d.byName[h.name] = h.n
	}
}

// Two pools: a decoder over a bytes.Buffer reads in place, one over a strings.Reader
// copies into a buffer of its own, which Reset keeps only if it last read a Reader.
var recordPool, stringPool sync.Pool

// getDecoder returns a decoder over s, or over raw (whose copy s is) when it is not nil.
// With validUTF8, the decoder refuses bytes that are not UTF-8 (a syntax error).
func getDecoder(s string, raw []byte, validUTF8 bool) *decoder {
	opts := decodeOptions
	if validUTF8 {
		opts = utf8Options
	}
	var d *decoder
	if raw != nil {
		d, _ = recordPool.Get().(*decoder)
		if d == nil {
			d = &decoder{pool: &recordPool}
		}
		d.b = *bytes.NewBuffer(raw)
		d.dec.Reset(&d.b, opts...)
	} else {
		d, _ = stringPool.Get().(*decoder)
		if d == nil {
			d = &decoder{pool: &stringPool}
		}
		d.r.Reset(s)
		d.dec.Reset(&d.r, opts...)
	}
	d.s, d.next, d.validUTF8 = s, 0, validUTF8
	return d
}

func (d *decoder) release() {
	if len(d.s) > 64<<10 || cap(d.buf) > 64<<10 {
		return // do not keep a large buffer alive from the pool
	}
	d.s, d.b = "", bytes.Buffer{}
	d.r.Reset("")
	if d.pool == &recordPool {
		// The decoder reads a record in place, and the record aliases its page's
		// body: drop the reference. (Over a Reader it reads a copy, which it keeps to
		// reuse as its buffer.)
		d.dec.Reset(&d.b)
	}
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
func (d *decoder) object(m pcommon.Map, depth int, name string) error {
	if depth > MaxDepth {
		return errTooDeep
	}
	if _, err := d.dec.ReadToken(); err != nil {
		return err
	}
	n, ord := d.hint(name)
	if n > 0 {
		m.EnsureCapacity(n)
	}
	for d.dec.PeekKind() != '}' {
		raw, err := d.dec.ReadValue()
		if err != nil {
			return err
		}
		key := d.str(raw)
		// PutEmpty replaces the value of a repeated key: the last one wins, as in
		// encoding/json.
		if err := d.value(m.PutEmpty(key), depth, key); err != nil {
			return err
		}
	}
	d.learn(ord, name, m.Len())
	_, err := d.dec.ReadToken()
	return err
}

// array reads the array that opens next into sl (which must be empty).
func (d *decoder) array(sl pcommon.Slice, depth int, name string) error {
	if depth > MaxDepth {
		return errTooDeep
	}
	if _, err := d.dec.ReadToken(); err != nil {
		return err
	}
	n, ord := d.hint(name)
	if n > 0 {
		sl.EnsureCapacity(n)
	}
	for d.dec.PeekKind() != ']' {
		if err := d.value(sl.AppendEmpty(), depth, name); err != nil {
			return err
		}
	}
	d.learn(ord, name, sl.Len())
	_, err := d.dec.ReadToken()
	return err
}

// value reads the next value into v; depth is that of the enclosing container, name the
// member that holds v (for an array element, the array's).
func (d *decoder) value(v pcommon.Value, depth int, name string) error {
	switch d.dec.PeekKind() {
	case '{':
		return d.object(v.SetEmptyMap(), depth+1, name)
	case '[':
		return d.array(v.SetEmptySlice(), depth+1, name)
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
	if bytes.IndexByte(raw, '\\') < 0 && (d.validUTF8 || utf8.Valid(raw)) {
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
	// One check of the whole text rather than one per string.
	d := getDecoder(s, nil, utf8.ValidString(s))
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
