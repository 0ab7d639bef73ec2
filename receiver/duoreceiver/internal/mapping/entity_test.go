// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package mapping

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/golden"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/plogtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/duoapi"
)

var testSnapshot = Snapshot{ID: "snap-0001", Time: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC), Interval: time.Hour}

// inventoryObjects reads testdata/inventory/<r>.json (objects as the simulator serves
// them: an array for a list, the object for a single one) and returns them with their id.
func inventoryObjects(tb testing.TB, r duoapi.Resource) []duoapi.Record {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "inventory", string(r)+".json"))
	require.NoError(tb, err)
	if !r.Paged() {
		return []duoapi.Record{{Raw: strings.TrimSpace(string(data))}}
	}
	var raws []json.RawMessage
	require.NoError(tb, json.Unmarshal(data, &raws))
	ep, _ := r.Endpoint()
	out := make([]duoapi.Record, 0, len(raws))
	for _, raw := range raws {
		var m map[string]any
		require.NoError(tb, json.Unmarshal(raw, &m))
		id, _ := m[ep.IDKey].(string)
		out = append(out, duoapi.Record{Raw: string(raw), ID: id})
	}
	require.NotEmpty(tb, out)
	return out
}

// TestEntityGolden maps every object of each resource's testdata and compares the Logs
// with testdata/golden/inventory/<resource>.yaml. Regenerate with -update.
func TestEntityGolden(t *testing.T) {
	for _, r := range duoapi.Resources {
		if !HasEntity(r) {
			continue
		}
		t.Run(string(r), func(t *testing.T) {
			ld, lrs := NewLogs(testResource)
			objs := inventoryObjects(t, r)
			for _, o := range objs {
				require.NoError(t, AppendEntity(lrs, r, o, testSnapshot, testObserved))
			}
			require.Equal(t, len(objs), lrs.Len())
			path := filepath.Join("..", "..", "testdata", "golden", "inventory", string(r)+".yaml")
			if *update {
				require.NoError(t, golden.WriteLogsToFile(path, ld))
			}
			want, err := golden.ReadLogs(path)
			require.NoError(t, err)
			require.NoError(t, plogtest.CompareLogs(want, ld))
			for i := range lrs.Len() {
				lr := lrs.At(i)
				assert.Equal(t, entities[r].eventName, lr.EventName())
				v, ok := lr.Attributes().Get(AttrSnapshotID)
				require.True(t, ok)
				assert.Equal(t, testSnapshot.ID, v.Str())
			}
		})
	}
}

func TestEntityHasNoSecrets(t *testing.T) {
	for _, r := range duoapi.Resources {
		if !HasEntity(r) {
			continue
		}
		ld, lrs := NewLogs(testResource)
		for _, o := range inventoryObjects(t, r) {
			require.NoError(t, AppendEntity(lrs, r, o, testSnapshot, testObserved))
		}
		out, err := (&plog.JSONMarshaler{}).MarshalLogs(ld)
		require.NoError(t, err)
		assert.NotContains(t, string(out), "secret_key", r)
		assert.NotContains(t, string(out), "SIMLEAKEDSECRET", r)
	}
	// A code, should Duo ever send one in a list, never reaches the body.
	_, lrs := NewLogs(testResource)
	require.NoError(t, AppendEntity(lrs, duoapi.BypassCodes,
		duoapi.Record{ID: "DB1", Raw: `{"bypass_code_id":"DB1","codes":["12345678"],"bypass_code":"87654321"}`}, testSnapshot, testObserved))
	body := lrs.At(0).Body().Map()
	_, hasCodes := body.Get("codes")
	_, hasCode := body.Get("bypass_code")
	assert.False(t, hasCodes || hasCode)

	// A secret nested in an object or a list (an SSO application's OIDC client secret, a
	// secret_key repeated under another member) is removed as well as a top-level one.
	_, lrs = NewLogs(testResource)
	require.NoError(t, AppendEntity(lrs, duoapi.Integrations, duoapi.Record{ID: "DI1", Raw: `{"integration_key":"DI1","secret_key":"SIMLEAKEDSECRET1","sso":{"oidc":{"client_id":"c","client_secret":"SIMLEAKEDSECRET2"}},` +
		`"keys":[{"secret_key":"SIMLEAKEDSECRET3","name":"k"}]}`}, testSnapshot, testObserved))
	out, err := json.Marshal(lrs.At(0).Body().AsRaw())
	require.NoError(t, err)
	assert.NotContains(t, string(out), "SIMLEAKEDSECRET")
	assert.Contains(t, string(out), `"client_id":"c"`, "only the secret members go")
	assert.Contains(t, string(out), `"name":"k"`, "only the secret members go")
}

func TestEntityUserAttributes(t *testing.T) {
	raw := `{"user_id":"DU1","username":"jdoe","email":"jdoe@example.com","realname":"Jane Doe","status":"locked out",
	"is_enrolled":false,"last_login":null,"groups":[{"name":"Finance"},{"name":"Finance"},{"name":"IT"}],
	"phones":[{"phone_id":"P1","platform":"Apple iOS"},{"phone_id":"P2","platform":"Apple iOS"},{"phone_id":"P3","platform":"Google Android"}],
	"new_field":{"kept":true}}`
	_, lrs := NewLogs(testResource)
	require.NoError(t, AppendEntity(lrs, duoapi.Users, duoapi.Record{ID: "DU1", Raw: raw}, testSnapshot, testObserved))
	lr := lrs.At(0)
	got := lr.Attributes().AsRaw()
	uid := got[attrLogRecordUID]
	delete(got, attrLogRecordUID)
	assert.Equal(t, map[string]any{
		"user.id": "DU1", "user.name": "jdoe", "user.email": "jdoe@example.com", "user.full_name": "Jane Doe",
		"duo.user.status": "locked_out", "duo.user.is_enrolled": false,
		"duo.user.groups":          []any{"Finance", "IT"},
		"duo.user.phone.platforms": []any{"Apple iOS", "Google Android"},
		AttrSnapshotID:             testSnapshot.ID,
		"entity.type":              "duo.user",
		"entity.id":                map[string]any{"duo.user.id": "DU1"},
		"entity.report.interval":   int64(3600),
	}, got)
	assert.Equal(t, EntityUID(testSnapshot.ID, duoapi.Users, "DU1"), uid)
	_, ok := lr.Body().Map().Get("new_field")
	assert.True(t, ok, "unknown fields stay in the body")
	assert.Equal(t, pcommon.NewTimestampFromTime(testSnapshot.Time), lr.Timestamp())
}

func TestEntityErrors(t *testing.T) {
	_, lrs := NewLogs(testResource)
	err := AppendEntity(lrs, duoapi.Users, duoapi.Record{Raw: `{"username":"x"}`}, testSnapshot, testObserved)
	require.ErrorIs(t, err, ErrNoID)
	err = AppendEntity(lrs, duoapi.Users, duoapi.Record{ID: "DU1", Raw: `{"user_id":`}, testSnapshot, testObserved)
	require.Error(t, err)
	err = AppendEntity(lrs, duoapi.PoliciesSummary, duoapi.Record{Raw: `{}`}, testSnapshot, testObserved)
	require.Error(t, err)
	assert.Equal(t, 0, lrs.Len(), "nothing appended on error")
	// A single object needs no id.
	require.NoError(t, AppendEntity(lrs, duoapi.Settings, duoapi.Record{Raw: `{"name":"acme"}`}, testSnapshot, testObserved))
}

func TestEntityUIDUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, snap := range []string{"a", "b"} {
		for _, r := range []duoapi.Resource{duoapi.Users, duoapi.Groups} {
			for _, id := range []string{"1", "2"} {
				u := EntityUID(snap, r, id)
				assert.False(t, seen[u], "%s %s %s", snap, r, id)
				seen[u] = true
				assert.Equal(t, u, EntityUID(snap, r, id), "stable")
			}
		}
	}
	assert.NotEqual(t, EntityUID("a", "b", "c"), EntityUID("a", "bc", ""), "fields are separated")
}

// last_login reaches the entity record whether Duo sends it as a number or as a numeric
// string, as the posture counts read it (docs/duo-api.md §1.5); null or text gives none.
func TestEntityLastLogin(t *testing.T) {
	for _, tt := range []struct {
		name, value, want string
	}{
		{"number", `1700000000`, "2023-11-14T22:13:20Z"},
		{"fraction", `1700000000.5`, "2023-11-14T22:13:20Z"},
		{"numeric string", `"1700000000"`, "2023-11-14T22:13:20Z"},
		{"null", `null`, ""},
		{"text", `"never"`, ""},
		{"not a number", `"NaN"`, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, lrs := NewLogs(testResource)
			raw := `{"user_id":"DU1","last_login":` + tt.value + `}`
			require.NoError(t, AppendEntity(lrs, duoapi.Users, duoapi.Record{ID: "DU1", Raw: raw}, testSnapshot, testObserved))
			v, ok := lrs.At(0).Attributes().Get("duo.user.last_login")
			if tt.want == "" {
				assert.False(t, ok, "no attribute")
				return
			}
			require.True(t, ok)
			assert.Equal(t, tt.want, v.Str())
		})
	}
}
