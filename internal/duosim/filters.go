// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duosim

import (
	"net/url"
	"slices"
	"time"
)

// Authentication log filters (INVENTORY.md 3.1). Duo's clients send each
// list as a repeated parameter (users=A&users=B), signed like any other;
// the simulator reads exactly that and does not split values on commas.
// Values within one filter are ORed (documented); different filters are
// ANDed, which is the simulator's assumption: Duo does not say.

// AuthFilterParams lists the filter parameters the simulator applies to
// /admin/v2/logs/authentication.
var AuthFilterParams = []string{"users", "groups", "applications", "event_types", "results",
	"reasons", "factors", "phone_numbers", "tokens"}

// authAttrs are the fields of one authentication record the filters look
// at, filled while it is rendered.
type authAttrs struct {
	user       string   // user.key
	groups     []string // the user's group names
	app        string   // application.key
	eventType  string   // "" when null
	result     string
	reason     string
	factor     string // "" when null
	deviceName string // auth_device.name; "" when null
	deviceKey  string // auth_device.key; "" when absent or null
}

// authFilter holds the filters of one request: parameter → accepted values.
type authFilter struct {
	sets     map[string]map[string]bool
	groupIDs map[string]string // group name → group_id, for the groups filter
}

func parseAuthFilter(q url.Values, p *pools) *authFilter {
	var f *authFilter
	for _, name := range AuthFilterParams {
		vs := q[name]
		if len(vs) == 0 {
			continue
		}
		if f == nil {
			f = &authFilter{sets: map[string]map[string]bool{}, groupIDs: p.groupIDs}
		}
		set := make(map[string]bool, len(vs))
		for _, v := range vs {
			set[v] = true
		}
		f.sets[name] = set
	}
	return f
}

func (f *authFilter) match(at *authAttrs) bool {
	for name, set := range f.sets {
		ok := false
		switch name {
		case "users":
			ok = set[at.user]
		case "groups":
			for _, g := range at.groups {
				ok = ok || set[f.groupIDs[g]]
			}
		case "applications":
			ok = set[at.app]
		case "event_types":
			ok = at.eventType != "" && set[at.eventType]
		case "results":
			ok = set[at.result]
		case "reasons":
			ok = set[at.reason]
		case "factors":
			ok = at.factor != "" && set[at.factor]
		case "phone_numbers":
			ok = at.deviceName != "" && set[at.deviceName]
		case "tokens":
			ok = at.deviceKey != "" && set[at.deviceKey]
		}
		if !ok {
			return false
		}
	}
	return true
}

// attrs renders authentication record r into scratch and returns the
// fields the filters need.
func (ac *Account) attrs(ti *typeInfo, r rec, scratch []byte) (authAttrs, []byte) {
	var at authAttrs
	g := newRNG(ac.seed^ti.salt, r.h)
	scratch = ac.renderAuth(scratch[:0], &g, time.UnixMicro(r.t).UTC(), r.h, &at)
	return at, scratch
}

// AuthDirectory names the users, groups and applications that appear in an
// account's authentication logs, so a test can choose filter values.
type AuthDirectory struct {
	// Users maps user.key (the users filter's value) to user.name.
	Users map[string]string
	// Groups maps group_id (the groups filter's value) to the group name
	// found in user.groups.
	Groups map[string]string
	// Applications maps application.key to application.name.
	Applications map[string]string
}

// AuthDirectory returns the account's directory.
func (ac *Account) AuthDirectory() AuthDirectory {
	ac.ensure()
	d := AuthDirectory{Users: map[string]string{}, Groups: map[string]string{}, Applications: map[string]string{}}
	for _, u := range ac.pools.users {
		d.Users[u.key] = u.username
	}
	for name, id := range ac.pools.groupIDs {
		d.Groups[id] = name
	}
	for _, a := range ac.pools.apps {
		d.Applications[a.key] = a.name
	}
	return d
}

// FilteredAuth returns the account's authentication events that the
// filters in q (AuthFilterParams, as repeated values) let through, in
// serving order, whether visible yet or not.
func (ac *Account) FilteredAuth(q url.Values) []Event {
	ac.ensure()
	ti := ac.stores["authentication"].ti
	f := parseAuthFilter(q, ac.pools)
	var scratch []byte
	return ac.collect("authentication", func(r rec) bool {
		if f == nil {
			return true
		}
		var at authAttrs
		at, scratch = ac.attrs(ti, r, scratch)
		return f.match(&at)
	})
}

// groupIDsOf gives each group name of the log pools a Duo-style group_id,
// from a stream of its own so the pools render as before.
func groupIDsOf(seed uint64, names []string) map[string]string {
	r := newRNG(seed, 0x6e0b1d)
	m := make(map[string]string, len(names))
	for _, n := range slices.Clone(names) {
		m[n] = r.key("DG")
	}
	return m
}
