// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package mapping

import (
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/golden"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/plogtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/duoapi"
)

// TestGoldenJSON maps every record of each testdata page with AppendJSON and compares the
// whole Logs with testdata/golden/json/<type>.yaml. Regenerate with -update.
func TestGoldenJSON(t *testing.T) {
	for _, lt := range logTypes {
		t.Run(string(lt), func(t *testing.T) {
			ld, lrs := NewLogs(testResource)
			recs := pageRecords(t, lt)
			for _, r := range recs {
				require.NoError(t, AppendJSON(lrs, lt, duoapi.Record{Raw: r.Raw, Time: r.Time}, testObserved))
			}
			path := filepath.Join("..", "..", "testdata", "golden", "json", string(lt)+".yaml")
			if *update {
				require.NoError(t, golden.WriteLogsToFile(path, ld))
			}
			want, err := golden.ReadLogs(path)
			require.NoError(t, err)
			require.NoError(t, plogtest.CompareLogs(want, ld))
		})
	}
}

// TestJSONMatchesMap: for every fixture record, a JSON body gets exactly what a map body
// gets (timestamps, EventName, severity, uid and every attribute), and the body is the
// record's own text.
func TestJSONMatchesMap(t *testing.T) {
	et := time.Date(2023, 10, 25, 16, 7, 45, 0, time.UTC)
	for _, lt := range logTypes {
		t.Run(string(lt), func(t *testing.T) {
			recs := pageRecords(t, lt)
			for i, r := range recs {
				rec := duoapi.Record{Raw: r.Raw, Time: r.Time, ID: "id-" + string(rune('a'+i%26))}
				if i%3 == 0 {
					rec.Time = time.Time{} // the observed-time fallback as well
				}
				if i%5 == 0 {
					rec.Time = et
				}
				assertSameButBody(t, lt, rec, true)
			}
		})
	}
}

// assertSameButBody maps rec both ways and compares all but the body; the JSON body must
// be the record's text (the object, without the whitespace around it) when wantText.
func assertSameButBody(t *testing.T, lt duoapi.LogType, rec duoapi.Record, wantText bool) {
	t.Helper()
	_, asMap := NewLogs(testResource)
	rawBody, err := Append(asMap, lt, rec, testObserved)
	require.NoError(t, err)
	require.False(t, rawBody)
	_, asJSON := NewLogs(testResource)
	require.NoError(t, AppendJSON(asJSON, lt, rec, testObserved))
	require.Equal(t, 1, asMap.Len())
	require.Equal(t, 1, asJSON.Len())
	m, j := asMap.At(0), asJSON.At(0)
	if wantText {
		assert.Equal(t, strings.TrimSpace(rec.Raw), j.Body().Str(), "%s", rec.Raw)
	}
	assert.Equal(t, m.Timestamp(), j.Timestamp())
	assert.Equal(t, m.ObservedTimestamp(), j.ObservedTimestamp())
	assert.Equal(t, m.EventName(), j.EventName())
	assert.Equal(t, m.SeverityNumber(), j.SeverityNumber(), "%s", rec.Raw)
	assert.Equal(t, m.SeverityText(), j.SeverityText(), "%s", rec.Raw)
	assert.Equal(t, m.Attributes().AsRaw(), j.Attributes().AsRaw(), "%s", rec.Raw)
}

// TestAppendJSONEdges: the records where a lookup over the text could differ from a map:
// repeated names (the last wins), escapes, bytes that are not UTF-8, values of the wrong
// type, numbers that are no int64, empty containers, and nesting deeper than a map body
// may hold.
func TestAppendJSONEdges(t *testing.T) {
	tests := []struct {
		name string
		lt   duoapi.LogType
		raw  string
		// wantBody is the body when it is not the text itself.
		wantBody string
	}{
		{name: "repeated names", lt: logAuthentication, raw: `{"result":"FRAUD","user":{"name":"a"},"result":"success","user":{"key":"K"}}`},
		{name: "repeated object then string", lt: logAuthentication, raw: `{"access_device":{"ip":"1.2.3.4"},"access_device":"x"}`},
		{name: "escapes", lt: logAuthentication, raw: `{"result":"d\u0065nied","user":{"name":"a\"b\\c\u00e9"},"txid":"\ud83d\ude00"}`},
		{name: "escaped names", lt: logAuthentication, raw: `{"res\u0075lt":"fraud","us\u0065r":{"n\u0061me":"x"}}`},
		{name: "lone surrogate", lt: logAuthentication, raw: `{"txid":"\ud83d","reason":"x\udc00"}`},
		{name: "not UTF-8", lt: logAuthentication, raw: "{\"txid\":\"a\xff\xfeb\",\"result\":\"success\"}", wantBody: "{\"txid\":\"a\uFFFD\uFFFDb\",\"result\":\"success\"}"},
		{name: "unknown and empty", lt: logAuthentication, raw: `{"result":"unknown","reason":"","factor":"UNKNOWN","email":null}`},
		{name: "wrong types", lt: logAuthentication, raw: `{"result":1,"user":"u","access_device":[],"auth_device":{"location":"x"},"user2":{}}`},
		{name: "groups", lt: logAuthentication, raw: `{"user":{"groups":["a","",1,"unknown",{"x":1},"b",null]}}`},
		{name: "empty groups", lt: logAuthentication, raw: `{"user":{"groups":["",null]}}`},
		{name: "ip forms", lt: logActivity, raw: `{"access_device":{"ip":{"address":"[2001:db8::1]:443"}},"outcome":{"result":"FAILURE"}}`},
		{name: "outcome string", lt: logActivity, raw: `{"outcome":"failure","action":{"name":"x"},"actor":{"type":"user","name":"n","details":"{\"email\":\"e@x\"}"}}`},
		{name: "credits int", lt: logTelephony, raw: `{"credits":3,"type":"sms"}`},
		{name: "credits double", lt: logTelephony, raw: `{"credits":3.0}`},
		{name: "credits huge", lt: logTelephony, raw: `{"credits":92233720368547758070}`},
		{name: "credits exponent", lt: logTelephony, raw: `{"credits":3e2}`},
		{name: "admin description", lt: logAdministrator, raw: `{"action":"admin_login_error","description":"{\"ip_address\":\"1.2.3.4:80\",\"error\":\"bad\"}"}`},
		{name: "trust monitor", lt: logTrustMonitor, raw: `{"priority_event":true,"explanations":[{"type":"A"},"s",{"type":""},{"type":"B"}],"surfaced_auth":{"result":"fraud","user":{"name":"u"}}}`},
		{name: "trust monitor false", lt: logTrustMonitor, raw: `{"priority_event":false,"explanations":[]}`},
		{name: "offline", lt: logOfflineEnrollment, raw: ` {"description":"{\"user_agent\":\"ua\",\"hostname\":\"h\",\"factor\":\"f\"}","object":"o"} `},
		{name: "deep unrelated member", lt: logAuthentication, raw: `{"result":"denied","x":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := duoapi.Record{Raw: tt.raw, ID: "X1"}
			assertSameButBody(t, tt.lt, rec, tt.wantBody == "")
			if tt.wantBody != "" {
				_, lrs := NewLogs(testResource)
				require.NoError(t, AppendJSON(lrs, tt.lt, rec, testObserved))
				assert.Equal(t, tt.wantBody, lrs.At(0).Body().Str())
			}
		})
	}
}

// TestAppendJSONDeep: a record nested deeper than a map body may hold keeps its text and
// its attributes (a map body falls back to the text and has none to read them from).
func TestAppendJSONDeep(t *testing.T) {
	raw := `{"result":"fraud","user":{"name":"u"},"a":` + strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth) + `}`
	_, lrs := NewLogs(testResource)
	require.NoError(t, AppendJSON(lrs, logAuthentication, duoapi.Record{Raw: raw}, testObserved))
	lr := lrs.At(0)
	assert.Equal(t, raw, lr.Body().Str())
	assert.Equal(t, plog.SeverityNumberError, lr.SeverityNumber())
	assert.Equal(t, map[string]any{"duo.result": "fraud", "user.name": "u"}, lr.Attributes().AsRaw())
}

// TestAppendJSONRefuses: what is not one well-formed JSON object is refused, as Append
// refuses it, and nothing is appended.
func TestAppendJSONRefuses(t *testing.T) {
	for _, raw := range []string{``, `[1]`, `"s"`, `{"a":}`, `{"a":1}{}`, `{"a":1`, `{"a" 1}`, `{"a":[1,]}`} {
		t.Run(raw, func(t *testing.T) {
			_, lrs := NewLogs(testResource)
			require.Error(t, AppendJSON(lrs, logAuthentication, duoapi.Record{Raw: raw}, testObserved))
			assert.Equal(t, 0, lrs.Len())
			_, err := Append(lrs, logAuthentication, duoapi.Record{Raw: raw}, testObserved)
			require.Error(t, err)
		})
	}
	_, lrs := NewLogs(testResource)
	require.Error(t, AppendJSON(lrs, "nope", duoapi.Record{Raw: `{}`}, testObserved))
}

// TestJSONMatchesMapRandom: on generated objects that a map body accepts, the two modes
// agree on everything but the body, for every log type.
func TestJSONMatchesMapRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 2026))
	for i := range 3000 {
		g := randJSON{r: r}
		g.object(1)
		rec := duoapi.Record{Raw: string(g.b), ID: "R"}
		lt := logTypes[i%len(logTypes)]
		_, lrs := NewLogs(testResource)
		if raw, err := Append(lrs, lt, rec, testObserved); err != nil || raw {
			continue
		}
		// Text that is not UTF-8 is repaired in the JSON body.
		assertSameButBody(t, lt, rec, utf8.ValidString(rec.Raw))
	}
}
