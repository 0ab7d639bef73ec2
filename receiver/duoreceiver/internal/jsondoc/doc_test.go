// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package jsondoc

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// corners are texts at the edges of the grammar and of encoding/json's choices.
var corners = []string{
	``, ` `, `{}`, ` { } `, `[]`, `null`, `nul`, `true`, `false`, `falsey`, `0`, `-0`, `-`, `01`,
	`1.`, `1.5`, `1e+`, `-1.5e10`, `1e400`, `1 2`, `{} {}`, `"`, `""`, `"abc\"def"`, `"\u00e9"`,
	`"\u00g9"`, "\"a\x01b\"", "\"\xff\xfe\"", `"\ud800"`, `"\udc00\ud800"`, `{"a":1,"a":2}`,
	`{"a":1,}`, `{"a" 1}`, `{a:1}`, `{"a":{"b":[1,{"c":null}]},"d":[]}`, `[1,]`, `[[[]]`,
	`{"a":"b"]`, `{"\u0061":1,"a":2,"\u0061":3}`, "{\"k\xff\":\"v\xfe\",\"ok\":\"é\"}",
	"{\"stat\": \"OK\",\n\t\"response\": [ {\"x\": -12.5e-3} ]\r\n}",
	strings.Repeat("[", 9998) + strings.Repeat("]", 9998),
	strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
}

// plain turns v into what encoding/json's Unmarshal (with UseNumber) makes of the same
// text, through the Doc's accessors only.
func plain(v Value) any {
	switch v.Kind() {
	case '{':
		m := map[string]any{}
		for k, e := range v.All() {
			m[k] = plain(e)
		}
		return m
	case '[':
		s := []any{}
		for _, e := range v.All() {
			s = append(s, plain(e))
		}
		return s
	case '"':
		return v.Str()
	case '0':
		return json.Number(v.Text())
	case 't', 'f':
		return v.Kind() == 't'
	}
	return nil
}

// checkAgainstEncodingJSON holds Parse to encoding/json on in: the same verdict, the
// same values, the same compact text, and Len and Get agreeing with the values.
func checkAgainstEncodingJSON(t *testing.T, in []byte) {
	d, err := Parse(in)
	if !assert.Equal(t, json.Valid(in), err == nil, "%.80q: %v", in, err) || err != nil {
		return
	}
	var want any
	dec := json.NewDecoder(bytes.NewReader(in))
	dec.UseNumber()
	require.NoError(t, dec.Decode(&want))
	root := d.Root()
	assert.Equal(t, want, plain(root), "%.80q", in)
	var compact bytes.Buffer
	require.NoError(t, json.Compact(&compact, in))
	assert.Equal(t, compact.String(), string(AppendCompact(nil, root)), "%.80q", in)
	assert.Equal(t, string(bytes.TrimSpace(in)), root.Text())
	if m, ok := want.(map[string]any); ok {
		n := 0
		for range root.All() {
			n++
		}
		assert.Equal(t, n, root.Len())
		for k, w := range m {
			got, ok := root.Get(k)
			if assert.True(t, ok, "Get(%q)", k) {
				assert.Equal(t, w, plain(got), "Get(%q): the last of a repeated name", k)
			}
		}
	}
}

func TestParseMatchesEncodingJSON(t *testing.T) {
	for _, in := range corners {
		checkAgainstEncodingJSON(t, []byte(in))
	}
	pages, err := filepath.Glob("../duoapi/testdata/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, pages)
	for _, p := range pages {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		checkAgainstEncodingJSON(t, b)
	}
}

func FuzzParse(f *testing.F) {
	for _, in := range corners {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkAgainstEncodingJSON(t, in)
	})
}

func TestAccessors(t *testing.T) {
	d, err := ParseString(`{"a":"x","b\"":[1,"s",{"c":true}],"a":"y","e":"\u00e9\n","n":null}`)
	require.NoError(t, err)
	root := d.Root()
	assert.True(t, d.UTF8())
	assert.Equal(t, 5, root.Len())

	a, ok := root.Get("a")
	require.True(t, ok)
	assert.Equal(t, "y", a.Str(), "the last of a repeated name counts")
	assert.Equal(t, "a", a.Key())

	arr, ok := root.Get(`b"`)
	require.True(t, ok, "an escaped name is found by its value")
	assert.Equal(t, Kind('['), arr.Kind())
	assert.Equal(t, 3, arr.Len())
	assert.Equal(t, `[1,"s",{"c":true}]`, arr.Text())
	var kinds []Kind
	for k, e := range arr.All() {
		assert.Empty(t, k, "array elements have no name")
		kinds = append(kinds, e.Kind())
	}
	assert.Equal(t, []Kind{'0', '"', '{'}, kinds)

	e, _ := root.Get("e")
	assert.Equal(t, "é\n", e.Str())
	assert.Equal(t, "", arr.Str(), "Str of a non-string")
	assert.Equal(t, `"\u00e9\n"`, e.Text())

	_, ok = root.Get("missing")
	assert.False(t, ok)
	_, ok = a.Get("a")
	assert.False(t, ok, "Get on a string")
	assert.Equal(t, Kind(0), Value{}.Kind())
}

// TestInvalidUTF8: a text with bytes that are not UTF-8 is read leniently; its strings
// read with U+FFFD in their place, and valid strings of the same text are untouched.
func TestInvalidUTF8(t *testing.T) {
	d, err := Parse([]byte("{\"bad\":\"a\xffb\",\"good\":\"é\"}"))
	require.NoError(t, err)
	assert.False(t, d.UTF8())
	bad, _ := d.Root().Get("bad")
	good, _ := d.Root().Get("good")
	assert.Equal(t, "a\uFFFDb", bad.Str())
	assert.Equal(t, "é", good.Str())
}

// TestRelease: a released document's values fail loudly instead of reading a later
// document's; strings read before stay valid, and the next document reuses the list.
func TestRelease(t *testing.T) {
	d, err := Parse([]byte(`{"a":"x"}`))
	require.NoError(t, err)
	a, _ := d.Root().Get("a")
	s := a.Str()
	d.Release()
	d.Release() // twice is harmless
	assert.Panics(t, func() { a.Kind() })
	d2, err := Parse([]byte(`{"a":"y"}`))
	require.NoError(t, err)
	b, _ := d2.Root().Get("a")
	assert.Equal(t, "y", b.Str())
	assert.Equal(t, "x", s)
}
