// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func TestDecodeTestdataPages(t *testing.T) {
	tests := []struct {
		file      string
		lt        LogType
		wantIDs   []string // v1: only the occurrence suffix is checked
		wantTimes []time.Time
		wantNext  string
	}{
		{"authentication_page.json", Authentication,
			[]string{"340a23e3-23f3-4c1b-8d4f-8e8a2ea5d4a1", "5bea1c1e-612e-4a5b-9e5b-4e8a76d2fbc0"},
			[]time.Time{utc("2026-11-20T10:00:00.123456Z"), utc("2026-11-20T10:00:01.5Z")},
			"1795168801500,5bea1c1e-612e-4a5b-9e5b-4e8a76d2fbc0"},
		{"authentication_last.json", Authentication, nil, nil, ""},
		{"telephony_page.json", Telephony,
			[]string{"60799fee-f08f-4ba8-971f-4e53b3473e9a", "9a1e3c4d-0b1a-4a8e-9a55-3f1f2b8f4c11"},
			[]time.Time{utc("2026-11-20T10:00:02.57358Z"), utc("2026-11-20T10:00:03.000001Z")},
			"1795168803000,9a1e3c4d-0b1a-4a8e-9a55-3f1f2b8f4c11"},
		{"activity_page.json", Activity,
			[]string{"b2a4f1e2-3c4d-4e5f-8a9b-0c1d2e3f4a5b", "c3b5a2f3-4d5e-4f6a-9b0c-1d2e3f4a5b6c"},
			[]time.Time{utc("2026-11-20T10:00:04.4Z"), utc("2026-11-20T10:00:05.000005Z")},
			"1795168805000,c3b5a2f3-4d5e-4f6a-9b0c-1d2e3f4a5b6c"},
		{"trust_monitor_page.json", TrustMonitor,
			[]string{"SEDOR9BP00L23C6YUH5", "SEAAAAAAAAAAAAAAAAA1"},
			[]time.Time{time.UnixMilli(1795168811123).UTC(), time.UnixMilli(1795168812000).UTC()},
			"2"},
		{"administrator_page.json", Administrator,
			[]string{"#0", "#0", "#1", "#0"},
			[]time.Time{utc("2026-11-20T10:00:00Z"), utc("2026-11-20T10:00:00Z"), utc("2026-11-20T10:00:00Z"), utc("2026-11-20T10:00:07Z")},
			""},
		{"offline_enrollment_page.json", OfflineEnrollment,
			[]string{"#0", "#0"},
			// The second row has no timestamp: isotimestamp is the fallback.
			[]time.Time{utc("2026-11-20T10:00:09Z"), utc("2026-11-20T10:00:10Z")},
			""},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			body := readTestdata(t, tt.file)
			pd, err := decodePage(endpointOf(tt.lt), body)
			require.NoError(t, err)
			require.Len(t, pd.records, len(tt.wantIDs))
			assert.Equal(t, tt.wantNext, pd.next)
			for i, r := range pd.records {
				if tt.lt.V1() {
					assert.True(t, strings.HasSuffix(r.ID, tt.wantIDs[i]), "id %s", r.ID)
					assert.Len(t, r.ID, 32+len(tt.wantIDs[i]))
				} else {
					assert.Equal(t, tt.wantIDs[i], r.ID)
				}
				assert.True(t, tt.wantTimes[i].Equal(r.Time), "time %d: %s, want %s", i, r.Time, tt.wantTimes[i])
				assert.Equal(t, time.UTC, r.Time.Location())
				var m map[string]any
				require.NoError(t, json.Unmarshal([]byte(r.Raw), &m), "Raw is the record's JSON object")
				assert.Contains(t, string(body), r.Raw, "Raw is the record's text as it appears in the body")
			}
			if tt.lt == Administrator {
				// The two identical rows share a hash and differ in occurrence.
				assert.Equal(t, pd.records[1].ID[:32], pd.records[2].ID[:32])
				assert.NotEqual(t, pd.records[0].ID[:32], pd.records[1].ID[:32])
			}
		})
	}
}

func TestDecodeLenient(t *testing.T) {
	tests := []struct {
		name     string
		lt       LogType
		body     string
		wantIDs  []string
		wantTime []time.Time
		wantNext string
		skipped  int
		wantErr  bool
	}{
		{"escaped member names", Authentication,
			`{"stat":"OK","response":{"authlogs":[{"\u0074xid":"a\"b","isotimestamp":"2026-11-20T10:00:00.000001+00:00"}],"metadata":{"next\u005foffset":["1","x"]}}}`,
			[]string{`a"b`}, []time.Time{utc("2026-11-20T10:00:00.000001Z")}, "1,x", 0, false},
		{"timestamp fallback and as a string", Authentication,
			`{"stat":"OK","response":{"authlogs":[{"txid":"a","timestamp":1795168800,"isotimestamp":"garbage"},{"txid":"b","timestamp":"1795168801"}]}}`,
			[]string{"a", "b"}, []time.Time{utc("2026-11-20T10:00:00Z"), utc("2026-11-20T10:00:01Z")}, "", 0, false},
		{"no time at all", Telephony,
			`{"stat":"OK","response":{"items":[{"telephony_id":"a"}],"metadata":{}}}`,
			[]string{"a"}, []time.Time{{}}, "", 0, false},
		{"ts without zone", Activity,
			`{"stat":"OK","response":{"items":[{"activity_id":"a","ts":"2026-11-20T10:00:00.25"}]}}`,
			[]string{"a"}, []time.Time{utc("2026-11-20T10:00:00.25Z")}, "", 0, false},
		{"non-objects skipped", Telephony,
			`{"stat":"OK","response":{"items":[null,{"telephony_id":"a","ts":"2026-11-20T10:00:00Z"},3,"x",[]]}}`,
			[]string{"a"}, []time.Time{utc("2026-11-20T10:00:00Z")}, "", 4, false},
		{"trust monitor offset as a string, float time", TrustMonitor,
			`{"stat":"OK","response":{"events":[{"sekey":"S","surfaced_timestamp":1795168800000.5}],"metadata":{"next_offset":"99999"}}}`,
			[]string{"S"}, []time.Time{time.UnixMicro(1795168800000500).UTC()}, "99999", 0, false},
		{"next_offset in top-level metadata", Activity,
			`{"stat":"OK","response":{"items":[]},"metadata":{"next_offset":"5,z"}}`,
			nil, nil, "5,z", 0, false},
		{"next_offset empty array", Authentication,
			`{"stat":"OK","response":{"authlogs":[],"metadata":{"next_offset":[]}}}`,
			nil, nil, "", 0, false},
		{"next_offset object ignored", Authentication,
			`{"stat":"OK","response":{"authlogs":[],"metadata":{"next_offset":{"a":1}}}}`,
			nil, nil, "", 0, false},
		{"response null", Administrator, `{"stat":"OK","response":null}`, nil, nil, "", 0, false},
		{"list null", Authentication, `{"stat":"OK","response":{"authlogs":null}}`, nil, nil, "", 0, false},
		{"no stat", Administrator, `{"response":[]}`, nil, nil, "", 0, false},
		{"id as a number", TrustMonitor, `{"stat":"OK","response":{"events":[{"sekey":12}]}}`, []string{"12"}, []time.Time{{}}, "", 0, false},
		{"truncated", Authentication, `{"stat":"OK","response":{"authlogs":[`, nil, nil, "", 0, true},
		{"not an object", Authentication, `[1,2]`, nil, nil, "", 0, true},
		{"response a string", Authentication, `{"stat":"OK","response":"x"}`, nil, nil, "", 0, true},
		{"list an object", Authentication, `{"stat":"OK","response":{"authlogs":{}}}`, nil, nil, "", 0, true},
		{"stat FAIL", Authentication, `{"stat":"FAIL","code":40002,"message":"m"}`, nil, nil, "", 0, true},
		{"empty body", Authentication, ``, nil, nil, "", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pd, err := decodePage(endpointOf(tt.lt), []byte(tt.body))
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantNext, pd.next)
			assert.Equal(t, tt.skipped, pd.skipped)
			require.Len(t, pd.records, len(tt.wantIDs))
			for i, r := range pd.records {
				assert.Equal(t, tt.wantIDs[i], r.ID)
				assert.True(t, tt.wantTime[i].Equal(r.Time), "time %s, want %s", r.Time, tt.wantTime[i])
			}
		})
	}
}

// v1Page decodes rows as an administrator page and returns their ids.
func v1Page(t *testing.T, rows ...string) []string {
	t.Helper()
	pd, err := decodePage(endpointOf(Administrator), []byte(`{"stat":"OK","response":[`+strings.Join(rows, ",")+`]}`))
	require.NoError(t, err)
	ids := make([]string, len(pd.records))
	for i, r := range pd.records {
		ids[i] = r.ID
	}
	return ids
}

// contentHash is the hash part a v1 id must carry: SHA-256 of the record as
// encoding/json compacts it, first 16 bytes in hex.
func contentHash(t testing.TB, raw []byte) string {
	var buf bytes.Buffer
	require.NoError(t, json.Compact(&buf, raw))
	sum := sha256.Sum256(buf.Bytes())
	return hex.EncodeToString(sum[:16])
}

func TestV1IDs(t *testing.T) {
	const (
		a      = `{"timestamp": 1795168800, "a": 1, "b": "x  y", "n": { "m" : [1, 2] }}`
		aTwin  = `{"timestamp":1795168800,"a":1,"b":"x  y","n":{"m":[1,2]}}` // other whitespace
		b      = `{"timestamp": 1795168800, "a": 2, "b": "x  y", "n": { "m" : [1, 2] }}`
		aLater = `{"timestamp": 1795168801, "a": 1}`
	)
	ids := v1Page(t, a, aTwin, aLater, b, a, aLater)
	for i, raw := range []string{a, aTwin, aLater, b, a, aLater} {
		assert.Equal(t, contentHash(t, []byte(raw)), ids[i][:32], "row %d: the hash of the compacted record", i)
	}
	assert.Equal(t, ids[0][:32], ids[1][:32], "whitespace between tokens is ignored")
	assert.NotEqual(t, ids[0][:32], ids[3][:32])
	for i, suffix := range []string{"#0", "#1", "#0", "#0", "#2", "#1"} {
		assert.True(t, strings.HasSuffix(ids[i], suffix), "row %d: %s, want suffix %s", i, ids[i], suffix)
	}
	// A fresh page numbers the same rows the same way.
	assert.Equal(t, ids[:2], v1Page(t, a, aTwin))
}

func TestDecodeSummary(t *testing.T) {
	got, err := decodeSummary("/admin/v1/info/summary", readTestdata(t, "summary.json"))
	require.NoError(t, err)
	assert.Equal(t, map[string]int64{
		"admin_count": 3, "integration_count": 9, "telephony_credits_remaining": 960, "user_count": 8,
		"user_pending_deletion_count": 2,
	}, got)
	_, err = decodeSummary("/p", readTestdata(t, "error_401.json"))
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 40103, apiErr.Code)
	_, err = decodeSummary("/p", []byte(`{"stat":"OK","response":[]}`))
	require.Error(t, err)
}

func TestParseErrorBody(t *testing.T) {
	e := parseErrorBody(400, "/p", readTestdata(t, "error_400_string_code.json"))
	assert.Equal(t, APIError{Status: 400, Code: 40002, Message: "Invalid request parameters", Detail: "mintime must be within the past 180 days", Path: "/p"}, *e)
	e = parseErrorBody(502, "/p", []byte("<html>"))
	assert.Equal(t, APIError{Status: 502, Message: "Bad Gateway", Path: "/p"}, *e)
}

// --- fuzz tests: every page decoder, seeded from testdata ---

func fuzzPage(f *testing.F, lt LogType, seeds ...string) {
	for _, s := range seeds {
		f.Add(readTestdata(f, s))
	}
	f.Add([]byte(`{"stat":"OK","response":[{"timestamp":1},{"timestamp":1}]}`))
	f.Add([]byte(`{"stat":"OK","response":{"items":[{}],"metadata":{"next_offset":[1,"a",null]}}}`))
	f.Add([]byte(`{"stat":"FAIL","code":"42901","message":"Too Many Requests"}`))
	f.Add([]byte(`{"stat":"OK","response":{"authlogs":[{"txid":"\ud800","isotimestamp":"2026-13-40T99:00:00Z","timestamp":1e400}]}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		orig := bytes.Clone(body)
		pd, err := decodePage(endpointOf(lt), body)
		assert.Equal(t, orig, body, "the body is not modified")
		if !json.Valid(body) {
			require.Error(t, err, "a body json.Valid refuses is refused")
		}
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, r := range pd.records {
			require.True(t, json.Valid([]byte(r.Raw)), "Raw %q is valid JSON", r.Raw)
			require.Equal(t, byte('{'), r.Raw[0])
			require.True(t, strings.Contains(string(body), r.Raw))
			if lt.V1() {
				// The id hashes the record as encoding/json compacts it: only
				// whitespace between tokens is ignored.
				require.Equal(t, contentHash(t, []byte(r.Raw)), r.ID[:32])
				require.False(t, seen[r.ID], "v1 id %s twice in a page", r.ID)
				seen[r.ID] = true
			}
			if !r.Time.IsZero() {
				require.Equal(t, time.UTC, r.Time.Location())
			}
		}
		// What the client would send back never breaks the request it goes into.
		_ = canonParams(map[string][]string{"next_offset": {pd.next}})
	})
}

func FuzzDecodeAuthentication(f *testing.F) {
	fuzzPage(f, Authentication, "authentication_page.json", "authentication_last.json")
}

func FuzzDecodeAdministrator(f *testing.F) {
	fuzzPage(f, Administrator, "administrator_page.json")
}

func FuzzDecodeTelephony(f *testing.F) {
	fuzzPage(f, Telephony, "telephony_page.json")
}

func FuzzDecodeActivity(f *testing.F) {
	fuzzPage(f, Activity, "activity_page.json")
}

func FuzzDecodeOfflineEnrollment(f *testing.F) {
	fuzzPage(f, OfflineEnrollment, "offline_enrollment_page.json")
}

func FuzzDecodeTrustMonitor(f *testing.F) {
	fuzzPage(f, TrustMonitor, "trust_monitor_page.json")
}

func FuzzDecodeSummary(f *testing.F) {
	f.Add(readTestdata(f, "summary.json"))
	f.Add(readTestdata(f, "error_401.json"))
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := decodeSummary("/admin/v1/info/summary", body)
		if err == nil {
			require.NotNil(t, m)
		}
	})
}

func FuzzDecodeError(f *testing.F) {
	f.Add(400, readTestdata(f, "error_400_string_code.json"))
	f.Add(401, readTestdata(f, "error_401.json"))
	f.Add(502, []byte("<html>"))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		e := parseErrorBody(status, "/p", body)
		require.NotEmpty(t, e.Error())
		require.Equal(t, status, e.Status)
	})
}
