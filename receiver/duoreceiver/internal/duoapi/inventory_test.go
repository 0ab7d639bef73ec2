// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoapi

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-duo/otelcol-duo/internal/duosim"
)

func TestInventoryTable(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Resources {
		ep, ok := r.Endpoint()
		require.True(t, ok, r)
		assert.Equal(t, r, ep.Resource)
		assert.Empty(t, ep.Type, "an inventory row is no log stream")
		assert.NotEmpty(t, r.Permission(), r)
		assert.False(t, seen[ep.Path], "path %s twice", ep.Path)
		seen[ep.Path] = true
		assert.True(t, strings.HasPrefix(ep.Path, "/admin/v"+strconv.Itoa(ep.Version)+"/"), ep.Path)
		if r.Paged() {
			assert.Positive(t, ep.Limit, r)
			assert.NotEmpty(t, ep.IDKey, "%s: objects without an id must be detectable", r)
		}
		assert.NotContains(t, LogTypes, LogType(r), "a resource name must not be a log type: they share budgets by name")
	}
	for r, limit := range map[Resource]int{Users: 300, BypassCodes: 500, Groups: 100, Endpoints: 100, Policies: 100, Admins: 100, Integrations: 100} {
		ep, _ := r.Endpoint()
		assert.Equal(t, limit, ep.Limit, r)
	}
	for _, r := range []Resource{Summary, Settings, PoliciesSummary} {
		assert.False(t, r.Paged(), r)
	}
	assert.Len(t, LogTypes, 6, "LogTypes stays the log streams only")
}

// listServer serves a list of n objects {"user_id":"U<i>"} paged by offset and limit,
// answering at most maxPage per page, with metadata at the top level as Duo does.
type listServer struct {
	mu      sync.Mutex
	n       int
	maxPage int
	queries []string
	methods []string
	// next, when set, replaces the next_offset Duo would send.
	next func(offset, end int) string
}

func (s *listServer) handle(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.queries = append(s.queries, r.URL.RawQuery)
	s.methods = append(s.methods, r.Method)
	s.mu.Unlock()
	q := r.URL.Query()
	offset, _ := strconv.Atoi(q.Get("offset"))
	limit, _ := strconv.Atoi(q.Get("limit"))
	if s.maxPage > 0 {
		limit = min(limit, s.maxPage)
	}
	end := min(offset+limit, s.n)
	var items []string
	for i := offset; i < end; i++ {
		items = append(items, fmt.Sprintf(`{"user_id":"U%d","status":"active"}`, i))
	}
	meta := fmt.Sprintf(`{"total_objects":%d}`, s.n)
	next := ""
	if end < s.n {
		next = strconv.Itoa(end)
	}
	if s.next != nil {
		next = s.next(offset, end)
	}
	if next != "" {
		meta = fmt.Sprintf(`{"total_objects":%d,"next_offset":%s}`, s.n, next)
	}
	writeJSON(w, 200, `{"stat":"OK","response":[`+strings.Join(items, ",")+`],"metadata":`+meta+`}`)
}

func listAll(t *testing.T, c *Client, r Resource) ([]Page, error) {
	t.Helper()
	var pages []Page
	err := c.List(t.Context(), r, func(p Page) error {
		pages = append(pages, p)
		return nil
	})
	return pages, err
}

func TestListPaging(t *testing.T) {
	tests := []struct {
		name      string
		n         int
		maxPage   int
		wantPages int
	}{
		{"empty", 0, 0, 1},
		{"one short page", 5, 0, 1},
		{"exactly one full page", 300, 0, 1},
		{"two pages", 301, 0, 2},
		{"short pages are not the end", 250, 40, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &listServer{n: tt.n, maxPage: tt.maxPage}
			tc := newTestClient(t, signed(t, s.handle), nil)
			pages, err := listAll(t, tc.Client, Users)
			require.NoError(t, err)
			require.Len(t, pages, tt.wantPages)
			ids := map[string]bool{}
			for i, p := range pages {
				assert.Equal(t, i == len(pages)-1, p.Next == nil, "only the last page ends the list")
				for _, r := range p.Records {
					assert.False(t, ids[r.ID], "id %s twice", r.ID)
					ids[r.ID] = true
					assert.True(t, r.Time.IsZero())
				}
			}
			assert.Len(t, ids, tt.n)
			for i, q := range s.queries {
				assert.Contains(t, q, "limit=300", "query %d", i)
				assert.Equal(t, http.MethodGet, s.methods[i])
			}
			assert.Contains(t, s.queries[0], "offset=0")
		})
	}
}

func TestListOffsetMustAdvance(t *testing.T) {
	for name, next := range map[string]func(offset, end int) string{
		"same offset":  func(offset, _ int) string { return strconv.Itoa(offset) },
		"backwards":    func(offset, _ int) string { return strconv.Itoa(max(0, offset-1)) },
		"to zero":      func(_, _ int) string { return "0" },
		"not a number": func(_, _ int) string { return `"abc"` },
	} {
		t.Run(name, func(t *testing.T) {
			s := &listServer{n: 1000, next: next}
			tc := newTestClient(t, signed(t, s.handle), nil)
			_, err := listAll(t, tc.Client, Users)
			require.ErrorIs(t, err, errNoProgress)
			assert.LessOrEqual(t, len(s.queries), 2, "never a loop")
		})
	}
}

func TestInventoryForbidden(t *testing.T) {
	h := answer(403, `{"stat":"FAIL","code":40301,"message":"Access forbidden"}`)
	tc := newTestClient(t, signed(t, h), nil)
	_, err := listAll(t, tc.Client, Admins)
	var fe *ForbiddenError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, Admins, fe.Resource)
	assert.Equal(t, PermissionAdministrators, fe.Permission)
	assert.Contains(t, err.Error(), PermissionAdministrators)
	assert.True(t, IsCredentialsError(err), "still an *APIError underneath")
	assert.Len(t, tc.rec.statuses(), 1, "a 403 is not retried")

	_, err = tc.Get(t.Context(), Settings)
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, PermissionSettings, fe.Permission)
}

func TestInventoryOtherErrorsAreNotForbidden(t *testing.T) {
	h := answer(401, `{"stat":"FAIL","code":40103,"message":"Invalid signature"}`)
	tc := newTestClient(t, signed(t, h), nil)
	_, err := listAll(t, tc.Client, Users)
	var fe *ForbiddenError
	assert.False(t, errors.As(err, &fe))
	assert.True(t, IsCredentialsError(err))
}

func TestGetObject(t *testing.T) {
	h := func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, http.MethodGet, r.Method)
		assert.Equal(t, "/admin/v1/info/summary", r.URL.Path)
		assert.Empty(t, r.URL.RawQuery)
		writeJSON(w, 200, `{"stat":"OK","response":{"telephony_credits_remaining":960,"user_count":12}}`)
	}
	tc := newTestClient(t, signed(t, h), nil)
	raw, err := tc.Get(t.Context(), Summary)
	require.NoError(t, err)
	assert.JSONEq(t, `{"telephony_credits_remaining":960,"user_count":12}`, raw)

	_, err = tc.Get(t.Context(), Users)
	require.Error(t, err, "a list is not read with Get")
	err = tc.List(t.Context(), Settings, func(Page) error { return nil })
	require.Error(t, err, "an object is not read with List")
}

func TestGetObjectRejectsNonObject(t *testing.T) {
	h := answer(200, `{"stat":"OK","response":[1,2]}`)
	tc := newTestClient(t, signed(t, h), func(c *Config) { c.Retry.Enabled = false })
	_, err := tc.Get(t.Context(), Settings)
	var de *decodeError
	require.ErrorAs(t, err, &de)
}

func TestInventoryBudgetIsSeparate(t *testing.T) {
	s := &listServer{n: 3}
	tc := newTestClient(t, signed(t, s.handle), func(c *Config) {
		c.RateLimit = 0.001 // a log budget this slow would block for hours
		c.InventoryRateLimit = 6000
	})
	start := time.Now()
	for range 3 {
		_, err := listAll(t, tc.Client, Users)
		require.NoError(t, err)
	}
	assert.Less(t, time.Since(start), 5*time.Second, "inventory requests do not wait on the log budget")
	require.NotNil(t, tc.budgets[LogType(Users)])
	assert.InDelta(t, 6000, tc.budgets[LogType(Users)].perMinute(), 1)
	assert.InDelta(t, 0.001, tc.budgets[Authentication].perMinute(), 1e-6)
	tc.rec.mu.Lock()
	defer tc.rec.mu.Unlock()
	for _, r := range tc.rec.requests {
		assert.Equal(t, LogType(Users), r.lt, "the observer is told the resource")
	}
}

// TestListAgainstSimulator reads every paged resource of the simulator's population and
// compares with its true counts.
func TestListAgainstSimulator(t *testing.T) {
	for _, maxPage := range []int{0, 37} {
		t.Run(fmt.Sprintf("max_page=%d", maxPage), func(t *testing.T) {
			pop := duosim.DefaultPopulation()
			pop.Users = 700
			h := newSimHarness(t, duosim.Config{Population: &pop, InventoryFaults: duosim.InventoryFaults{MaxPage: maxPage}}, nil)
			counts := h.sim.InventoryCounts(720*time.Hour, time.Now())
			got := map[Resource]int{}
			for _, r := range Resources {
				if !r.Paged() {
					raw, err := h.c.Get(t.Context(), r)
					require.NoError(t, err, r)
					assert.True(t, strings.HasPrefix(raw, "{"), r)
					continue
				}
				ids := map[string]bool{}
				err := h.c.List(t.Context(), r, func(p Page) error {
					for _, rec := range p.Records {
						assert.NotEmpty(t, rec.ID, r)
						assert.False(t, ids[rec.ID], "%s: %s twice", r, rec.ID)
						ids[rec.ID] = true
					}
					return nil
				})
				require.NoError(t, err, r)
				got[r] = len(ids)
			}
			assert.Equal(t, counts.UsersTotal, got[Users])
			assert.Equal(t, counts.BypassCodes, got[BypassCodes])
			assert.Equal(t, counts.Policies, got[Policies])
			assert.Equal(t, sum(counts.Groups), got[Groups])
			assert.Equal(t, sum(counts.Admins), got[Admins])
			assert.Equal(t, sum(counts.Integrations), got[Integrations])
		})
	}
}

func TestListForbiddenBySimulator(t *testing.T) {
	h := newSimHarness(t, duosim.Config{InventoryFaults: duosim.InventoryFaults{Forbidden: []string{"integrations"}}}, nil)
	err := h.c.List(t.Context(), Integrations, func(Page) error { return nil })
	var fe *ForbiddenError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, PermissionApplications, fe.Permission)
	require.NoError(t, h.c.List(t.Context(), Users, func(Page) error { return nil }))
}

func sum[K comparable](m map[K]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
