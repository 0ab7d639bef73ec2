// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoapi

import "encoding/binary"

// validJSON reports whether d is exactly one JSON text (RFC 8259) with nothing but
// whitespace around it. It accepts exactly what encoding/json's Valid accepts (the fuzz
// test FuzzValidJSON holds it to that), including its nesting limit and its tolerance of
// invalid UTF-8 inside strings, at several times its speed: a recursive descent without
// a state machine, and strings read eight bytes at a time.
func validJSON(d []byte) bool {
	i := validValue(d, skipWS(d, 0), 1)
	return i >= 0 && skipWS(d, i) == len(d)
}

// maxNesting is encoding/json's limit on nested arrays and objects.
const maxNesting = 10000

// validValue checks the value starting at d[i] (no whitespace before it) and returns the
// index just past it, or -1. depth is the nesting level a container opening here has.
func validValue(d []byte, i, depth int) int {
	if i >= len(d) {
		return -1
	}
	switch c := d[i]; c {
	case '"':
		return validString(d, i)
	case '{':
		return validObject(d, i, depth)
	case '[':
		return validArray(d, i, depth)
	case 't':
		return validLiteral(d, i, "true")
	case 'f':
		return validLiteral(d, i, "false")
	case 'n':
		return validLiteral(d, i, "null")
	default:
		return validNumber(d, i)
	}
}

func validObject(d []byte, i, depth int) int {
	if depth > maxNesting {
		return -1
	}
	i = skipWS(d, i+1)
	if i < len(d) && d[i] == '}' {
		return i + 1
	}
	for {
		if i >= len(d) || d[i] != '"' {
			return -1
		}
		if i = validString(d, i); i < 0 {
			return -1
		}
		i = skipWS(d, i)
		if i >= len(d) || d[i] != ':' {
			return -1
		}
		if i = validValue(d, skipWS(d, i+1), depth+1); i < 0 {
			return -1
		}
		i = skipWS(d, i)
		if i >= len(d) {
			return -1
		}
		switch d[i] {
		case ',':
			i = skipWS(d, i+1)
		case '}':
			return i + 1
		default:
			return -1
		}
	}
}

func validArray(d []byte, i, depth int) int {
	if depth > maxNesting {
		return -1
	}
	i = skipWS(d, i+1)
	if i < len(d) && d[i] == ']' {
		return i + 1
	}
	for {
		if i = validValue(d, i, depth+1); i < 0 {
			return -1
		}
		i = skipWS(d, i)
		if i >= len(d) {
			return -1
		}
		switch d[i] {
		case ',':
			i = skipWS(d, i+1)
		case ']':
			return i + 1
		default:
			return -1
		}
	}
}

func validLiteral(d []byte, i int, lit string) int {
	if len(d)-i < len(lit) || string(d[i:i+len(lit)]) != lit {
		return -1
	}
	return i + len(lit)
}

// validNumber checks the number grammar of RFC 8259 section 6. What follows the number is
// the caller's to check.
func validNumber(d []byte, i int) int {
	if d[i] == '-' {
		i++
		if i >= len(d) {
			return -1
		}
	}
	switch c := d[i]; {
	case c == '0':
		i++
	case c >= '1' && c <= '9':
		i = digits(d, i+1)
	default:
		return -1
	}
	if i < len(d) && d[i] == '.' {
		j := digits(d, i+1)
		if j == i+1 {
			return -1
		}
		i = j
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		j := digits(d, i)
		if j == i {
			return -1
		}
		i = j
	}
	return i
}

func digits(d []byte, i int) int {
	for i < len(d) && d[i] >= '0' && d[i] <= '9' {
		i++
	}
	return i
}

// Byte-parallel tests on a little-endian 64-bit word (each byte a lane).
const (
	lanes01 = 0x0101010101010101
	lanes80 = 0x8080808080808080
)

// plainWord reports whether none of the eight bytes of w ends or escapes a string or is
// a control character: no '"', no '\\', nothing below 0x20. A lane's borrow can only
// come from a lower lane that matched, so a false "not plain" is never the only match.
func plainWord(w uint64) bool {
	quote := w ^ (lanes01 * '"')
	bslash := w ^ (lanes01 * '\\')
	special := (w - lanes01*0x20) & ^w
	special |= (quote - lanes01) & ^quote
	special |= (bslash - lanes01) & ^bslash
	return special&lanes80 == 0
}

// validString checks the string starting at d[i] == '"' and returns the index just past
// its closing quote, or -1. Bytes from 0x80 up are not checked as UTF-8, as in
// encoding/json.
func validString(d []byte, i int) int {
	i++
	for {
		for i+8 <= len(d) && plainWord(binary.LittleEndian.Uint64(d[i:])) {
			i += 8
		}
		if i >= len(d) {
			return -1
		}
		switch c := d[i]; {
		case c == '"':
			return i + 1
		case c == '\\':
			if i+1 >= len(d) {
				return -1
			}
			switch d[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(d) || !isHex(d[i+2]) || !isHex(d[i+3]) || !isHex(d[i+4]) || !isHex(d[i+5]) {
					return -1
				}
				i += 6
			default:
				return -1
			}
		case c < 0x20:
			return -1
		default:
			i++
		}
	}
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// walkObject checks the syntax of the object at d[i] == '{', which opens nesting level
// depth, and calls member with each key token (quotes included) and the index of its
// value. member must check the value and return the index just past it, or -1.
// walkObject returns the index just past the object, or -1 where d is not valid JSON.
func walkObject(d []byte, i, depth int, member func(key []byte, v int) int) int {
	if depth > maxNesting {
		return -1
	}
	i = skipWS(d, i+1)
	if i < len(d) && d[i] == '}' {
		return i + 1
	}
	for {
		if i >= len(d) || d[i] != '"' {
			return -1
		}
		ks := i
		if i = validString(d, i); i < 0 {
			return -1
		}
		key := d[ks:i]
		i = skipWS(d, i)
		if i >= len(d) || d[i] != ':' {
			return -1
		}
		if i = member(key, skipWS(d, i+1)); i < 0 {
			return -1
		}
		i = skipWS(d, i)
		if i >= len(d) {
			return -1
		}
		switch d[i] {
		case ',':
			i = skipWS(d, i+1)
		case '}':
			return i + 1
		default:
			return -1
		}
	}
}

// walkArray is walkObject for the array at d[i] == '[': elem is called with the index of
// each element.
func walkArray(d []byte, i, depth int, elem func(v int) int) int {
	if depth > maxNesting {
		return -1
	}
	i = skipWS(d, i+1)
	if i < len(d) && d[i] == ']' {
		return i + 1
	}
	for {
		if i = elem(i); i < 0 {
			return -1
		}
		i = skipWS(d, i)
		if i >= len(d) {
			return -1
		}
		switch d[i] {
		case ',':
			i = skipWS(d, i+1)
		case ']':
			return i + 1
		default:
			return -1
		}
	}
}
