// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package mapping

import (
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
	d := getDecoder(string(raw))
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

// decoder reads one JSON text held in s.
type decoder struct {
	dec jsontext.Decoder
	r   strings.Reader
	s   string
	buf []byte // scratch for strings with escapes
}

var decoderPool = sync.Pool{New: func() any { return new(decoder) }}

func getDecoder(s string) *decoder {
	d := decoderPool.Get().(*decoder)
	d.s = s
	d.r.Reset(s)
	d.dec.Reset(&d.r, decodeOptions...)
	return d
}

func (d *decoder) release() {
	if len(d.s) > 64<<10 || cap(d.buf) > 64<<10 {
		return // do not keep a large buffer alive from the pool
	}
	d.s = ""
	d.r.Reset("")
	d.dec.Reset(&d.r)
	decoderPool.Put(d)
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
	for d.dec.PeekKind() != ']' {
		if err := d.value(sl.AppendEmpty(), depth); err != nil {
			return err
		}
	}
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
	escaped, ascii := false, true
	for _, c := range raw {
		if c == '\\' {
			escaped = true
			break
		}
		if c >= utf8.RuneSelf {
			ascii = false
		}
	}
	if !escaped && (ascii || utf8.Valid(raw)) {
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
	if !strings.ContainsAny(text, ".eE") {
		if n, err := strconv.ParseInt(text, 10, 64); err == nil {
			v.SetInt(n)
			return nil
		}
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
	d := getDecoder(s)
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
