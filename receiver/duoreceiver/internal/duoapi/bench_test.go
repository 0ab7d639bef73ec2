// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoapi

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// fullPage builds a page of n records of lt from the first record of a testdata page,
// each made distinct.
func fullPage(b *testing.B, lt LogType, file string, n int) []byte {
	b.Helper()
	pd, err := decodePage(endpointOf(lt), readTestdata(b, file))
	if err != nil || len(pd.records) == 0 {
		b.Fatalf("seed page: %v", err)
	}
	tmpl := pd.records[0].Raw
	var buf bytes.Buffer
	if lt.V1() {
		buf.WriteString(`{"stat":"OK","response":[`)
	} else {
		fmt.Fprintf(&buf, `{"stat":"OK","response":{%q:[`, endpointOf(lt).ListKey)
	}
	for i := range n {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString(strings.Replace(tmpl, pd.records[0].ID, fmt.Sprintf("id-%06d", i), 1))
		if lt.V1() {
			buf.Truncate(buf.Len() - 1)
			fmt.Fprintf(&buf, `,"n":%d}`, i)
		}
	}
	if lt.V1() {
		buf.WriteString(`]}`)
	} else {
		buf.WriteString(`],"metadata":{"next_offset":["1795168801500","x"],"total_objects":5000}}}`)
	}
	return buf.Bytes()
}

func BenchmarkDecodePage(b *testing.B) {
	for _, tc := range []struct {
		lt   LogType
		file string
		n    int
	}{
		{Authentication, "authentication_page.json", 1000},
		{Telephony, "telephony_page.json", 1000},
		{Activity, "activity_page.json", 1000},
		{Administrator, "administrator_page.json", 1000},
		{TrustMonitor, "trust_monitor_page.json", 500},
	} {
		b.Run(string(tc.lt), func(b *testing.B) {
			body := fullPage(b, tc.lt, tc.file, tc.n)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				pd, err := decodePage(endpointOf(tc.lt), body)
				if err != nil || len(pd.records) != tc.n {
					b.Fatalf("decode: %v, %d records", err, len(pd.records))
				}
			}
		})
	}
}
