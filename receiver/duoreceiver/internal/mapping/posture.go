// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package mapping

import (
	"fmt"
	"hash/maphash"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/duoapi"
	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/metadata"
)

// Posture counts one inventory snapshot, object by object, into the posture gauges. It
// keeps counters only, plus the hashes of the phone and token ids seen (a phone or token
// may serve up to 100 users, docs/duo-inventory.md §1.3, and is counted once): a 50,000-user
// account costs a few megabytes, never the objects themselves. Not safe for concurrent use.
type Posture struct {
	now           time.Time
	inactiveAfter time.Duration
	read          map[duoapi.Resource]bool

	users      map[userKey]int64
	inactive   map[string]int64
	phones     map[phoneKey]int64
	phoneSeen  map[uint64]struct{}
	tokens     map[string]int64
	tokenSeen  map[uint64]struct{}
	webauthn   int64
	bypass     int64
	groups     map[string]int64
	endpoints  map[endpointKey]int64
	admins     map[string]int64
	apps       map[string]int64
	policies   int64
	credits    int64
	hasCredits bool
	seed       maphash.Seed
}

type userKey struct {
	status   string
	enrolled bool
}

type phoneKey struct {
	platform  string
	activated bool
}

type endpointKey struct {
	osFamily string
	trusted  string
}

// NewPosture starts the counts of a snapshot taken at now: a user is inactive when their
// last login is more than inactiveAfter before now, or missing.
func NewPosture(now time.Time, inactiveAfter time.Duration) *Posture {
	return &Posture{
		now: now, inactiveAfter: inactiveAfter, read: map[duoapi.Resource]bool{},
		users: map[userKey]int64{}, inactive: map[string]int64{},
		phones: map[phoneKey]int64{}, phoneSeen: map[uint64]struct{}{},
		tokens: map[string]int64{}, tokenSeen: map[uint64]struct{}{},
		groups: map[string]int64{}, endpoints: map[endpointKey]int64{},
		admins: map[string]int64{}, apps: map[string]int64{},
		seed: maphash.MakeSeed(),
	}
}

// Read marks resource r as read in full, so that its gauges are recorded even when it
// held no object (zero is then a true count, not a missing one).
func (p *Posture) Read(r duoapi.Resource) { p.read[r] = true }

// The members of each object the gauges need; everything else is skipped by the decoder.
type (
	userObject struct {
		Status     string  `json:"status"`
		IsEnrolled bool    `json:"is_enrolled"`
		LastLogin  *number `json:"last_login"`
		Phones     []struct {
			PhoneID   string `json:"phone_id"`
			Platform  string `json:"platform"`
			Activated bool   `json:"activated"`
		} `json:"phones"`
		Tokens []struct {
			TokenID string `json:"token_id"`
			Type    string `json:"type"`
		} `json:"tokens"`
		WebAuthn []struct{} `json:"webauthncredentials"`
	}
	bypassObject struct {
		Expiration *number `json:"expiration"`
	}
	statusObject struct {
		Status string `json:"status"`
	}
	endpointObject struct {
		OSFamily string `json:"os_family"`
		Trusted  any    `json:"trusted_endpoint"`
	}
	roleObject struct {
		Role string `json:"role"`
	}
	typeObject struct {
		Type string `json:"type"`
	}
	summaryObject struct {
		Credits *number `json:"telephony_credits_remaining"`
	}
)

// number is a JSON number or a numeric string (Duo sends both for times, docs/duo-api.md
// §1.5); null leaves the pointer nil.
type number float64

func (n *number) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "" {
		return nil
	}
	// This runs for every user's last_login: strconv first, which halves the cost of
	// decoding a user; fmt.Sscan only for what strconv refuses, so that the values read
	// stay those read before (Sscan also takes a number followed by other text).
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		if _, err := fmt.Sscan(s, &f); err != nil {
			return fmt.Errorf("not a number: %s", b)
		}
	}
	*n = number(f)
	return nil
}

// unmarshalOptions accept what Duo may send: repeated names (the last wins) and invalid
// UTF-8, as the body decoder does.
var unmarshalOptions = json.JoinOptions(jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))

func unmarshal(raw string, dst any) error {
	return json.UnmarshalRead(strings.NewReader(raw), dst, unmarshalOptions)
}

// Add counts one object of resource r, its JSON as Duo sent it. The object is read from
// the string itself (UnmarshalRead), not from a copy of it.
func (p *Posture) Add(r duoapi.Resource, raw string) error {
	switch r {
	case duoapi.Users:
		var u userObject
		if err := unmarshal(raw, &u); err != nil {
			return err
		}
		p.addUser(&u)
	case duoapi.BypassCodes:
		var b bypassObject
		if err := unmarshal(raw, &b); err != nil {
			return err
		}
		// Active: no expiration, or one after the snapshot (docs/duo-inventory.md §1.3).
		if b.Expiration == nil || int64(*b.Expiration) > p.now.Unix() {
			p.bypass++
		}
	case duoapi.Groups:
		var g statusObject
		if err := unmarshal(raw, &g); err != nil {
			return err
		}
		p.groups[strings.ToLower(g.Status)]++
	case duoapi.Endpoints:
		var e endpointObject
		if err := unmarshal(raw, &e); err != nil {
			return err
		}
		p.endpoints[endpointKey{e.OSFamily, scalarString(e.Trusted)}]++
	case duoapi.Policies:
		p.policies++
	case duoapi.Admins:
		var a roleObject
		if err := unmarshal(raw, &a); err != nil {
			return err
		}
		p.admins[a.Role]++
	case duoapi.Integrations:
		var i typeObject
		if err := unmarshal(raw, &i); err != nil {
			return err
		}
		p.apps[i.Type]++
	case duoapi.Summary:
		var s summaryObject
		if err := unmarshal(raw, &s); err != nil {
			return err
		}
		if s.Credits != nil {
			p.credits, p.hasCredits = int64(*s.Credits), true
		}
	}
	return nil
}

func (p *Posture) addUser(u *userObject) {
	status := UserStatus(u.Status)
	p.users[userKey{status, u.IsEnrolled}]++
	if u.LastLogin == nil || p.now.Sub(time.Unix(int64(*u.LastLogin), 0)) > p.inactiveAfter {
		p.inactive[status]++
	}
	for _, ph := range u.Phones {
		if p.firstSight(p.phoneSeen, ph.PhoneID) {
			p.phones[phoneKey{ph.Platform, ph.Activated}]++
		}
	}
	for _, t := range u.Tokens {
		if p.firstSight(p.tokenSeen, t.TokenID) {
			p.tokens[t.Type]++
		}
	}
	p.webauthn += int64(len(u.WebAuthn))
}

// firstSight reports whether id is new to seen, and remembers it. An object without an
// id cannot be matched across users and is counted each time.
func (p *Posture) firstSight(seen map[uint64]struct{}, id string) bool {
	if id == "" {
		return true
	}
	h := maphash.String(p.seed, id)
	if _, ok := seen[h]; ok {
		return false
	}
	seen[h] = struct{}{}
	return true
}

// UserStatus is Duo's user status as the duo.user.status value: Duo writes "locked out"
// and "pending deletion" with a space (docs/duo-inventory.md §1.2), attribute values use
// underscores.
func UserStatus(s string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), " ", "_")
}

func scalarString(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case bool:
		if t {
			return "true"
		}
		return "false"
	default:
		return fmt.Sprint(t)
	}
}

// Record writes the gauges of every resource read in full into mb at ts. Resources not
// read (disabled, or refused by Duo) get no data point rather than a false zero.
func (p *Posture) Record(mb *metadata.MetricsBuilder, ts pcommon.Timestamp) {
	if p.read[duoapi.Users] {
		for k, n := range p.users {
			mb.RecordDuoUsersDataPoint(ts, n, k.status, k.enrolled)
		}
		recordByValue(ts, p.inactive, mb.RecordDuoUsersInactiveDataPoint)
		for k, n := range p.phones {
			mb.RecordDuoPhonesDataPoint(ts, n, k.platform, k.activated)
		}
		recordByValue(ts, p.tokens, mb.RecordDuoTokensDataPoint)
		mb.RecordDuoWebauthnCredentialsDataPoint(ts, p.webauthn)
	}
	if p.read[duoapi.BypassCodes] {
		mb.RecordDuoBypassCodesDataPoint(ts, p.bypass)
	}
	if p.read[duoapi.Groups] {
		recordByValue(ts, p.groups, mb.RecordDuoGroupsDataPoint)
	}
	if p.read[duoapi.Endpoints] {
		for k, n := range p.endpoints {
			mb.RecordDuoEndpointsDataPoint(ts, n, k.osFamily, k.trusted)
		}
	}
	if p.read[duoapi.Policies] {
		mb.RecordDuoPoliciesDataPoint(ts, p.policies)
	}
	if p.read[duoapi.Admins] {
		recordByValue(ts, p.admins, mb.RecordDuoAdminsDataPoint)
	}
	if p.read[duoapi.Integrations] {
		recordByValue(ts, p.apps, mb.RecordDuoIntegrationsDataPoint)
	}
	if p.read[duoapi.Summary] && p.hasCredits {
		mb.RecordDuoTelephonyCreditsRemainingDataPoint(ts, p.credits)
	}
}

// EmitMetrics returns what was recorded into mb as one ResourceMetrics carrying the same
// resource attributes as the logs (each can be turned off under resource_attributes).
func EmitMetrics(mb *metadata.MetricsBuilder, res Resource) pmetric.Metrics {
	rb := mb.NewResourceBuilder()
	rb.SetDuoAPIHostname(res.APIHost)
	if res.AccountID != "" {
		rb.SetDuoAccountID(res.AccountID)
	}
	if res.AccountName != "" {
		rb.SetDuoAccountName(res.AccountName)
	}
	return mb.Emit(metadata.WithResource(rb.Emit()))
}

// recordByValue writes one data point per attribute value counted in counts: the gauges
// whose only attribute is a string.
func recordByValue(ts pcommon.Timestamp, counts map[string]int64, record func(pcommon.Timestamp, int64, string)) {
	for v, n := range counts {
		record(ts, n, v)
	}
}
