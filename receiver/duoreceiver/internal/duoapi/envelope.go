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

// envelope is the top level of every answer (docs/duo-api.md §1.3, §1.4). Of repeated
// members the last counts.
type envelope struct {
	stat, message, detail string
	code                  int
	response              jsondoc.Value // Kind 0 when there is none
	metadata              jsondoc.Value // beside response in object lists (docs/duo-api.md §1.3)
}

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
	stat, _ := root.Get("stat")
	msg, _ := root.Get("message")
	detail, _ := root.Get("message_detail")
	code, _ := root.Get("code")
	env.stat, env.message, env.detail = stat.Str(), msg.Str(), detail.Str()
	if n, ok := parseInt(scalarText(code)); ok && n == int64(int32(n)) {
		env.code = int(n)
	}
	env.response, _ = root.Get("response")
	env.metadata, _ = root.Get("metadata")
	return env, nil
}

// openEnvelope decodes a 200 answer's envelope and turns a stat other than OK into an
// *APIError. An answer with a response but no stat is accepted.
func openEnvelope(path string, body []byte) (envelope, error) {
	env, err := decodeEnvelope(body)
	switch {
	case err != nil:
		return env, &decodeError{path: path, msg: err.Error()}
	case env.stat == "OK", env.stat == "" && env.response.Kind() != 0:
		return env, nil
	case env.stat == "":
		return env, &decodeError{path: path, msg: "no stat and no response"}
	}
	msg := env.message
	if msg == "" {
		msg = "stat " + env.stat
	}
	return env, &APIError{Status: 200, Code: env.code, Message: msg, Detail: env.detail, Path: path}
}

// decodeResponse opens body's envelope and checks that its response is of kind want (or
// null, when nullOK).
func decodeResponse(path string, body []byte, want jsondoc.Kind, nullOK bool) (jsondoc.Value, error) {
	env, err := openEnvelope(path, body)
	if err != nil {
		return jsondoc.Value{}, err
	}
	if k := env.response.Kind(); k != want && (!nullOK || k != 'n') {
		return jsondoc.Value{}, &decodeError{path: path, msg: "response is not " + map[jsondoc.Kind]string{'{': "an object", '[': "a list"}[want]}
	}
	return env.response, nil
}

// decodeSummary decodes /admin/v1/info/summary (docs/duo-api.md §3.7): every numeric member
// of response.
func decodeSummary(path string, body []byte) (map[string]int64, error) {
	resp, err := decodeResponse(path, body, '{', true)
	if err != nil {
		return nil, err
	}
	out := make(map[string]int64)
	for name, v := range resp.All() {
		if n, ok := parseInt(scalarText(v)); ok {
			out[name] = n
		}
	}
	return out, nil
}
