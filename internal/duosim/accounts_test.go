// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duosim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

func accountsSigner(host string) signer {
	return signer{ikey: DefaultAccountsIntegrationKey, skey: DefaultAccountsSecretKey, host: host, mode: signV2SHA512}
}

type accountList struct {
	Stat     string `json:"stat"`
	Response []struct {
		AccountID   string `json:"account_id"`
		APIHostname string `json:"api_hostname"`
		Name        string `json:"name"`
	} `json:"response"`
}

func TestAccountList(t *testing.T) {
	kids := ChildAccounts(5, 0, 3)
	s := New(Config{Now: fixedClock(t0), Children: kids})
	v5 := accountsSigner("")
	v5.mode = signV5
	sha1 := accountsSigner("")
	sha1.mode = signV2SHA1
	tests := []struct {
		name   string
		sg     signer
		body   string
		ctype  string
		status int
		code   int
	}{
		{name: "v2 sha512, empty form", sg: accountsSigner(""), ctype: "application/x-www-form-urlencoded", status: 200},
		{name: "v2 sha1, no body", sg: sha1, status: 200},
		{name: "v5, JSON body {}", sg: v5, body: "{}", ctype: "application/json", status: 200},
		{name: "v5 body changed after signing", sg: v5, body: "{}", ctype: "application/json", status: 401, code: 40103},
		{name: "Admin API keys", sg: defaultSigner(), status: 403, code: 40301},
		{name: "signed for a child's host", sg: accountsSigner(kids[0].APIHostname), status: 401, code: 40103},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, accountListPath, strings.NewReader(tc.body))
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			tc.sg.sign(req, t0, []byte(tc.body))
			if strings.Contains(tc.name, "changed") {
				req.Body = http.NoBody
				req.ContentLength = 0
			}
			r := serve(s, req)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if tc.code != 0 {
				if e := decodeErr(t, r.body); e.Code != tc.code {
					t.Fatalf("code %d, want %d", e.Code, tc.code)
				}
				return
			}
			var l accountList
			if err := json.Unmarshal(r.body, &l); err != nil {
				t.Fatal(err)
			}
			if l.Stat != "OK" || len(l.Response) != len(kids) {
				t.Fatalf("list %+v", l)
			}
			for i, c := range l.Response {
				if c.AccountID != kids[i].AccountID || c.APIHostname != kids[i].APIHostname || c.Name != kids[i].Name || len(c.AccountID) != 20 {
					t.Fatalf("child %d: %+v, want %+v", i, c, kids[i])
				}
			}
		})
	}
	req := httptest.NewRequest(http.MethodGet, accountListPath, nil)
	accountsSigner("").sign(req, t0, nil)
	if r := serve(s, req); r.status != 405 {
		t.Fatalf("GET account list: %d, want 405", r.status)
	}
}

func TestChildAccountsDeterministic(t *testing.T) {
	a, b := ChildAccounts(1, 0, 500), ChildAccounts(1, 0, 500)
	ids, hosts := map[string]bool{}, map[string]bool{}
	for i := range a {
		if a[i].AccountID != b[i].AccountID || a[i].APIHostname != b[i].APIHostname || a[i].Name != b[i].Name {
			t.Fatalf("child %d differs between calls", i)
		}
		if len(a[i].AccountID) != 20 || !strings.HasPrefix(a[i].AccountID, "DA") || ids[a[i].AccountID] || hosts[a[i].APIHostname] {
			t.Fatalf("child %d: %+v not distinct or malformed", i, a[i])
		}
		ids[a[i].AccountID], hosts[a[i].APIHostname] = true, true
	}
	if ChildAccounts(1, 7, 1)[0].AccountID != a[7].AccountID {
		t.Fatal("child 7 depends on where the range starts")
	}
}

// authIDs reads one page of authentication txids for the query.
func authIDs(t testing.TB, s *Sim, sg signer, q url.Values) ([]string, result) {
	t.Helper()
	r := do(t, s, sg, t0, "/admin/v2/logs/authentication", q)
	if r.status != 200 {
		return nil, r
	}
	var env struct {
		Response struct {
			Authlogs []struct {
				TxID string `json:"txid"`
			} `json:"authlogs"`
		} `json:"response"`
	}
	if err := json.Unmarshal(r.body, &env); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, a := range env.Response.Authlogs {
		ids = append(ids, a.TxID)
	}
	return ids, r
}

func eventIDs(evs []Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}

func TestChildRouting(t *testing.T) {
	kids := ChildAccounts(6, 0, 3)
	kids[1].Refuse = map[string]int{"telephony": 40401, "trust_monitor": 40301, "activity": 40301}
	s := New(Config{Now: fixedClock(t0), Seed: 6, Children: kids})
	from, to := t0.Add(-2*time.Hour), t0.Add(-time.Hour)
	s.Backfill("authentication", 5, from, to)
	for i, k := range kids {
		s.Account(k.AccountID).Backfill("authentication", 10+i, from, to)
	}
	window := func(extra ...string) url.Values {
		q := msq("mintime", ms(t0.Add(-3*time.Hour)), "maxtime", ms(t0), "limit", "1000", "sort", "ts:asc")
		for i := 0; i+1 < len(extra); i += 2 {
			q.Set(extra[i], extra[i+1])
		}
		return q
	}
	parentIDs, _ := authIDs(t, s, defaultSigner(), window())
	if !slices.Equal(parentIDs, eventIDs(s.Events("authentication"))) {
		t.Fatal("parent's own logs differ from its events")
	}
	for i, k := range kids {
		want := eventIDs(s.Account(k.AccountID).Events("authentication"))
		if len(want) != 10+i {
			t.Fatalf("child %d has %d events", i, len(want))
		}
		for _, host := range []string{k.APIHostname, ""} { // "" signs for the parent's host
			got, r := authIDs(t, s, accountsSigner(host), window("account_id", k.AccountID))
			if !slices.Equal(got, want) {
				t.Fatalf("child %d signed for %q: %d %s", i, host, r.status, r.body)
			}
		}
	}

	k := kids[0]
	tests := []struct {
		name   string
		sim    *Sim
		sg     signer
		q      url.Values
		prep   func(*http.Request)
		path   string
		status int
		code   int
	}{
		{name: "Admin API keys with account_id", sg: signer{ikey: DefaultIntegrationKey, skey: DefaultSecretKey, host: k.APIHostname},
			q: window("account_id", k.AccountID), status: 403, code: 40301},
		{name: "Accounts API keys without account_id", sg: accountsSigner(""), q: window(), status: 403, code: 40301},
		{name: "unknown account_id", sg: accountsSigner(""), q: window("account_id", "DA0000000000000NOPE0"), status: 403, code: 40301},
		{name: "account_id added after signing", sg: accountsSigner(k.APIHostname), q: window(),
			prep: func(r *http.Request) { r.URL.RawQuery += "&account_id=" + k.AccountID }, status: 401, code: 40103},
		{name: "another child's host", sg: accountsSigner(kids[2].APIHostname), q: window("account_id", k.AccountID), status: 401, code: 40103},
		{name: "strict: parent's host refused", sim: New(Config{Now: fixedClock(t0), Children: kids, StrictChildHost: true}),
			sg: accountsSigner(""), q: window("account_id", k.AccountID), status: 401, code: 40103},
		{name: "strict: child's host", sim: New(Config{Now: fixedClock(t0), Children: kids, StrictChildHost: true}),
			sg: accountsSigner(k.APIHostname), q: window("account_id", k.AccountID), status: 200},
		{name: "refused with 40401", sg: accountsSigner(kids[1].APIHostname), path: "/admin/v2/logs/telephony",
			q: window("account_id", kids[1].AccountID), status: 404, code: 40401},
		{name: "refused with 40301", sg: accountsSigner(kids[1].APIHostname), path: "/admin/v1/trust_monitor/events",
			q: window("account_id", kids[1].AccountID), status: 403, code: 40301},
		{name: "refusing child still serves authentication", sg: accountsSigner(kids[1].APIHostname),
			q: window("account_id", kids[1].AccountID), status: 200},
		{name: "other child serves telephony", sg: accountsSigner(kids[2].APIHostname), path: "/admin/v2/logs/telephony",
			q: window("account_id", kids[2].AccountID), status: 200},
		{name: "child inventory", sg: accountsSigner(kids[1].APIHostname), path: "/admin/v1/users",
			q: msq("account_id", kids[1].AccountID), status: 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sim := tc.sim
			if sim == nil {
				sim = s
			}
			path := tc.path
			if path == "" {
				path = "/admin/v2/logs/authentication"
			}
			req := httptest.NewRequest(http.MethodGet, path+"?"+tc.q.Encode(), nil)
			tc.sg.sign(req, t0, nil)
			if tc.prep != nil {
				tc.prep(req)
			}
			r := serve(sim, req)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if tc.code != 0 && decodeErr(t, r.body).Code != tc.code {
				t.Fatalf("body %s, want code %d", r.body, tc.code)
			}
		})
	}
	if n := s.Stats().AccountRequests[kids[2].AccountID]; n != 3 {
		t.Errorf("AccountRequests[child 2] = %d, want 3", n)
	}
}

func TestChildListChanges(t *testing.T) {
	kids := ChildAccounts(7, 0, 3)
	s := New(Config{Now: fixedClock(t0), Children: kids[:2]})
	gone := kids[0]
	s.Account(gone.AccountID).Backfill("authentication", 4, t0.Add(-2*time.Hour), t0.Add(-time.Hour))
	q := msq("mintime", ms(t0.Add(-3*time.Hour)), "maxtime", ms(t0), "account_id", gone.AccountID)
	before, _ := authIDs(t, s, accountsSigner(gone.APIHostname), q)

	if !s.RemoveChild(gone.AccountID) || s.RemoveChild(gone.AccountID) {
		t.Fatal("RemoveChild: want true once, then false")
	}
	if _, r := authIDs(t, s, accountsSigner(gone.APIHostname), q); r.status != 403 {
		t.Fatalf("removed child: %d, want 403", r.status)
	}
	if err := s.AddChild(kids[2]); err != nil {
		t.Fatal(err)
	}
	if err := s.AddChild(gone); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range s.Children() {
		ids = append(ids, c.AccountID)
	}
	if want := []string{kids[1].AccountID, kids[2].AccountID, gone.AccountID}; !slices.Equal(ids, want) {
		t.Fatalf("children %v, want %v", ids, want)
	}
	after, r := authIDs(t, s, accountsSigner(gone.APIHostname), q)
	if len(before) != 4 || !slices.Equal(before, after) {
		t.Fatalf("re-added child serves %v (%d), before %v", after, r.status, before)
	}

	for _, bad := range [][]ChildAccount{
		{{AccountID: "DA1", APIHostname: ""}},
		{kids[0], kids[0]},
		{{AccountID: "DA1", APIHostname: "h", Refuse: map[string]int{"telephony": 500}}},
		{{AccountID: "DA1", APIHostname: "h", Refuse: map[string]int{"phones": 40401}}},
	} {
		if err := s.SetChildren(bad); err == nil {
			t.Errorf("SetChildren(%+v): no error", bad)
		}
	}
	if err := s.SetChildren(nil); err != nil || len(s.Children()) != 0 {
		t.Fatalf("SetChildren(nil): %v, %d children", err, len(s.Children()))
	}
}

// TestChildInventory: each child has its own population, and its true
// counts match what it serves under account_id.
func TestChildInventory(t *testing.T) {
	kids := ChildAccounts(8, 0, 2)
	pop := DefaultPopulation()
	pop.Users = 400
	s := New(Config{Now: fixedClock(t0), Seed: 8, Children: kids, ChildPopulation: &pop})
	small := DefaultPopulation()
	small.Users = 7
	s.Account(kids[1].AccountID).SetPopulation(small)
	for i, k := range kids {
		a := s.Account(k.AccountID)
		want := a.InventoryCounts(720*time.Hour, t0)
		if wantUsers := []int{400, 7}[i]; want.UsersTotal != wantUsers {
			t.Fatalf("child %d has %d users, want %d", i, want.UsersTotal, wantUsers)
		}
		got := jsonCounts(t, s, accountsSigner(k.APIHostname), 720*time.Hour, t0, msq("account_id", k.AccountID))
		sameCounts(t, got, want)
	}
	parent := do(t, s, defaultSigner(), t0, "/admin/v1/users", msq("limit", "1")).body
	child := do(t, s, accountsSigner(kids[0].APIHostname), t0, "/admin/v1/users", msq("limit", "1", "account_id", kids[0].AccountID)).body
	if bytes.Equal(parent, child) {
		t.Fatal("child serves the parent's users")
	}
	// Faults of one child's own, the others unaffected.
	s.Account(kids[1].AccountID).SetInventoryFaults(InventoryFaults{Forbidden: []string{"users"}})
	for i, want := range []int{200, 403} {
		k := kids[i]
		if r := do(t, s, accountsSigner(k.APIHostname), t0, "/admin/v1/users", msq("account_id", k.AccountID)); r.status != want {
			t.Errorf("child %d users: %d, want %d", i, r.status, want)
		}
	}
	s.SetInventoryFaults(InventoryFaults{Forbidden: []string{"groups"}})
	if r := do(t, s, accountsSigner(kids[1].APIHostname), t0, "/admin/v1/groups", msq("account_id", kids[1].AccountID)); r.status != 200 {
		t.Errorf("child with faults of its own follows the simulator's: %d", r.status)
	}
	if r := do(t, s, defaultSigner(), t0, "/admin/v1/groups", nil); r.status != 403 {
		t.Errorf("parent groups: %d, want 403", r.status)
	}
	s.Account(kids[1].AccountID).ClearInventoryFaults()
	if r := do(t, s, accountsSigner(kids[1].APIHostname), t0, "/admin/v1/users", msq("account_id", kids[1].AccountID)); r.status != 200 {
		t.Errorf("child users after ClearInventoryFaults: %d", r.status)
	}
	s.SetInventoryFaults(InventoryFaults{})

	settings := do(t, s, accountsSigner(kids[0].APIHostname), t0, "/admin/v1/settings", msq("account_id", kids[0].AccountID)).body
	if !bytes.Contains(settings, []byte(kids[0].Name)) {
		t.Fatalf("child settings lack the child's name: %s", settings)
	}
}
