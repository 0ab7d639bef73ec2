// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duosim

import (
	"encoding/json"
	"net/url"
	"slices"
	"testing"
	"time"
)

// authFields is what the test reads of a served authentication record to
// decide, on its own, whether a filter should let it through.
type authFields struct {
	TxID        string  `json:"txid"`
	EventType   *string `json:"event_type"`
	Factor      *string `json:"factor"`
	Reason      string  `json:"reason"`
	Result      string  `json:"result"`
	Application struct {
		Key string `json:"key"`
	} `json:"application"`
	AuthDevice struct {
		Name *string `json:"name"`
		Key  *string `json:"key"`
	} `json:"auth_device"`
	User struct {
		Key    string   `json:"key"`
		Groups []string `json:"groups"`
	} `json:"user"`
}

func (a authFields) matches(q url.Values, groupName map[string]string) bool {
	in := func(name, v string) bool { return slices.Contains(q[name], v) }
	deref := func(p *string) string {
		if p == nil {
			return "\x00null"
		}
		return *p
	}
	for name := range q {
		var ok bool
		switch name {
		case "users":
			ok = in(name, a.User.Key)
		case "groups":
			for _, id := range q[name] {
				ok = ok || slices.Contains(a.User.Groups, groupName[id])
			}
		case "applications":
			ok = in(name, a.Application.Key)
		case "event_types":
			ok = in(name, deref(a.EventType))
		case "results":
			ok = in(name, a.Result)
		case "reasons":
			ok = in(name, a.Reason)
		case "factors":
			ok = in(name, deref(a.Factor))
		case "phone_numbers":
			ok = in(name, deref(a.AuthDevice.Name))
		case "tokens":
			ok = in(name, deref(a.AuthDevice.Key))
		default:
			continue
		}
		if !ok {
			return false
		}
	}
	return true
}

func TestAuthFilters(t *testing.T) {
	s := New(Config{Now: fixedClock(t0), Seed: 21})
	s.Backfill("authentication", 3000, t0.Add(-5*time.Hour), t0.Add(-time.Hour))
	dir := s.Account("").AuthDirectory()
	if len(dir.Users) == 0 || len(dir.Groups) != len(groupNames) || len(dir.Applications) == 0 {
		t.Fatalf("directory %+v", dir)
	}

	var all []authFields
	for _, ev := range s.Events("authentication") {
		var a authFields
		if err := json.Unmarshal(ev.Raw, &a); err != nil {
			t.Fatal(err)
		}
		all = append(all, a)
	}
	// Values that occur in the data, for the filters on free-form fields.
	var phone, token, user1, user2, group, app string
	for _, a := range all {
		if phone == "" && a.AuthDevice.Name != nil {
			phone = *a.AuthDevice.Name
		}
		if token == "" && a.AuthDevice.Key != nil {
			token = *a.AuthDevice.Key
		}
	}
	for k := range dir.Users {
		if user1 == "" {
			user1 = k
		} else if user2 == "" {
			user2 = k
		}
	}
	for id, name := range dir.Groups {
		if name == "Finance" {
			group = id
		}
	}
	for k := range dir.Applications {
		app = k
		break
	}

	base := func() url.Values {
		return msq("mintime", ms(t0.Add(-6*time.Hour)), "maxtime", ms(t0), "limit", "100", "sort", "ts:asc")
	}
	tests := []struct {
		name    string
		filters url.Values
		empty   bool
	}{
		{name: "users, two values ORed", filters: url.Values{"users": {user1, user2}}},
		{name: "groups", filters: url.Values{"groups": {group}}},
		{name: "applications", filters: url.Values{"applications": {app}}},
		{name: "event_types enrollment", filters: url.Values{"event_types": {"enrollment"}}},
		{name: "results denied or fraud", filters: url.Values{"results": {"denied", "fraud"}}},
		{name: "reasons", filters: url.Values{"reasons": {"no_response", "user_marked_fraud"}}},
		{name: "factors", filters: url.Values{"factors": {"duo_push", "phone_call"}}},
		{name: "phone_numbers", filters: url.Values{"phone_numbers": {phone}}},
		{name: "tokens", filters: url.Values{"tokens": {token}}},
		{name: "two filters ANDed", filters: url.Values{"results": {"success"}, "factors": {"duo_push"}, "groups": {group}}},
		{name: "unknown value", filters: url.Values{"results": {"maybe"}}, empty: true},
		{name: "comma-joined values are one value", filters: url.Values{"results": {"success,denied"}}, empty: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var want []string
			for _, a := range all {
				if a.matches(tc.filters, dir.Groups) {
					want = append(want, a.TxID)
				}
			}
			if tc.empty != (len(want) == 0) || len(want) == len(all) {
				t.Fatalf("%d of %d records match: the case does not test the filter", len(want), len(all))
			}
			q := base()
			for k, v := range tc.filters {
				q[k] = v
			}
			for _, sort := range []string{"ts:asc", "ts:desc"} {
				q.Set("sort", sort)
				got, _, total := walk(t, s, "authentication", t0, q)
				w := slices.Clone(want)
				if sort == "ts:desc" {
					slices.Reverse(w)
				}
				if !slices.Equal(got, w) || total != len(want) {
					t.Fatalf("%s: served %d records (total_objects %d), want %d", sort, len(got), total, len(want))
				}
			}
			if got := eventIDs(s.Account("").FilteredAuth(tc.filters)); !slices.Equal(got, want) {
				t.Fatalf("FilteredAuth gives %d records, want %d", len(got), len(want))
			}
		})
	}
}

// TestFiltersOnlyOnAuthentication: other log types ignore the names.
func TestFiltersOnlyOnAuthentication(t *testing.T) {
	s := New(Config{Now: fixedClock(t0), Seed: 22})
	s.Backfill("telephony", 50, t0.Add(-5*time.Hour), t0.Add(-time.Hour))
	q := msq("mintime", ms(t0.Add(-6*time.Hour)), "maxtime", ms(t0), "limit", "1000", "results", "nothing")
	got, _, _ := walk(t, s, "telephony", t0, q)
	if len(got) != 50 {
		t.Fatalf("telephony with a results parameter served %d of 50", len(got))
	}
}
