// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duosim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// listPage is Duo's envelope of an offset-paged list (API.md 1.3).
type listPage struct {
	Stat     string            `json:"stat"`
	Response []json.RawMessage `json:"response"`
	Metadata struct {
		TotalObjects *int `json:"total_objects"`
		NextOffset   *int `json:"next_offset"`
		PrevOffset   *int `json:"prev_offset"`
	} `json:"metadata"`
}

func getPage(t testing.TB, s *Sim, sg signer, path string, q url.Values) (listPage, result) {
	t.Helper()
	r := do(t, s, sg, t0, path, q)
	var p listPage
	if r.status == http.StatusOK {
		if err := json.Unmarshal(r.body, &p); err != nil {
			t.Fatalf("%s: %v: %.200s", path, err, r.body)
		}
	}
	return p, r
}

// walkList reads every object of a paged resource, following next_offset.
func walkList(t testing.TB, s *Sim, sg signer, path string, limit int, extra url.Values) []json.RawMessage {
	t.Helper()
	var all []json.RawMessage
	offset := 0
	for pages := 0; ; pages++ {
		if pages > 10000 {
			t.Fatalf("%s: no end after %d pages", path, pages)
		}
		q := url.Values{}
		for k, v := range extra {
			q[k] = v
		}
		if limit > 0 {
			q.Set("limit", strconv.Itoa(limit))
		}
		if offset > 0 {
			q.Set("offset", strconv.Itoa(offset))
		}
		p, r := getPage(t, s, sg, path, q)
		if r.status != http.StatusOK || p.Stat != "OK" {
			t.Fatalf("%s offset %d: %d %s", path, offset, r.status, r.body)
		}
		all = append(all, p.Response...)
		if p.Metadata.NextOffset == nil {
			if p.Metadata.TotalObjects == nil || *p.Metadata.TotalObjects != len(all) {
				t.Fatalf("%s: read %d objects, total_objects %v", path, len(all), p.Metadata.TotalObjects)
			}
			return all
		}
		if *p.Metadata.NextOffset <= offset {
			t.Fatalf("%s: next_offset %d does not advance from %d", path, *p.Metadata.NextOffset, offset)
		}
		offset = *p.Metadata.NextOffset
	}
}

func testPopulation() Population {
	p := DefaultPopulation()
	p.Users = 1000
	p.Groups = 130
	p.Endpoints = 240
	p.Admins = 105
	p.Integrations = 120
	p.Policies = 101
	p.ShareBypassCodes = 0.5
	return p
}

func TestInventoryPaging(t *testing.T) {
	pop := testPopulation()
	s := New(Config{Now: fixedClock(t0), Seed: 9, Population: &pop})
	c := s.InventoryCounts(pop.InactiveAfter, t0)
	idKey := map[string]string{"users": "user_id", "bypass_codes": "bypass_code_id", "groups": "group_id",
		"endpoints": "epkey", "policies": "policy_key", "admins": "admin_id", "integrations": "integration_key"}
	want := map[string]int{"users": pop.Users, "bypass_codes": c.BypassCodes, "groups": pop.Groups,
		"endpoints": pop.Endpoints, "policies": pop.Policies, "admins": pop.Admins, "integrations": pop.Integrations}
	for name, key := range idKey {
		path := ResourcePath(name)
		max := ResourceMaxLimit(name)
		t.Run(name, func(t *testing.T) {
			if want[name] <= max {
				t.Fatalf("population too small to page %s", name)
			}
			// Default limit 100.
			first, _ := getPage(t, s, defaultSigner(), path, nil)
			if len(first.Response) != 100 || *first.Metadata.NextOffset != 100 || first.Metadata.PrevOffset != nil {
				t.Fatalf("first page: %d objects, next %v prev %v", len(first.Response), first.Metadata.NextOffset, first.Metadata.PrevOffset)
			}
			// A limit above the maximum is clamped.
			p, _ := getPage(t, s, defaultSigner(), path, msq("limit", "100000"))
			if len(p.Response) != max {
				t.Fatalf("limit 100000 gave %d objects, want the max %d", len(p.Response), max)
			}
			p, _ = getPage(t, s, defaultSigner(), path, msq("limit", "7", "offset", "20"))
			if len(p.Response) != 7 || *p.Metadata.NextOffset != 27 || *p.Metadata.PrevOffset != 13 {
				t.Fatalf("offset 20 limit 7: %d objects, next %v prev %v", len(p.Response), *p.Metadata.NextOffset, *p.Metadata.PrevOffset)
			}
			p, _ = getPage(t, s, defaultSigner(), path, msq("offset", strconv.Itoa(want[name]+5)))
			if len(p.Response) != 0 || p.Metadata.NextOffset != nil || *p.Metadata.TotalObjects != want[name] {
				t.Fatalf("past the end: %+v", p.Metadata)
			}
			for _, limit := range []int{0, max, 37} {
				all := walkList(t, s, defaultSigner(), path, limit, nil)
				if len(all) != want[name] {
					t.Fatalf("limit %d: %d objects, want %d", limit, len(all), want[name])
				}
				seen := map[string]bool{}
				for _, raw := range all {
					var o map[string]any
					if err := json.Unmarshal(raw, &o); err != nil {
						t.Fatal(err)
					}
					id, _ := o[key].(string)
					if len(id) != 20 || seen[id] {
						t.Fatalf("id %q: not 20 characters or repeated", id)
					}
					seen[id] = true
				}
			}
		})
	}
}

func TestInventoryParameterErrors(t *testing.T) {
	s := New(Config{Now: fixedClock(t0)})
	for _, q := range []url.Values{msq("limit", "0"), msq("limit", "ten"), msq("offset", "-1"), msq("offset", "x"),
		msq("limit", "5", "limit", "6")} {
		r := do(t, s, defaultSigner(), t0, "/admin/v1/users", q)
		if r.status != 400 || decodeErr(t, r.body).Code != 40002 {
			t.Errorf("%s: %d %s, want 400 40002", q.Encode(), r.status, r.body)
		}
	}
}

// jsonCounts recounts the inventory from the JSON the simulator serves,
// independently of InventoryCounts.
func jsonCounts(t *testing.T, s *Sim, sg signer, inactiveAfter time.Duration, now time.Time, extra url.Values) InventoryCounts {
	t.Helper()
	c := InventoryCounts{Users: map[UserKey]int{}, InactiveUsers: map[string]int{}, Phones: map[PhoneKey]int{},
		Groups: map[string]int{}, Tokens: map[string]int{}, Endpoints: map[EndpointKey]int{}, Admins: map[string]int{},
		Integrations: map[string]int{}}
	type phone struct {
		ID        string `json:"phone_id"`
		Platform  string `json:"platform"`
		Activated bool   `json:"activated"`
	}
	seenPhone := map[string]bool{}
	for _, raw := range walkList(t, s, sg, "/admin/v1/users", 300, extra) {
		var u struct {
			Status    string  `json:"status"`
			Enrolled  bool    `json:"is_enrolled"`
			LastLogin *int64  `json:"last_login"`
			Phones    []phone `json:"phones"`
			Tokens    []struct {
				Type string `json:"type"`
			} `json:"tokens"`
			WebAuthn []json.RawMessage `json:"webauthncredentials"`
		}
		if err := json.Unmarshal(raw, &u); err != nil {
			t.Fatal(err)
		}
		c.Users[UserKey{u.Status, u.Enrolled}]++
		c.UsersTotal++
		if u.LastLogin == nil || now.Sub(time.Unix(*u.LastLogin, 0)) > inactiveAfter {
			c.InactiveUsers[u.Status]++
		}
		if u.Enrolled != (len(u.Phones)+len(u.Tokens)+len(u.WebAuthn) > 0) {
			t.Fatalf("is_enrolled %v with %d phones, %d tokens, %d WebAuthn", u.Enrolled, len(u.Phones), len(u.Tokens), len(u.WebAuthn))
		}
		for _, ph := range u.Phones {
			c.EmbeddedPhones++
			if !seenPhone[ph.ID] {
				seenPhone[ph.ID] = true
				c.Phones[PhoneKey{ph.Platform, ph.Activated}]++
			}
		}
		for _, tk := range u.Tokens {
			c.Tokens[tk.Type]++
		}
		c.WebAuthnCredentials += len(u.WebAuthn)
	}
	for _, raw := range walkList(t, s, sg, "/admin/v1/bypass_codes", 500, extra) {
		var b struct {
			Expiration *int64 `json:"expiration"`
		}
		if err := json.Unmarshal(raw, &b); err != nil {
			t.Fatal(err)
		}
		c.BypassCodes++
		if b.Expiration == nil || *b.Expiration > now.Unix() {
			c.ActiveBypassCodes++
		}
	}
	str := func(path, key string, m map[string]int) {
		for _, raw := range walkList(t, s, sg, path, 100, extra) {
			var o map[string]any
			if err := json.Unmarshal(raw, &o); err != nil {
				t.Fatal(err)
			}
			m[o[key].(string)]++
		}
	}
	str("/admin/v1/groups", "status", c.Groups)
	str("/admin/v1/admins", "role", c.Admins)
	str("/admin/v3/integrations", "type", c.Integrations)
	for _, raw := range walkList(t, s, sg, "/admin/v1/endpoints", 100, extra) {
		var e struct {
			OS      string `json:"os_family"`
			Trusted string `json:"trusted_endpoint"`
		}
		if err := json.Unmarshal(raw, &e); err != nil {
			t.Fatal(err)
		}
		c.Endpoints[EndpointKey{e.OS, e.Trusted}]++
	}
	c.Policies = len(walkList(t, s, sg, "/admin/v2/policies", 100, extra))
	r := do(t, s, sg, t0, summaryPath, extra)
	var sum struct {
		Response struct {
			Credits int `json:"telephony_credits_remaining"`
			Users   int `json:"user_count"`
			Pending int `json:"user_pending_deletion_count"`
		} `json:"response"`
	}
	if err := json.Unmarshal(r.body, &sum); err != nil {
		t.Fatal(err)
	}
	c.TelephonyCredits, c.UserCount, c.UserPendingDeletionCount = sum.Response.Credits, sum.Response.Users, sum.Response.Pending
	return c
}

func sameCounts(t *testing.T, got, want InventoryCounts) {
	t.Helper()
	g, _ := json.Marshal(countsView(got))
	w, _ := json.Marshal(countsView(want))
	if !bytes.Equal(g, w) {
		t.Fatalf("counts from JSON differ from InventoryCounts:\n json %s\n true %s", g, w)
	}
}

// countsView makes the counts comparable as JSON (map keys must be strings).
func countsView(c InventoryCounts) map[string]any {
	users := map[string]int{}
	for k, v := range c.Users {
		users[k.Status+"/"+strconv.FormatBool(k.Enrolled)] = v
	}
	phones := map[string]int{}
	for k, v := range c.Phones {
		phones[k.Platform+"/"+strconv.FormatBool(k.Activated)] = v
	}
	eps := map[string]int{}
	for k, v := range c.Endpoints {
		eps[k.OSFamily+"/"+k.Trusted] = v
	}
	return map[string]any{"users": users, "total": c.UsersTotal, "inactive": c.InactiveUsers, "codes": c.BypassCodes,
		"active_codes": c.ActiveBypassCodes, "phones": phones, "embedded": c.EmbeddedPhones, "groups": c.Groups,
		"credits": c.TelephonyCredits, "tokens": c.Tokens, "webauthn": c.WebAuthnCredentials, "endpoints": eps,
		"admins": c.Admins, "integrations": c.Integrations, "policies": c.Policies, "user_count": c.UserCount,
		"pending": c.UserPendingDeletionCount}
}

func TestInventoryCountsMatchJSON(t *testing.T) {
	pop := testPopulation()
	pop.Users = 3000
	pop.ShareSharedPhone = 0.1
	s := New(Config{Now: fixedClock(t0), Seed: 10, Population: &pop})
	for _, tc := range []struct {
		name          string
		inactiveAfter time.Duration
		now           time.Time
	}{
		{"generator's threshold", pop.InactiveAfter, t0},
		{"shorter threshold, later", 240 * time.Hour, t0.Add(48 * time.Hour)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := s.InventoryCounts(tc.inactiveAfter, tc.now)
			sameCounts(t, jsonCounts(t, s, defaultSigner(), tc.inactiveAfter, tc.now, nil), want)
			if want.EmbeddedPhones <= phonesTotal(want) {
				t.Errorf("no phone is shared: embedded %d, distinct %d", want.EmbeddedPhones, phonesTotal(want))
			}
		})
	}
}

func phonesTotal(c InventoryCounts) int {
	n := 0
	for _, v := range c.Phones {
		n += v
	}
	return n
}

// TestPopulationShares checks that the generator honours its shares.
func TestPopulationShares(t *testing.T) {
	pop := Population{Users: 20000, ShareUnenrolled: 0.2, ShareBypass: 0.1, ShareLockedOut: 0.05,
		ShareInactive: 0.3, ShareBypassCodes: 0.4, BypassCodesPerUser: 1, PhonesMin: 1, PhonesMax: 3,
		ShareTokens: 0.1, ShareWebAuthn: 0.1, TelephonyCredits: 42}
	s := New(Config{Now: fixedClock(t0), Seed: 11, Population: &pop})
	c := s.InventoryCounts(720*time.Hour, t0)
	share := func(n int) float64 { return float64(n) / float64(pop.Users) }
	unenrolled, bypass, locked, inactive := 0, 0, 0, 0
	for k, v := range c.Users {
		if !k.Enrolled {
			unenrolled += v
		}
		switch k.Status {
		case StatusBypass:
			bypass += v
		case StatusLockedOut:
			locked += v
		}
	}
	for _, v := range c.InactiveUsers {
		inactive += v
	}
	for _, tc := range []struct {
		name      string
		got, want float64
	}{
		{"unenrolled", share(unenrolled), 0.2}, {"bypass", share(bypass), 0.1}, {"locked out", share(locked), 0.05},
		{"inactive", share(inactive), 0.3}, {"bypass codes", share(c.BypassCodes), 0.4},
		{"phones per enrolled user", float64(c.EmbeddedPhones) / float64(pop.Users-unenrolled), 2},
	} {
		if tc.got < tc.want*0.9 || tc.got > tc.want*1.1 {
			t.Errorf("%s: %.3f, want about %.3f", tc.name, tc.got, tc.want)
		}
	}
	if c.UsersTotal != pop.Users || c.TelephonyCredits != 42 || c.ActiveBypassCodes >= c.BypassCodes || c.ActiveBypassCodes == 0 {
		t.Errorf("users %d credits %d codes %d active %d", c.UsersTotal, c.TelephonyCredits, c.BypassCodes, c.ActiveBypassCodes)
	}
}

func TestInventoryFaults(t *testing.T) {
	pop := testPopulation()
	s := New(Config{Now: fixedClock(t0), Seed: 12, Population: &pop,
		InventoryFaults: InventoryFaults{Forbidden: []string{"admins", "/admin/v3/integrations"}}})
	for _, path := range []string{"/admin/v1/admins", "/admin/v3/integrations"} {
		r := do(t, s, defaultSigner(), t0, path, nil)
		if e := decodeErr(t, r.body); r.status != 403 || e.Code != 40301 {
			t.Errorf("%s: %d %+v, want 403 40301", path, r.status, e)
		}
	}
	if r := do(t, s, defaultSigner(), t0, "/admin/v1/users", nil); r.status != 200 {
		t.Errorf("users not forbidden: %d", r.status)
	}

	// The third page of users fails twice, then is served.
	s.SetInventoryFaults(InventoryFaults{FailPages: []PageFault{{Resource: "users", Offset: 600, Times: 2},
		{Resource: "/admin/v1/groups", Offset: 0, Status: 503}}})
	for i, want := range []int{500, 500, 200, 200} {
		if r := do(t, s, defaultSigner(), t0, "/admin/v1/users", msq("offset", "600", "limit", "300")); r.status != want {
			t.Errorf("request %d of page 3: %d, want %d", i, r.status, want)
		}
	}
	if r := do(t, s, defaultSigner(), t0, "/admin/v1/users", msq("offset", "300", "limit", "300")); r.status != 200 {
		t.Errorf("page 2: %d", r.status)
	}
	for i := 0; i < 3; i++ {
		if r := do(t, s, defaultSigner(), t0, "/admin/v1/groups", nil); r.status != 503 {
			t.Errorf("groups page 1: %d, want 503 every time", r.status)
		}
	}

	// Short pages: the walk still reaches every object.
	s.SetInventoryFaults(InventoryFaults{MaxPage: 33})
	p, _ := getPage(t, s, defaultSigner(), "/admin/v1/users", msq("limit", "300"))
	if len(p.Response) != 33 || *p.Metadata.NextOffset != 33 {
		t.Fatalf("short page: %d objects, next %v", len(p.Response), *p.Metadata.NextOffset)
	}
	if n := len(walkList(t, s, defaultSigner(), "/admin/v1/users", 300, nil)); n != pop.Users {
		t.Fatalf("walk with short pages read %d of %d users", n, pop.Users)
	}
}

// TestInventorySecrets: integrations carry a recognisable secret_key, bypass
// codes never carry a code.
func TestInventorySecrets(t *testing.T) {
	s := New(Config{Now: fixedClock(t0), Seed: 13})
	keys := s.Account("").IntegrationSecretKeys()
	if len(keys) != DefaultPopulation().Integrations {
		t.Fatalf("%d secret keys", len(keys))
	}
	body := do(t, s, defaultSigner(), t0, "/admin/v3/integrations", nil).body
	for _, k := range keys {
		if len(k) != 40 || !strings.HasPrefix(k, IntegrationSecretPrefix) || !bytes.Contains(body, []byte(`"secret_key":"`+k+`"`)) {
			t.Errorf("secret_key %q not served as a 40-character %s… value", k, IntegrationSecretPrefix)
		}
	}
	for _, raw := range walkList(t, s, defaultSigner(), "/admin/v1/bypass_codes", 0, nil) {
		var o map[string]any
		if err := json.Unmarshal(raw, &o); err != nil {
			t.Fatal(err)
		}
		for k := range o {
			if k == "code" || k == "codes" || k == "bypass_code" {
				t.Fatalf("bypass code object carries %q", k)
			}
		}
		if u, ok := o["user"].(map[string]any); !ok || u["user_id"] == nil {
			t.Fatalf("bypass code without embedded user: %s", raw)
		}
	}
}

func TestInventoryUnpaged(t *testing.T) {
	s := New(Config{Now: fixedClock(t0), Seed: 14})
	c := s.InventoryCounts(720*time.Hour, t0)
	for _, tc := range []struct{ path, want string }{
		{"/admin/v2/policies/summary", `"policy_count":` + strconv.Itoa(c.Policies) + `,"response_is_truncated":false`},
		{"/admin/v1/settings", `"lockout_threshold":10`},
		{summaryPath, `"telephony_credits_remaining":960,"user_count":` + strconv.Itoa(c.UserCount) +
			`,"user_pending_deletion_count":` + strconv.Itoa(c.UserPendingDeletionCount) + `}`},
	} {
		r := do(t, s, defaultSigner(), t0, tc.path, msq("offset", "5"))
		var v struct {
			Stat     string         `json:"stat"`
			Response map[string]any `json:"response"`
		}
		if err := json.Unmarshal(r.body, &v); err != nil || r.status != 200 || v.Stat != "OK" {
			t.Fatalf("%s: %d %v %s", tc.path, r.status, err, r.body)
		}
		if !strings.Contains(string(r.body), tc.want) {
			t.Errorf("%s: %s lacks %s", tc.path, r.body, tc.want)
		}
	}
}

func TestInventoryDeterministic(t *testing.T) {
	render := func(seed int64) []byte {
		s := New(Config{Now: fixedClock(t0), Seed: seed})
		var out []byte
		for _, name := range Resources() {
			out = append(out, do(t, s, defaultSigner(), t0, ResourcePath(name), nil).body...)
		}
		return out
	}
	a, b, c := render(1), render(1), render(2)
	if !bytes.Equal(a, b) {
		t.Error("same seed, different inventory")
	}
	if bytes.Equal(a, c) {
		t.Error("different seeds, same inventory")
	}
}
