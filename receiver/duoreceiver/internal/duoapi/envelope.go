// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoapi

import (
	"bytes"
	"errors"
	"io"

	"github.com/go-json-experiment/json/jsontext"
)

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
