// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package mapping

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/duoapi"
)

// decodeMap builds the body map of raw, one JSON object, into dst as Append does: numbers
// without a fraction or exponent that fit an int64 are Int, all others Double; null is an
// empty Value; invalid UTF-8 and lone \u surrogates are U+FFFD; of repeated keys the last
// wins.
func decodeMap(raw []byte, dst pcommon.Map) error {
	obj, err := recordValue(duoapi.Record{Raw: string(raw)})
	if err != nil {
		return err
	}
	dst.Clear()
	return putMap(dst, obj, 1)
}

func TestDecodeMap(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want map[string]any // nil: an error is expected
	}{
		{"empty object", ` { } `, map[string]any{}},
		{"whitespace everywhere", "\t{\r\n\"a\" :\n[ 1 , { } , [ ] ]\n}\n", map[string]any{"a": []any{int64(1), map[string]any{}, []any{}}}},
		{"literals", `{"t":true,"f":false,"n":null}`, map[string]any{"t": true, "f": false, "n": nil}},
		{"simple escapes", `{"s":"\"\\\/\b\f\n\r\t"}`, map[string]any{"s": "\"\\/\b\f\n\r\t"}},
		{"unicode escapes", `{"s":"\u00e9\u2603\u0000"}`, map[string]any{"s": "é☃\x00"}},
		{"surrogate pair", `{"s":"\ud83d\ude00"}`, map[string]any{"s": "😀"}},
		{"upper-case hex surrogates", `{"s":"\uD83D\uDE00"}`, map[string]any{"s": "😀"}},
		{"lone high surrogate", `{"s":"a\ud83db"}`, map[string]any{"s": "a\uFFFDb"}},
		{"lone low surrogate", `{"s":"\ude00"}`, map[string]any{"s": "\uFFFD"}},
		{"high then non-surrogate escape", `{"s":"\ud83d\u0041"}`, map[string]any{"s": "\uFFFDA"}},
		{"two high surrogates", `{"s":"\ud83d\ud83d\ude00"}`, map[string]any{"s": "\uFFFD😀"}},
		{"invalid UTF-8 replaced", "{\"s\":\"a\xffb\xc3\"}", map[string]any{"s": "a\uFFFDb\uFFFD"}},
		{"invalid UTF-8 in a key", "{\"k\xfe\":1}", map[string]any{"k\uFFFD": int64(1)}},
		{"raw multibyte UTF-8", `{"s":"日本語"}`, map[string]any{"s": "日本語"}},
		{"escape after UTF-8", `{"s":"é\n"}`, map[string]any{"s": "é\n"}},
		{"integers", `{"a":0,"b":-0,"c":9223372036854775807,"d":-9223372036854775808}`,
			map[string]any{"a": int64(0), "b": int64(0), "c": int64(9223372036854775807), "d": int64(-9223372036854775808)}},
		{"integers too big become doubles", `{"a":9223372036854775808,"b":-9223372036854775809}`,
			map[string]any{"a": 9223372036854775808.0, "b": -9223372036854775809.0}},
		{"doubles", `{"a":1.5,"b":-0.25,"c":1e2,"d":1E-2,"e":2.0,"f":1e+308}`,
			map[string]any{"a": 1.5, "b": -0.25, "c": 100.0, "d": 0.01, "e": 2.0, "f": 1e308}},
		{"repeated key: last wins", `{"a":1,"a":{"b":2}}`, map[string]any{"a": map[string]any{"b": int64(2)}}},
		{"depth 64 accepted", `{"a":` + strings.Repeat("[", 63) + strings.Repeat("]", 63) + `}`,
			map[string]any{"a": nest(62)}},
		{"depth 65 refused", `{"a":` + strings.Repeat("[", 64) + strings.Repeat("]", 64) + `}`, nil},
		{"number out of range", `{"a":1e400}`, nil},
		{"leading zero", `{"a":01}`, nil},
		{"bare minus", `{"a":-}`, nil},
		{"dot without digits", `{"a":1.}`, nil},
		{"exponent without digits", `{"a":1e+}`, nil},
		{"plus sign", `{"a":+1}`, nil},
		{"control character in string", "{\"a\":\"x\ny\"}", nil},
		{"bad escape", `{"a":"\x"}`, nil},
		{"short unicode escape", `{"a":"\u12"}`, nil},
		{"non-hex unicode escape", `{"a":"\u12zz"}`, nil},
		{"unterminated string", `{"a":"abc`, nil},
		{"unterminated escape", `{"a":"abc\`, nil},
		{"trailing comma in object", `{"a":1,}`, nil},
		{"trailing comma in array", `{"a":[1,]}`, nil},
		{"missing colon", `{"a" 1}`, nil},
		{"unquoted key", `{a:1}`, nil},
		{"single quotes", `{'a':1}`, nil},
		{"bad literal", `{"a":tru}`, nil},
		{"NaN", `{"a":NaN}`, nil},
		{"trailing data", `{"a":1}x`, nil},
		{"two objects", `{}{}`, nil},
		{"top-level array", `[]`, nil},
		{"top-level number", `1`, nil},
		{"empty input", ``, nil},
		{"whitespace only", "  \n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := pcommon.NewMap()
			err := decodeMap([]byte(tt.raw), m)
			naive := pcommon.NewMap()
			naiveErr := naiveBody([]byte(tt.raw), naive)
			if tt.want == nil {
				require.Error(t, err)
				if !errors.Is(err, errTooDeep) {
					require.Error(t, naiveErr, "encoding/json accepts what the decoder refuses")
				}
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, m.AsRaw())
			require.NoError(t, naiveErr)
			assert.True(t, naive.Equal(m), "differs from encoding/json's reading")
		})
	}
}

func nest(n int) []any {
	if n == 0 {
		return []any{}
	}
	return []any{nest(n - 1)}
}

// TestDecodeHugeString decodes a multi-megabyte string with and without escapes.
func TestDecodeHugeString(t *testing.T) {
	for _, unit := range []string{"abcdefgh", `a\"b\u00e9`} {
		big := strings.Repeat(unit, 1<<19)
		m := pcommon.NewMap()
		require.NoError(t, decodeMap([]byte(`{"big":"`+big+`"}`), m))
		want, err := strconv.Unquote(`"` + strings.ReplaceAll(big, `\u00e9`, "é") + `"`)
		require.NoError(t, err)
		v, _ := m.Get("big")
		require.Equal(t, len(want), len(v.Str()))
		require.Equal(t, want, v.Str())
	}
}

func TestLookupStrings(t *testing.T) {
	tests := []struct {
		in   string
		want map[string]string
		ok   bool
	}{
		{`{"a":"x","b":1,"c":{"d":"no"},"e":[1,"no"],"f":null,"g":"\u00e9"}`, map[string]string{"a": "x", "g": "é"}, true},
		{` {} `, map[string]string{}, true},
		{`free text`, map[string]string{}, false},
		{`{"a":"x"`, map[string]string{}, false},
		{`{"a":"x"} trailing`, map[string]string{}, false},
		{`["a"]`, map[string]string{}, false},
		{``, map[string]string{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := map[string]string{}
			ok := lookupStrings(tt.in, func(k, v string) { got[k] = v })
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.want, got)
		})
	}
}

// randJSON writes a random JSON object, including the forms encoding/json treats with
// care: escapes of every kind, lone and paired surrogates, raw invalid UTF-8, numbers
// at the int64 edges, exponents, repeated keys, odd whitespace.
type randJSON struct {
	r *rand.Rand
	b []byte
}

func (g *randJSON) ws() {
	if g.r.IntN(4) == 0 {
		g.b = append(g.b, " \t\n\r"[g.r.IntN(4)])
	}
}

func (g *randJSON) str() {
	g.b = append(g.b, '"')
	for range g.r.IntN(12) {
		switch g.r.IntN(12) {
		case 0:
			g.b = append(g.b, []string{`\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`}[g.r.IntN(8)]...)
		case 1:
			g.b = append(g.b, `\u`...)
			g.b = append(g.b, []string{"0000", "001f", "00e9", "2603", "D83D", "dE00", "ffff", "FEFF"}[g.r.IntN(8)]...)
		case 2:
			g.b = append(g.b, `\ud83d\ude00`...)
		case 3:
			g.b = append(g.b, []string{"\xff", "\xc3", "\xe2\x82", "\xed\xa0\x80", "\xf4\x90\x80\x80"}[g.r.IntN(5)]...)
		case 4:
			g.b = append(g.b, []string{"é", "日本", "😀", "\u2028", "\x7f"}[g.r.IntN(5)]...)
		default:
			g.b = append(g.b, byte('a'+g.r.IntN(26)))
		}
	}
	g.b = append(g.b, '"')
}

func (g *randJSON) number() {
	switch g.r.IntN(6) {
	case 0:
		g.b = strconv.AppendInt(g.b, g.r.Int64()-g.r.Int64(), 10)
	case 1:
		g.b = append(g.b, []string{"0", "-0", "9223372036854775807", "-9223372036854775808",
			"9223372036854775808", "-9223372036854775809", "18446744073709551615", "123456789012345678901234567890"}[g.r.IntN(8)]...)
	case 2:
		g.b = strconv.AppendFloat(g.b, g.r.NormFloat64()*1e6, 'f', -1, 64)
	case 3:
		g.b = strconv.AppendFloat(g.b, g.r.ExpFloat64(), 'e', -1, 64)
	case 4:
		g.b = append(g.b, []string{"1E5", "1e-5", "-2.50", "0.0", "1e308", "4.9e-324", "1e-400"}[g.r.IntN(7)]...)
	default:
		g.b = strconv.AppendInt(g.b, int64(g.r.IntN(2000)), 10)
	}
}

func (g *randJSON) value(depth int) {
	g.ws()
	k := g.r.IntN(10)
	if depth >= 6 && k >= 7 {
		k = 0
	}
	switch k {
	case 0, 1:
		g.str()
	case 2, 3:
		g.number()
	case 4:
		g.b = append(g.b, []string{"true", "false", "null"}[g.r.IntN(3)]...)
	case 5, 6:
		g.b = append(g.b, []string{"null", `""`, `"unknown"`}[g.r.IntN(3)]...)
	case 7, 8:
		g.object(depth + 1)
	default:
		g.b = append(g.b, '[')
		n := g.r.IntN(4)
		for i := range n {
			if i > 0 {
				g.b = append(g.b, ',')
			}
			g.value(depth + 1)
		}
		g.ws()
		g.b = append(g.b, ']')
	}
	g.ws()
}

func (g *randJSON) object(depth int) {
	g.b = append(g.b, '{')
	n := g.r.IntN(6)
	for i := range n {
		if i > 0 {
			g.b = append(g.b, ',')
		}
		g.ws()
		if g.r.IntN(5) == 0 {
			g.b = append(g.b, `"dup"`...)
		} else {
			g.str()
		}
		g.ws()
		g.b = append(g.b, ':')
		g.value(depth)
	}
	g.ws()
	g.b = append(g.b, '}')
}

// TestFastMatchesNaiveRandom compares the decoder with encoding/json on thousands of
// generated objects: same verdict (the decoder may only refuse what nests too deep) and,
// when both accept, equal maps; and the decoded body encodes back to itself.
func TestFastMatchesNaiveRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 2026))
	accepted := 0
	for i := range 5000 {
		g := randJSON{r: r}
		g.object(1)
		raw := g.b
		fast, naive := pcommon.NewMap(), pcommon.NewMap()
		fastErr := decodeMap(raw, fast)
		naiveErr := naiveBody(raw, naive)
		require.Equal(t, naiveErr == nil, fastErr == nil, "case %d: %q: fast %v, naive %v", i, raw, fastErr, naiveErr)
		if fastErr != nil {
			continue
		}
		accepted++
		require.True(t, naive.Equal(fast), "case %d: %q", i, raw)
		again := pcommon.NewMap()
		require.NoError(t, decodeMap(encodeMap(fast), again))
		require.True(t, again.Equal(fast), "case %d: round trip of %q", i, raw)
	}
	// Only numbers out of float64 range (1e-400 is fine, it rounds to 0) make a case fail;
	// most must be accepted or the comparison proves little.
	require.Greater(t, accepted, 4000)
}

// FuzzAppend: Append never panics; it accepts exactly the JSON objects encoding/json
// accepts, with an equal body (or, nested deeper than MaxDepth, the JSON text as the
// body); the body encodes back to JSON that decodes to the same body; on error nothing
// is appended.
func FuzzAppend(f *testing.F) {
	for _, lt := range logTypes {
		for _, r := range pageRecords(f, lt) {
			f.Add(string(lt), []byte(r.Raw))
		}
	}
	for _, s := range []string{`{}`, `{"a":"\ud83d"}`, "{\"a\":\"\xff\"}", `{"a":1e400}`, `[1]`, `{"a":[[[[]]]]}`, `{"a":-0.0e-0}`} {
		f.Add(string(logAuthentication), []byte(s))
	}
	now := time.Unix(1698250065, 0)
	f.Fuzz(func(t *testing.T, name string, raw []byte) {
		lt := duoapi.LogType(name)
		if _, ok := types[lt]; !ok {
			lt = logTypes[len(name)%len(logTypes)]
		}
		_, lrs := NewLogs(testResource)
		rawBody, err := Append(lrs, lt, duoapi.Record{Raw: string(raw), Time: now}, now)
		naive := pcommon.NewMap()
		naiveErr := naiveBody(raw, naive)
		if err != nil {
			require.Equal(t, 0, lrs.Len())
			require.Error(t, naiveErr, "valid JSON object refused: %v", err)
			return
		}
		require.Equal(t, 1, lrs.Len())
		if rawBody {
			// Too deep for a structured body: delivered as the JSON text, which is valid.
			require.True(t, json.Valid(raw), "a raw body that is not JSON")
			require.Equal(t, string(raw), lrs.At(0).Body().Str())
			return
		}
		require.NoError(t, naiveErr, "decoder accepted what encoding/json refuses")
		body := lrs.At(0).Body().Map()
		require.True(t, naive.Equal(body))
		again := pcommon.NewMap()
		enc := encodeMap(body)
		require.True(t, json.Valid(enc))
		require.NoError(t, decodeMap(enc, again))
		require.True(t, again.Equal(body))
	})
}
