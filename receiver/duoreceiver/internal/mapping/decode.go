// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package mapping

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"unicode/utf16"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// MaxDepth is how deeply objects and arrays may nest in a record (the record itself is
// depth 1). Duo's records nest three or four levels; anything far deeper is refused
// rather than risking the stack.
const MaxDepth = 64

var (
	errNotObject = errors.New("record is not a JSON object")
	errTooDeep   = fmt.Errorf("JSON nests deeper than %d levels", MaxDepth)
)

// DecodeMap parses raw, which must hold exactly one JSON object, straight into dst (whose
// previous content is replaced), in a single pass without an intermediate map[string]any.
// It is strict about JSON syntax (RFC 8259) and follows encoding/json wherever JSON leaves
// a choice: numbers without a fraction or exponent that fit an int64 become Int, all other
// numbers Double (a number out of float64 range is an error); null becomes an empty
// Value; invalid UTF-8 and lone \u surrogates become U+FFFD; of repeated keys the last
// wins. On error dst holds whatever was decoded so far.
func DecodeMap(raw []byte, dst pcommon.Map) error {
	// One copy of the record: every string without escapes in the result is a substring of
	// it, so most strings cost no allocation of their own.
	return decodeMapString(string(raw), dst)
}

var decoderPool = sync.Pool{New: func() any { return new(decoder) }}

func decodeMapString(s string, dst pcommon.Map) error {
	d := decoderPool.Get().(*decoder)
	d.s, d.pos = s, 0
	err := d.decodeTop(dst)
	d.s = "" // do not keep the record alive from the pool
	if cap(d.buf) > 64<<10 {
		d.buf = nil
	}
	if cap(d.sizes) > 64<<10 {
		d.sizes = nil
	}
	decoderPool.Put(d)
	return err
}

// sizeHints turns the capacity pre-pass on; tests switch it off to measure its worth.
var sizeHints = true

func (d *decoder) decodeTop(dst pcommon.Map) error {
	d.sizes, d.next = d.sizes[:0], 0
	if sizeHints {
		d.countMembers()
	}
	d.skipSpace()
	if d.pos >= len(d.s) {
		return d.syntaxError("looking for beginning of value")
	}
	if d.s[d.pos] != '{' {
		return errNotObject
	}
	dst.Clear()
	if err := d.object(dst, 1); err != nil {
		return err
	}
	d.skipSpace()
	if d.pos != len(d.s) {
		return d.syntaxError("after top-level value")
	}
	return nil
}

// decoder reads one JSON text held in s; pos is the next byte to read.
type decoder struct {
	s   string
	pos int
	buf []byte // scratch for strings with escapes or invalid UTF-8
	// sizes holds the number of members of every object and array, in the order they
	// open, counted by countMembers; next is the one the next container takes. Maps and
	// slices are given their final capacity up front instead of growing by appends.
	sizes []int32
	next  int
}

// countMembers fills d.sizes in one quick pass over d.s that tracks only strings,
// brackets and commas. It trusts nothing: on malformed input the counts are merely
// wrong capacity hints, and the strict pass that follows reports the error.
func (d *decoder) countMembers() {
	var stack [MaxDepth + 1]struct {
		idx   int32
		empty bool
	}
	top := -1
	s := d.s
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ', '\t', '\n', '\r':
		case '"':
			if top >= 0 {
				stack[top].empty = false
			}
			for i++; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' {
					i++
				}
			}
		case '{', '[':
			if top >= 0 {
				stack[top].empty = false
			}
			if top+1 >= len(stack) {
				return // too deep: the strict pass refuses it
			}
			top++
			stack[top].idx, stack[top].empty = int32(len(d.sizes)), true
			d.sizes = append(d.sizes, 0)
		case '}', ']':
			if top < 0 {
				return
			}
			if !stack[top].empty {
				d.sizes[stack[top].idx]++
			}
			top--
		case ',':
			if top >= 0 {
				d.sizes[stack[top].idx]++
			}
		default:
			if top >= 0 {
				stack[top].empty = false
			}
		}
	}
}

// maxSizeHint bounds a capacity hint, so that malformed input (a run of commas) cannot
// make one container reserve much more memory than its valid members would use.
const maxSizeHint = 1024

// size returns the member count of the container that opens next (0 if unknown).
func (d *decoder) size() int {
	if d.next >= len(d.sizes) {
		return 0
	}
	n := d.sizes[d.next]
	d.next++
	return int(min(n, maxSizeHint))
}

func (d *decoder) syntaxError(context string) error {
	if d.pos >= len(d.s) {
		return fmt.Errorf("invalid JSON: unexpected end of input %s", context)
	}
	return fmt.Errorf("invalid JSON: invalid character %q at offset %d %s", d.s[d.pos], d.pos, context)
}

func (d *decoder) skipSpace() {
	for d.pos < len(d.s) {
		switch d.s[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// object reads an object whose '{' is at d.pos into m (which must be empty).
func (d *decoder) object(m pcommon.Map, depth int) error {
	if depth > MaxDepth {
		return errTooDeep
	}
	d.pos++ // '{'
	if n := d.size(); n > 0 {
		m.EnsureCapacity(n)
	}
	d.skipSpace()
	if d.pos < len(d.s) && d.s[d.pos] == '}' {
		d.pos++
		return nil
	}
	for {
		if d.pos >= len(d.s) || d.s[d.pos] != '"' {
			return d.syntaxError("looking for beginning of object key string")
		}
		key, err := d.str()
		if err != nil {
			return err
		}
		d.skipSpace()
		if d.pos >= len(d.s) || d.s[d.pos] != ':' {
			return d.syntaxError("after object key")
		}
		d.pos++
		d.skipSpace()
		// PutEmpty replaces the value of a repeated key: the last one wins, as in
		// encoding/json.
		if err := d.value(m.PutEmpty(key), depth); err != nil {
			return err
		}
		d.skipSpace()
		if d.pos >= len(d.s) {
			return d.syntaxError("after object key:value pair")
		}
		switch d.s[d.pos] {
		case ',':
			d.pos++
			d.skipSpace()
		case '}':
			d.pos++
			return nil
		default:
			return d.syntaxError("after object key:value pair")
		}
	}
}

// array reads an array whose '[' is at d.pos into sl (which must be empty).
func (d *decoder) array(sl pcommon.Slice, depth int) error {
	if depth > MaxDepth {
		return errTooDeep
	}
	d.pos++ // '['
	if n := d.size(); n > 0 {
		sl.EnsureCapacity(n)
	}
	d.skipSpace()
	if d.pos < len(d.s) && d.s[d.pos] == ']' {
		d.pos++
		return nil
	}
	for {
		if err := d.value(sl.AppendEmpty(), depth); err != nil {
			return err
		}
		d.skipSpace()
		if d.pos >= len(d.s) {
			return d.syntaxError("after array element")
		}
		switch d.s[d.pos] {
		case ',':
			d.pos++
			d.skipSpace()
		case ']':
			d.pos++
			return nil
		default:
			return d.syntaxError("after array element")
		}
	}
}

// value reads any JSON value at d.pos into v; depth is that of the enclosing container.
func (d *decoder) value(v pcommon.Value, depth int) error {
	if d.pos >= len(d.s) {
		return d.syntaxError("looking for beginning of value")
	}
	switch c := d.s[d.pos]; c {
	case '"':
		s, err := d.str()
		if err != nil {
			return err
		}
		v.SetStr(s)
	case '{':
		return d.object(v.SetEmptyMap(), depth+1)
	case '[':
		return d.array(v.SetEmptySlice(), depth+1)
	case 't':
		if err := d.literal("true"); err != nil {
			return err
		}
		v.SetBool(true)
	case 'f':
		if err := d.literal("false"); err != nil {
			return err
		}
		v.SetBool(false)
	case 'n':
		// null: v stays empty.
		return d.literal("null")
	default:
		if c == '-' || isDigit(c) {
			return d.number(v)
		}
		return d.syntaxError("looking for beginning of value")
	}
	return nil
}

func (d *decoder) literal(lit string) error {
	if len(d.s)-d.pos >= len(lit) && d.s[d.pos:d.pos+len(lit)] == lit {
		d.pos += len(lit)
		return nil
	}
	// Point at the first byte that differs.
	for i := 0; i < len(lit) && d.pos < len(d.s) && d.s[d.pos] == lit[i]; i++ {
		d.pos++
	}
	return d.syntaxError("in literal " + lit)
}

// number reads a JSON number into v.
func (d *decoder) number(v pcommon.Value) error {
	start := d.pos
	isInt, u, err := d.scanNumber()
	if err != nil {
		return err
	}
	if isInt {
		// u <= 1<<63 here; 1<<63 fits only as a negative number.
		switch {
		case d.s[start] == '-':
			v.SetInt(int64(-u)) //nolint:gosec // the two's complement of u <= 1<<63 is the intended value
			return nil
		case u < 1<<63:
			v.SetInt(int64(u))
			return nil
		}
	}
	f, err := strconv.ParseFloat(d.s[start:d.pos], 64)
	if err != nil {
		return fmt.Errorf("invalid JSON: number %.40s out of range", d.s[start:d.pos])
	}
	v.SetDouble(f)
	return nil
}

// scanNumber passes over a JSON number (RFC 8259 §6 grammar). isInt reports a number
// without fraction or exponent whose magnitude u is at most 1<<63.
func (d *decoder) scanNumber() (isInt bool, u uint64, err error) {
	if d.s[d.pos] == '-' {
		d.pos++
	}
	if d.pos >= len(d.s) || !isDigit(d.s[d.pos]) {
		return false, 0, d.syntaxError("in numeric literal")
	}
	isInt = true
	if d.s[d.pos] == '0' {
		d.pos++
	} else {
		for d.pos < len(d.s) && isDigit(d.s[d.pos]) {
			dig := uint64(d.s[d.pos] - '0')
			if u > (1<<63)/10 || u*10 > 1<<63-dig {
				isInt = false // too big for int64: a double, as encoding/json would do
			}
			u = u*10 + dig
			d.pos++
		}
	}
	if d.pos < len(d.s) && d.s[d.pos] == '.' {
		isInt = false
		d.pos++
		if d.pos >= len(d.s) || !isDigit(d.s[d.pos]) {
			return false, 0, d.syntaxError("after decimal point in numeric literal")
		}
		for d.pos < len(d.s) && isDigit(d.s[d.pos]) {
			d.pos++
		}
	}
	if d.pos < len(d.s) && (d.s[d.pos] == 'e' || d.s[d.pos] == 'E') {
		isInt = false
		d.pos++
		if d.pos < len(d.s) && (d.s[d.pos] == '+' || d.s[d.pos] == '-') {
			d.pos++
		}
		if d.pos >= len(d.s) || !isDigit(d.s[d.pos]) {
			return false, 0, d.syntaxError("in exponent of numeric literal")
		}
		for d.pos < len(d.s) && isDigit(d.s[d.pos]) {
			d.pos++
		}
	}
	return isInt, u, nil
}

// str reads a string whose opening quote is at d.pos and returns its value. Strings
// without escapes or invalid UTF-8 are returned as substrings of d.s.
func (d *decoder) str() (string, error) {
	d.pos++ // opening quote
	start := d.pos
	for i := d.pos; i < len(d.s); {
		c := d.s[i]
		switch {
		case c == '"':
			d.pos = i + 1
			return d.s[start:i], nil
		case c == '\\':
			return d.strSlow(start, i)
		case c < 0x20:
			d.pos = i
			return "", d.syntaxError("in string literal")
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRuneInString(d.s[i:])
			if r == utf8.RuneError && size == 1 {
				return d.strSlow(start, i)
			}
			i += size
		}
	}
	d.pos = len(d.s)
	return "", d.syntaxError("in string literal")
}

// strSlow finishes a string from i onwards, where an escape or invalid UTF-8 starts;
// s[start:i] is already known to be plain.
func (d *decoder) strSlow(start, i int) (string, error) {
	b := append(d.buf[:0], d.s[start:i]...)
	defer func() { d.buf = b[:0] }()
	for i < len(d.s) {
		c := d.s[i]
		switch {
		case c == '"':
			d.pos = i + 1
			return string(b), nil
		case c == '\\':
			if i+1 >= len(d.s) {
				d.pos = len(d.s)
				return "", d.syntaxError("in string escape code")
			}
			switch e := d.s[i+1]; e {
			case '"', '\\', '/':
				b = append(b, e)
				i += 2
			case 'b':
				b = append(b, '\b')
				i += 2
			case 'f':
				b = append(b, '\f')
				i += 2
			case 'n':
				b = append(b, '\n')
				i += 2
			case 'r':
				b = append(b, '\r')
				i += 2
			case 't':
				b = append(b, '\t')
				i += 2
			case 'u':
				r, ok := hex4(d.s, i+2)
				if !ok {
					d.pos = i + 2
					for k := 0; k < 4 && d.pos < len(d.s) && isHex(d.s[d.pos]); k++ {
						d.pos++
					}
					return "", d.syntaxError("in \\u hexadecimal character escape")
				}
				i += 6
				if utf16.IsSurrogate(r) {
					// A valid pair is one character; anything else is U+FFFD for this
					// half, and what follows is read on its own (as encoding/json does).
					if i+1 < len(d.s) && d.s[i] == '\\' && d.s[i+1] == 'u' {
						if r2, ok := hex4(d.s, i+2); ok {
							if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
								b = utf8.AppendRune(b, dec)
								i += 6
								continue
							}
						}
					}
					r = utf8.RuneError
				}
				b = utf8.AppendRune(b, r)
			default:
				d.pos = i + 1
				return "", d.syntaxError("in string escape code")
			}
		case c < 0x20:
			d.pos = i
			return "", d.syntaxError("in string literal")
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			r, size := utf8.DecodeRuneInString(d.s[i:])
			if r == utf8.RuneError && size == 1 {
				b = utf8.AppendRune(b, utf8.RuneError)
			} else {
				b = append(b, d.s[i:i+size]...)
			}
			i += size
		}
	}
	d.pos = len(d.s)
	return "", d.syntaxError("in string literal")
}

func isHex(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// hex4 decodes the four hex digits at s[i:i+4].
func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[i : i+4]) {
		switch {
		case isDigit(c):
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// lookupStrings calls fn for every member of the JSON object in s whose value is a
// string, without building anything (other values are validated and skipped). It is for
// JSON held inside Duo's string fields (admin description, activity details): it
// reports false if s is not a well-formed JSON object.
func lookupStrings(s string, fn func(key, val string)) bool {
	d := decoder{s: s}
	d.skipSpace()
	if d.pos >= len(d.s) || d.s[d.pos] != '{' {
		return false
	}
	d.pos++
	d.skipSpace()
	if d.pos < len(d.s) && d.s[d.pos] == '}' {
		d.pos++
	} else {
		for {
			if d.pos >= len(d.s) || d.s[d.pos] != '"' {
				return false
			}
			key, err := d.str()
			if err != nil {
				return false
			}
			d.skipSpace()
			if d.pos >= len(d.s) || d.s[d.pos] != ':' {
				return false
			}
			d.pos++
			d.skipSpace()
			if d.pos < len(d.s) && d.s[d.pos] == '"' {
				val, err := d.str()
				if err != nil {
					return false
				}
				fn(key, val)
			} else if !d.skip(1) {
				return false
			}
			d.skipSpace()
			if d.pos >= len(d.s) {
				return false
			}
			if d.s[d.pos] == '}' {
				d.pos++
				break
			}
			if d.s[d.pos] != ',' {
				return false
			}
			d.pos++
			d.skipSpace()
		}
	}
	d.skipSpace()
	return d.pos == len(d.s)
}

// skip validates and passes over one value; depth is that of the enclosing container.
func (d *decoder) skip(depth int) bool {
	if d.pos >= len(d.s) {
		return false
	}
	switch c := d.s[d.pos]; c {
	case '"':
		_, err := d.str()
		return err == nil
	case '{', '[':
		if depth+1 > MaxDepth {
			return false
		}
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		d.pos++
		d.skipSpace()
		if d.pos < len(d.s) && d.s[d.pos] == closer {
			d.pos++
			return true
		}
		for {
			if c == '{' {
				if d.pos >= len(d.s) || d.s[d.pos] != '"' {
					return false
				}
				if _, err := d.str(); err != nil {
					return false
				}
				d.skipSpace()
				if d.pos >= len(d.s) || d.s[d.pos] != ':' {
					return false
				}
				d.pos++
				d.skipSpace()
			}
			if !d.skip(depth + 1) {
				return false
			}
			d.skipSpace()
			if d.pos >= len(d.s) {
				return false
			}
			if d.s[d.pos] == closer {
				d.pos++
				return true
			}
			if d.s[d.pos] != ',' {
				return false
			}
			d.pos++
			d.skipSpace()
		}
	case 't':
		return d.literal("true") == nil
	case 'f':
		return d.literal("false") == nil
	case 'n':
		return d.literal("null") == nil
	default:
		if c != '-' && !isDigit(c) {
			return false
		}
		_, _, err := d.scanNumber()
		return err == nil
	}
}
