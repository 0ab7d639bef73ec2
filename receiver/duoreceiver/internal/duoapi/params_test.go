// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoapi

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-duo/otelcol-duo/internal/duosim"
)

// The filters of a log type are sent on each of its requests as repeated keys, inside the
// signature, and on no other log type's requests.
func TestParamsSentAsRepeatedSignedKeys(t *testing.T) {
	var got []url.Values
	h := signed(t, func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.URL.Query())
		switch r.URL.Path {
		case Path(Authentication):
			writeJSON(w, 200, `{"stat":"OK","response":{"authlogs":[],"metadata":{}}}`)
		default:
			writeJSON(w, 200, `{"stat":"OK","response":{"items":[],"metadata":{}}}`)
		}
	})
	filters := map[string][]string{"results": {"fraud", "denied"}, "factors": {"WebAuthn Security Key"}}
	tc := newTestClient(t, h, func(c *Config) {
		c.Params = map[LogType]map[string][]string{Authentication: filters}
	})
	filters["results"][0] = "changed after New" // the client keeps its own copy
	now := time.Now()
	w := Window{Start: now.Add(-time.Hour), End: now}
	_, err := collect(t, tc.Client, Authentication, w)
	require.NoError(t, err)
	_, err = collect(t, tc.Client, Telephony, w)
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.ElementsMatch(t, []string{"fraud", "denied"}, got[0]["results"])
	assert.Equal(t, []string{"WebAuthn Security Key"}, got[0]["factors"])
	assert.Equal(t, []string{"ts:asc"}, got[0]["sort"], "the filters add to the paging parameters")
	assert.NotContains(t, got[1], "results")
	assert.NotContains(t, got[1], "factors")
}

// Against the simulator, which applies Duo's filters, exactly the matching events arrive:
// one filter over several pages, and two filters together.
func TestSimAuthFilters(t *testing.T) {
	h := newSimHarness(t, duosim.Config{Delay: -1}, nil)
	now := time.Now()
	h.sim.Backfill("authentication", 6000, now.Add(-2*time.Hour), now.Add(-time.Minute))
	var users []string
	for u := range h.sim.Account("").AuthDirectory().Users {
		users = append(users, u)
		if len(users) == 3 {
			break
		}
	}
	tests := []struct {
		name     string
		filters  url.Values
		minMatch int
	}{
		{name: "results over several pages", filters: url.Values{"results": {"success", "fraud"}}, minMatch: 1001},
		{name: "results and users", filters: url.Values{"results": {"success", "fraud"}, "users": users}, minMatch: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := h.sim.Account("").FilteredAuth(tt.filters)
			require.GreaterOrEqual(t, len(want), tt.minMatch)
			require.Less(t, len(want), 6000, "the filters must leave some events out")

			h.c.params = map[LogType]map[string][]string{Authentication: tt.filters}
			got := h.fetchAll(t, Authentication, Window{Start: now.Add(-3 * time.Hour), End: now})
			wantIDs := make([]string, 0, len(want))
			for _, ev := range want {
				wantIDs = append(wantIDs, ev.ID)
			}
			gotIDs := make([]string, 0, len(got))
			for _, r := range got {
				gotIDs = append(gotIDs, r.ID)
			}
			assert.ElementsMatch(t, wantIDs, gotIDs)
		})
	}
}
