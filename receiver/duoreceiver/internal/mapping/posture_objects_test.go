// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package mapping

import (
	"math/rand/v2"
	"testing"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/duoapi"
	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/jsondoc"
)

// objectReaders pairs, per resource, the posture's reader over an object's values with
// the reference it is held to: encoding/json/v2 decoding the object's text into the same
// struct, with the page tokenizer's options.
var objectReaders = map[duoapi.Resource]func() (ours func(jsondoc.Value) error, ref func([]byte) error, got, want any){
	duoapi.Users: func() (func(jsondoc.Value) error, func([]byte) error, any, any) {
		var a, b userObject
		return a.read, unmarshalInto(&b), &a, &b
	},
	duoapi.BypassCodes: func() (func(jsondoc.Value) error, func([]byte) error, any, any) {
		var a, b bypassObject
		return a.read, unmarshalInto(&b), &a, &b
	},
	duoapi.Groups: func() (func(jsondoc.Value) error, func([]byte) error, any, any) {
		var a, b statusObject
		return a.read, unmarshalInto(&b), &a, &b
	},
	duoapi.Endpoints: func() (func(jsondoc.Value) error, func([]byte) error, any, any) {
		var a, b endpointObject
		return a.read, unmarshalInto(&b), &a, &b
	},
	duoapi.Admins: func() (func(jsondoc.Value) error, func([]byte) error, any, any) {
		var a, b roleObject
		return a.read, unmarshalInto(&b), &a, &b
	},
	duoapi.Integrations: func() (func(jsondoc.Value) error, func([]byte) error, any, any) {
		var a, b typeObject
		return a.read, unmarshalInto(&b), &a, &b
	},
	duoapi.Summary: func() (func(jsondoc.Value) error, func([]byte) error, any, any) {
		var a, b summaryObject
		return a.read, unmarshalInto(&b), &a, &b
	},
}

func unmarshalInto(dst any) func([]byte) error {
	return func(raw []byte) error {
		return json.Unmarshal(raw, dst, jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
	}
}

// checkObjectReader reads raw, a JSON object, both ways as resource r: the same verdict,
// and on success the same struct.
func checkObjectReader(t *testing.T, r duoapi.Resource, raw string) {
	t.Helper()
	doc, err := jsondoc.ParseString(raw)
	if err != nil || doc.Root().Kind() != '{' {
		return // the client hands out objects only
	}
	ours, ref, got, want := objectReaders[r]()
	gotErr, wantErr := ours(doc.Root()), ref([]byte(raw))
	if (gotErr == nil) != (wantErr == nil) {
		t.Fatalf("%s %q: reader says %v, encoding/json/v2 says %v", r, raw, gotErr, wantErr)
	}
	if gotErr == nil {
		if d := cmp.Diff(want, got, cmpopts.EquateNaNs(), cmpopts.EquateEmpty()); d != "" {
			t.Fatalf("%s %q: (-encoding/json/v2 +reader)\n%s", r, raw, d)
		}
	}
}

// objectCases are the corners of the rules: kinds, nulls, repeats, a wrong kind before a
// right one, escapes in names.
var objectCases = map[duoapi.Resource][]string{
	duoapi.Users: {
		`{}`, `{"status":null,"is_enrolled":null,"last_login":null,"phones":null,"tokens":null,"webauthncredentials":null}`,
		`{"status":1}`, `{"status":1,"status":"active"}`, `{"status":"active","status":null}`,
		`{"is_enrolled":"yes"}`, `{"is_enrolled":true,"is_enrolled":false}`,
		`{"last_login":"1796120000"}`, `{"last_login":""}`, `{"last_login":"soon"}`, `{"last_login":{}}`,
		`{"last_login":true}`, `{"last_login":"12abc"}`, `{"last_login":1e400}`, `{"last_login":"\u0031"}`,
		`{"phones":[null,{"phone_id":"P1","platform":"Apple iOS","activated":true}]}`,
		`{"phones":[1]}`, `{"phones":{}}`, `{"phones":[{"activated":"no"}]}`,
		`{"phones":[{"phone_id":"P1"}],"phones":[{"platform":"x"}]}`,
		`{"tokens":[{"token_id":"T1","type":"yk","type":null}]}`,
		`{"webauthncredentials":[{},null,{"x":1}]}`, `{"webauthncredentials":[1]}`,
		`{"st\u0061tus":"escaped name","Status":"other case"}`,
		"{\"status\":\"a\xffb\"}",
	},
	duoapi.BypassCodes: {`{"expiration":null}`, `{"expiration":"1796120000"}`, `{"expiration":"soon"}`, `{"expiration":1,"expiration":null}`},
	duoapi.Groups:      {`{"status":"Active"}`, `{"status":[]}`},
	duoapi.Endpoints: {
		`{"os_family":"Mac OS X","trusted_endpoint":true}`, `{"trusted_endpoint":"yes"}`, `{"trusted_endpoint":1.5}`,
		`{"trusted_endpoint":{"a":1},"trusted_endpoint":{"b":[2]}}`, `{"trusted_endpoint":1e400}`, `{"trusted_endpoint":null}`,
		`{"os_family":3}`,
	},
	duoapi.Admins:       {`{"role":"Owner"}`, `{"role":false}`},
	duoapi.Integrations: {`{"type":"sso"}`, `{"type":{}}`},
	duoapi.Summary:      {`{"telephony_credits_remaining":"250"}`, `{"telephony_credits_remaining":null}`, `{"telephony_credits_remaining":"x"}`},
}

func TestObjectReadersMatchEncodingJSON(t *testing.T) {
	for r, cases := range objectCases {
		for _, raw := range cases {
			checkObjectReader(t, r, raw)
		}
	}
	for r := range objectReaders {
		for _, o := range inventoryObjects(t, r) {
			checkObjectReader(t, r, o.Raw)
		}
	}
	// Generated objects, most of them wrong for every resource in some member.
	rng := rand.New(rand.NewPCG(10, 2026))
	for range 3000 {
		g := randJSON{r: rng}
		g.object(1)
		for r := range objectReaders {
			checkObjectReader(t, r, string(g.b))
		}
	}
}

func FuzzObjectReaders(f *testing.F) {
	for r, cases := range objectCases {
		for _, raw := range cases {
			f.Add(string(r), raw)
		}
	}
	f.Fuzz(func(t *testing.T, resource, raw string) {
		if _, ok := objectReaders[duoapi.Resource(resource)]; !ok {
			return
		}
		checkObjectReader(t, duoapi.Resource(resource), raw)
	})
}
