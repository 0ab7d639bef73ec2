// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package mapping

import (
	"fmt"
	"hash/maphash"
	"strings"
	"time"

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

// Add counts one object of resource r, read from its values in the page's tokenizer pass
// (a record that did not come from the client is read here). An object a member of the
// wrong type makes unreadable is an error, and is not counted.
func (p *Posture) Add(r duoapi.Resource, rec duoapi.Record) error {
	obj, err := recordValue(rec)
	if err != nil {
		return err
	}
	switch r {
	case duoapi.Users:
		var u userObject
		if err := u.read(obj); err != nil {
			return err
		}
		p.addUser(&u)
	case duoapi.BypassCodes:
		var b bypassObject
		if err := b.read(obj); err != nil {
			return err
		}
		// Active: no expiration, or one after the snapshot (docs/duo-inventory.md §1.3).
		if b.Expiration == nil || int64(*b.Expiration) > p.now.Unix() {
			p.bypass++
		}
	case duoapi.Groups:
		var g statusObject
		if err := g.read(obj); err != nil {
			return err
		}
		p.groups[strings.ToLower(g.Status)]++
	case duoapi.Endpoints:
		var e endpointObject
		if err := e.read(obj); err != nil {
			return err
		}
		p.endpoints[endpointKey{e.OSFamily, scalarString(e.Trusted)}]++
	case duoapi.Policies:
		p.policies++
	case duoapi.Admins:
		var a roleObject
		if err := a.read(obj); err != nil {
			return err
		}
		p.admins[a.Role]++
	case duoapi.Integrations:
		var i typeObject
		if err := i.read(obj); err != nil {
			return err
		}
		p.apps[i.Type]++
	case duoapi.Summary:
		var s summaryObject
		if err := s.read(obj); err != nil {
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
