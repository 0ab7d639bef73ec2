// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoapi

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// maxNesting is how deeply encoding/json (and jsontext) let JSON nest.
const maxNesting = 10000

var validJSONCases = []string{
	``, ` `, `{}`, ` { } `, `[]`, `[ ]`, `null`, `nul`, `nullx`, `true`, `tru`, `false`, `falsey`,
	`0`, `-0`, `-`, `01`, `1.`, `1.5`, `.5`, `1e`, `1e+`, `1E-7`, `1e+7x`, `-1.5e10`, `1 2`,
	`"`, `""`, `"a`, `"abc\"def"`, `"\\"`, `"\/\b\f\n\r\t"`, `"\u00e9"`, `"\u00g9"`, `"\u00"`,
	`"\x"`, "\"a\x01b\"", "\"\x7f\"", "\"\xff\xfe\"", "\"0123456789abcdef\\\"0123456789\"",
	`"\ud800"`, `"\udc00\ud800"`, `{"a":1,"a":2}`,
	`"0123456789012345678901234567"`, "\"01234567\x1f\"",
	`{"a":1}`, `{"a":1,}`, `{"a" 1}`, `{a:1}`, `{"a":1 "b":2}`, `{"a":}`, `{,"a":1}`, `{"a":[1,2,{"b":null}]}`,
	`[1,]`, `[,1]`, `[1 2]`, `[[[]]]`, `[[[]]`, `{"a":{"b":{}}}}`, `{"a":"b"]`, `["a"}`,
	"{\"stat\": \"OK\",\n\t\"response\": [ {\"x\": -12.5e-3} ]\r\n}",
	strings.Repeat("[", maxNesting-3) + strings.Repeat("]", maxNesting-3),
	strings.Repeat("[", maxNesting-2) + strings.Repeat("]", maxNesting-2),
	strings.Repeat(`{"a":`, maxNesting-3) + "1" + strings.Repeat("}", maxNesting-3),
	strings.Repeat(`{"a":`, maxNesting-2) + "1" + strings.Repeat("}", maxNesting-2),
}

// inPage puts v at three levels of nesting inside a page (envelope, response, record),
// where the page decoder skips it without looking.
func inPage(v []byte) []byte {
	page := []byte(`{"stat":"OK","response":{"authlogs":[{"txid":"a","x":`)
	page = append(page, v...)
	return append(page, `}]}}`...)
}

// TestDecodeSyntaxMatchesEncodingJSON: the page decoder accepts exactly the pages
// encoding/json's Valid accepts, on every corner of the grammar, the nesting limit
// included.
func TestDecodeSyntaxMatchesEncodingJSON(t *testing.T) {
	for _, in := range validJSONCases {
		page := inPage([]byte(in))
		_, err := decodePage(endpointOf(Authentication), page)
		assert.Equal(t, json.Valid(page), err == nil, "%.60q: %v", in, err)
	}
}

// FuzzDecodeSyntax holds the page decoder to encoding/json's verdict on any value inside
// a record.
func FuzzDecodeSyntax(f *testing.F) {
	for _, in := range validJSONCases {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		page := inPage(in)
		_, err := decodePage(endpointOf(Authentication), page)
		if got, want := err == nil, json.Valid(page); got != want {
			t.Fatalf("decodePage(%q) accepts: %v (%v), encoding/json says %v", page, got, err, want)
		}
	})
}

func BenchmarkDecodeSyntax(b *testing.B) {
	body := fullPage(b, Authentication, "authentication_page.json", 1000)
	for _, tc := range []struct {
		name string
		fn   func([]byte) bool
	}{
		{"encoding-json-valid", json.Valid},
		{"decodePage", func(p []byte) bool { _, err := decodePage(endpointOf(Authentication), p); return err == nil }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if !tc.fn(body) {
					b.Fatal("invalid")
				}
			}
		})
	}
}

// TestDecodePageRejectsInvalidJSON: the one-pass page walk refuses a syntax error wherever
// it is, before or after the members it reads, as json.Valid does.
func TestDecodePageRejectsInvalidJSON(t *testing.T) {
	page := string(readTestdata(t, "authentication_page.json"))
	tests := []struct{ name, body string }{
		{"truncated", page[:len(page)/2]},
		{"trailing garbage", page + " x"},
		{"two values", page + " {}"},
		{"bad escape deep in a record", strings.Replace(page, `"authlogs": [`, `"authlogs": [{"a":{"b":["\q"]}},`, 1)},
		{"control character in a key", strings.Replace(page, `"stat"`, "\"st\x01at\"", 1)},
		{"bad number in metadata", strings.Replace(page, `"metadata": {`, `"metadata": {"x": 01,`, 1)},
		{"missing comma between records", strings.Replace(page, `"authlogs": [`, `"authlogs": [{} `, 1)},
		{"bad literal after the list", strings.Replace(page, `"stat": "OK"`, `"stat": "OK", "z": nul`, 1)},
		{"not an object, unclosed", `[` + page},
		{"empty", ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.NotEqual(t, page, tt.body, "the case changes the page")
			require.False(t, json.Valid([]byte(tt.body)))
			_, err := decodePage(endpointOf(Authentication), []byte(tt.body))
			var de *decodeError
			require.ErrorAs(t, err, &de)
		})
	}
}
