// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoapi

import (
	"errors"

	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/jsondoc"
)

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
	// response is the response member's value; its Kind is 0 when there is none.
	response jsondoc.Value
	// next is metadata.next_offset (nextOffset), which object lists carry beside
	// response (docs/duo-api.md §1.3).
	next string
}

// decodeEnvelope reads body, which must be a JSON object, in one tokenizer pass; the
// response's values are read from the same pass. Of repeated members the last counts.
func decodeEnvelope(body []byte) (envelope, error) {
	var env envelope
	doc, err := jsondoc.Parse(body)
	if err != nil {
		return env, errNotJSON
	}
	root := doc.Root()
	if root.Kind() != '{' {
		return env, errNotObject
	}
	for name, v := range root.All() {
		switch name {
		case "stat":
			env.stat = v.Str()
		case "message":
			env.message = v.Str()
		case "message_detail":
			env.detail = v.Str()
		case "code":
			env.code = intValue(v)
		case "response":
			env.response = v
		case "metadata":
			env.next = nextOffset(v)
		}
	}
	return env, nil
}

// checkStat turns a stat other than OK into an error. An answer without stat but with a
// response is accepted.
func checkStat(env envelope, path string) error {
	switch env.stat {
	case "OK":
		return nil
	case "":
		if env.response.Kind() != 0 {
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

// decodeResponse decodes body's envelope, checks its stat and that its response is of
// kind want (or null, when nullOK).
func decodeResponse(path string, body []byte, want jsondoc.Kind, nullOK bool) (jsondoc.Value, error) {
	env, err := decodeEnvelope(body)
	if err != nil {
		return jsondoc.Value{}, &decodeError{path: path, msg: err.Error()}
	}
	if err := checkStat(env, path); err != nil {
		return jsondoc.Value{}, err
	}
	if k := env.response.Kind(); k != want && (!nullOK || k != 'n') {
		return jsondoc.Value{}, &decodeError{path: path, msg: "response is not " + kindName[want]}
	}
	return env.response, nil
}

var kindName = map[jsondoc.Kind]string{'{': "an object", '[': "a list"}

// decodeSummary decodes /admin/v1/info/summary (docs/duo-api.md §3.7): every numeric member
// of response. Non-numeric members are left out.
func decodeSummary(path string, body []byte) (map[string]int64, error) {
	resp, err := decodeResponse(path, body, '{', true)
	if err != nil {
		return nil, err
	}
	out := make(map[string]int64)
	if resp.Kind() == '{' {
		for name, v := range resp.All() {
			if n, ok := numberValue(v); ok {
				out[name] = n
			}
		}
	}
	return out, nil
}
