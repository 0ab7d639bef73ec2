// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoapi

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEndpointTable checks each row against what Duo documents for it (docs/duo-api.md §3),
// written out here a second time on purpose.
func TestEndpointTable(t *testing.T) {
	want := []struct {
		lt     LogType
		path   string
		v1     bool
		limit  int
		param  string
		idKey  string
		listAt string
	}{
		{Authentication, "/admin/v2/logs/authentication", false, 1000, "next_offset", "txid", "authlogs"},
		{Administrator, "/admin/v1/logs/administrator", true, 1000, "", "", ""},
		{Telephony, "/admin/v2/logs/telephony", false, 1000, "next_offset", "telephony_id", "items"},
		{Activity, "/admin/v2/logs/activity", false, 1000, "next_offset", "activity_id", "items"},
		{OfflineEnrollment, "/admin/v1/logs/offline_enrollment", true, 1000, "", "", ""},
		{TrustMonitor, "/admin/v1/trust_monitor/events", false, 500, "offset", "sekey", "events"},
	}
	require.Len(t, LogTypes, len(want))
	for i, w := range want {
		ep, ok := w.lt.Endpoint()
		require.True(t, ok, w.lt)
		assert.Equal(t, w.lt, LogTypes[i], "LogTypes order")
		assert.Equal(t, w.path, Path(w.lt))
		assert.Equal(t, w.v1, w.lt.V1(), w.lt)
		assert.Equal(t, w.limit, ep.Limit, w.lt)
		assert.Equal(t, w.idKey, ep.IDKey, w.lt)
		assert.Equal(t, w.listAt, ep.ListKey, w.lt)
		if !w.v1 {
			assert.Equal(t, w.param, ep.Paging.offsetParam(), w.lt)
		}
		assert.NotEmpty(t, ep.Times, w.lt)
		assert.Equal(t, ep.Paging == PagingMinTime, ep.IDKey == "", "%s: only v1 records lack an id", w.lt)
	}
	assert.Empty(t, Path("nope"))
	assert.False(t, LogType("nope").V1())
	_, ok := LogType("nope").Endpoint()
	assert.False(t, ok)
}

// users is a row for an object list, the kind of endpoint PagingList serves.
var users = &Endpoint{
	Type: "users", Path: "/admin/v1/users", Version: 1, Paging: PagingList, Limit: 3, IDKey: "user_id",
}

// TestFetchList pages an object list with offset and limit: metadata beside response
// carries next_offset as a number until the last page, which has none.
func TestFetchList(t *testing.T) {
	const total = 7
	var offsets []string
	tc := newTestClient(t, signed(t, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		assert.Equal(t, users.Path, r.URL.Path)
		assert.Equal(t, "3", q.Get("limit"))
		assert.False(t, q.Has("mintime"), "an object list takes no time bounds")
		offsets = append(offsets, q.Get("offset"))
		off, err := strconv.Atoi(q.Get("offset"))
		require.NoError(t, err)
		var items []string
		for i := off; i < min(off+3, total); i++ {
			items = append(items, fmt.Sprintf(`{"user_id":"DU%d","username":"u%d","groups":[]}`, i, i))
		}
		meta := fmt.Sprintf(`{"total_objects":%d,"prev_offset":%d}`, total, max(off-3, 0))
		if off+3 < total {
			meta = fmt.Sprintf(`{"total_objects":%d,"next_offset":%d,"prev_offset":%d}`, total, off+3, max(off-3, 0))
		}
		writeJSON(w, 200, `{"stat":"OK","response":[`+strings.Join(items, ",")+`],"metadata":`+meta+`}`)
	}), nil)
	var ids []string
	var nexts []*Position
	err := tc.fetchList(t.Context(), users, func(p Page) error {
		for _, r := range p.Records {
			ids = append(ids, r.ID)
			assert.True(t, r.Time.IsZero())
		}
		nexts = append(nexts, p.Next)
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"0", "3", "6"}, offsets)
	assert.Equal(t, []string{"DU0", "DU1", "DU2", "DU3", "DU4", "DU5", "DU6"}, ids)
	require.Len(t, nexts, 3)
	assert.Equal(t, &Position{Offset: "3"}, nexts[0])
	assert.Equal(t, &Position{Offset: "6"}, nexts[1])
	assert.Nil(t, nexts[2])
}

// TestFetchListNoProgress: an object list that hands back the offset it was sent is an
// error, not an endless loop.
func TestFetchListNoProgress(t *testing.T) {
	tc := newTestClient(t, signed(t, answer(200, `{"stat":"OK","response":[{"user_id":"DU0"}],"metadata":{"next_offset":0}}`)), nil)
	done := make(chan error, 1)
	go func() { done <- tc.fetchList(t.Context(), users, func(Page) error { return nil }) }()
	select {
	case err := <-done:
		require.ErrorIs(t, err, errNoProgress)
	case <-time.After(10 * time.Second):
		t.Fatal("fetchList did not stop")
	}
}
