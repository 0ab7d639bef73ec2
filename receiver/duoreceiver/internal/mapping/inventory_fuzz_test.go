// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package mapping

import (
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/duoapi"
)

// FuzzInventoryObject feeds arbitrary objects to the posture counters and the entity
// mapping of every resource: neither may panic, a failed AppendEntity appends nothing,
// and no delivered body keeps a secret_key member.
func FuzzInventoryObject(f *testing.F) {
	for _, r := range duoapi.Resources {
		for _, o := range inventoryObjects(f, r) {
			f.Add(string(r), o.Raw)
		}
	}
	f.Add(string(duoapi.Integrations), `{"integration_key":"DI1","secret_key":"s","secret_key":"t"}`)
	f.Add(string(duoapi.Users), `{"user_id":"DU1","last_login":"1e400","phones":[{"phone_id":null}],"tokens":{}}`)
	f.Fuzz(func(t *testing.T, resource, raw string) {
		r := duoapi.Resource(resource)
		p := NewPosture(time.Unix(1_800_000_000, 0), time.Hour)
		_ = p.Add(r, raw)
		p.Read(r)
		mb := newMB()
		p.Record(mb, pcommon.Timestamp(1))
		_ = EmitMetrics(mb, testResource)

		lrs := plog.NewLogRecordSlice()
		err := AppendEntity(lrs, r, duoapi.Record{ID: "X", Raw: raw}, testSnapshot, testObserved)
		if err != nil {
			if lrs.Len() != 0 {
				t.Fatalf("error %v but %d records appended", err, lrs.Len())
			}
			return
		}
		if lrs.Len() != 1 {
			t.Fatalf("%d records for one object", lrs.Len())
		}
		if _, ok := lrs.At(0).Body().Map().Get("secret_key"); ok {
			t.Fatalf("secret_key kept in the body of %s", r)
		}
		for k, v := range lrs.At(0).Attributes().All() {
			if strings.Contains(k, "secret") || strings.Contains(v.AsString(), `"secret_key"`) {
				t.Fatalf("attribute %s=%s carries a secret", k, v.AsString())
			}
		}
	})
}
