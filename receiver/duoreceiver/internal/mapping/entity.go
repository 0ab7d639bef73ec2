// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package mapping

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/duoapi"
)

// Entity logs: one record per inventory object per snapshot (docs/duo-inventory.md §5.1).
// They follow the OpenTelemetry entity events where those fit: entity.type, entity.id (a
// map holding the object's Duo id) and entity.report.interval (the snapshot interval, so
// a backend expires objects whose records stop). They depart from them in the EventName,
// duo.<object> rather than entity.state, so that one filter on EventName keeps Duo's users
// apart from any other entity; and no entity.delete is sent: an object missing from a
// later snapshot is gone from Duo, which the shared duo.inventory.snapshot.id lets a
// backend see.

// Snapshot identifies one inventory snapshot to its entity records.
type Snapshot struct {
	// ID is the same on every record of the snapshot (duo.inventory.snapshot.id).
	ID string
	// Time is when the snapshot started: the records' Timestamp.
	Time time.Time
	// Interval is the time between snapshots (entity.report.interval).
	Interval time.Duration
}

// Attribute keys of the entity records.
const (
	AttrSnapshotID     = "duo.inventory.snapshot.id"
	attrEntityType     = "entity.type"
	attrEntityID       = "entity.id"
	attrEntityInterval = "entity.report.interval"
)

// entityMapping is what differs per inventory resource.
type entityMapping struct {
	eventName string
	idAttr    string // the key of the object's id in entity.id
	// secrets are members removed from the body before anything else sees it.
	secrets    []string
	attributes func(attrs, body pcommon.Map)
}

// secretKeys are removed from every object, at any depth: an integration's secret_key
// always (docs/duo-inventory.md §1.1), and an SSO application's client secret. Duo adds
// members and nests settings, so a secret is not looked for at the top level only.
var secretKeys = []string{"secret_key", "client_secret"}

var entities = map[duoapi.Resource]entityMapping{
	duoapi.Users:        {"duo.user", "duo.user.id", nil, userAttributes},
	duoapi.BypassCodes:  {"duo.bypass_code", "duo.bypass_code.id", []string{"bypass_code", "codes"}, bypassCodeAttributes},
	duoapi.Groups:       {"duo.group", "duo.group.id", nil, groupAttributes},
	duoapi.Endpoints:    {"duo.endpoint", "duo.endpoint.id", nil, endpointAttributes},
	duoapi.Policies:     {"duo.policy", "duo.policy.key", nil, policyAttributes},
	duoapi.Summary:      {"duo.summary", "", nil, func(pcommon.Map, pcommon.Map) {}},
	duoapi.Admins:       {"duo.admin", "duo.admin.id", nil, adminEntityAttributes},
	duoapi.Integrations: {"duo.integration", "duo.integration.key", nil, integrationAttributes},
	duoapi.Settings:     {"duo.settings", "", nil, func(pcommon.Map, pcommon.Map) {}},
}

// ErrNoID is returned for a listed object without its id: it cannot be told apart from
// the others, so it is not delivered.
var ErrNoID = errors.New("inventory object has no id")

// HasEntity reports whether r's objects become entity records.
func HasEntity(r duoapi.Resource) bool {
	_, ok := entities[r]
	return ok
}

// AppendEntity maps one inventory object of resource r into a new record at the end of
// lrs. rec.ID is the object's id (empty is ErrNoID for a list; for a single object,
// summary or settings, the resource name stands in). Body: the object as Duo sent it minus
// secrets. On error nothing is appended.
func AppendEntity(lrs plog.LogRecordSlice, r duoapi.Resource, rec duoapi.Record, snap Snapshot, observed time.Time) error {
	em, ok := entities[r]
	if !ok {
		return fmt.Errorf("no entity mapping for inventory resource %q", string(r))
	}
	id := rec.ID
	if em.idAttr != "" && id == "" {
		return ErrNoID
	}
	if id == "" {
		id = string(r)
	}
	obj, err := recordValue(rec)
	if err != nil {
		return fmt.Errorf("failed to decode %s object: %w", string(r), err)
	}
	lr := lrs.AppendEmpty()
	body := lr.Body().SetEmptyMap()
	if err := putMap(body, obj, 1); err != nil {
		removeLast(lrs)
		return fmt.Errorf("failed to decode %s object: %w", string(r), err)
	}
	RemoveSecrets(r, body)
	lr.SetTimestamp(pcommon.NewTimestampFromTime(snap.Time))
	lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(observed))
	lr.SetEventName(em.eventName)
	lr.SetSeverityNumber(plog.SeverityNumberInfo)
	lr.SetSeverityText("INFO")
	attrs := lr.Attributes()
	attrs.EnsureCapacity(16)
	attrs.PutStr(AttrSnapshotID, snap.ID)
	attrs.PutStr(attrLogRecordUID, EntityUID(snap.ID, r, id))
	attrs.PutStr(attrEntityType, em.eventName)
	eid := attrs.PutEmptyMap(attrEntityID)
	if em.idAttr != "" {
		eid.PutStr(em.idAttr, id)
	} else {
		eid.PutStr("duo.inventory.resource", string(r))
	}
	if snap.Interval > 0 {
		attrs.PutInt(attrEntityInterval, int64(snap.Interval/time.Second))
	}
	em.attributes(attrs, body)
	return nil
}

// RemoveSecrets deletes from an object of resource r every member that may hold a secret:
// secretKeys wherever they are, and r's own secrets at the top level.
func RemoveSecrets(r duoapi.Resource, body pcommon.Map) {
	removeNested(body)
	for _, k := range entities[r].secrets {
		body.Remove(k)
	}
}

// removeNested deletes secretKeys from m and from every map inside it, in lists too.
func removeNested(m pcommon.Map) {
	m.RemoveIf(func(k string, v pcommon.Value) bool {
		if slices.Contains(secretKeys, k) {
			return true
		}
		removeNestedValue(v)
		return false
	})
}

func removeNestedValue(v pcommon.Value) {
	switch v.Type() {
	case pcommon.ValueTypeMap:
		removeNested(v.Map())
	case pcommon.ValueTypeSlice:
		sl := v.Slice()
		for i := 0; i < sl.Len(); i++ {
			removeNestedValue(sl.At(i))
		}
	}
}

// EntityUID is the log.record.uid of object id of resource r in snapshot snapID: unique to
// that object in that snapshot, the same if the snapshot's record is sent again.
func EntityUID(snapID string, r duoapi.Resource, id string) string {
	h := sha256.New()
	for _, s := range []string{snapID, string(r), id} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

func userAttributes(attrs, body pcommon.Map) {
	copyStr(attrs, "user.id", pmap{body}, "user_id")
	copyStr(attrs, "user.name", pmap{body}, "username")
	copyStr(attrs, "user.email", pmap{body}, "email")
	copyStr(attrs, "user.full_name", pmap{body}, "realname")
	if s, ok := (pmap{body}).str("status"); ok {
		attrs.PutStr("duo.user.status", UserStatus(s))
	}
	copyBool(attrs, "duo.user.is_enrolled", pmap{body}, "is_enrolled")
	putUnixTime(attrs, "duo.user.last_login", body, "last_login")
	copyNested(attrs, "duo.user.groups", body, "groups", "name")
	copyNested(attrs, "duo.user.phone.platforms", body, "phones", "platform")
}

func bypassCodeAttributes(attrs, body pcommon.Map) {
	copyStr(attrs, "duo.bypass_code.id", pmap{body}, "bypass_code_id")
	putUnixTime(attrs, "duo.bypass_code.expiration", body, "expiration")
	if u, ok := (pmap{body}).obj("user"); ok {
		copyStr(attrs, "user.id", u, "user_id")
		copyStr(attrs, "user.name", u, "username")
	}
}

func groupAttributes(attrs, body pcommon.Map) {
	copyStr(attrs, "duo.group.id", pmap{body}, "group_id")
	copyStr(attrs, "duo.group.name", pmap{body}, "name")
	copyStr(attrs, "duo.group.status", pmap{body}, "status")
}

func endpointAttributes(attrs, body pcommon.Map) {
	copyStr(attrs, "duo.endpoint.id", pmap{body}, "epkey")
	copyStr(attrs, "user.name", pmap{body}, "username")
	copyStr(attrs, "user.email", pmap{body}, "email")
	copyStr(attrs, "duo.endpoint.os_family", pmap{body}, "os_family")
	copyStr(attrs, "duo.endpoint.trusted", pmap{body}, "trusted_endpoint")
}

func policyAttributes(attrs, body pcommon.Map) {
	copyStr(attrs, "duo.policy.key", pmap{body}, "policy_key")
	copyStr(attrs, "duo.policy.name", pmap{body}, "policy_name")
	copyBool(attrs, "duo.policy.is_global", pmap{body}, "is_global_policy")
}

func adminEntityAttributes(attrs, body pcommon.Map) {
	copyStr(attrs, "duo.admin.id", pmap{body}, "admin_id")
	copyStr(attrs, "duo.admin.email", pmap{body}, "email")
	copyStr(attrs, "duo.admin.name", pmap{body}, "name")
	copyStr(attrs, "duo.admin.role", pmap{body}, "role")
}

func integrationAttributes(attrs, body pcommon.Map) {
	copyStr(attrs, "duo.integration.key", pmap{body}, "integration_key")
	copyStr(attrs, "duo.integration.name", pmap{body}, "name")
	copyStr(attrs, "duo.integration.type", pmap{body}, "type")
}

// putUnixTime sets attr to m[key], a Unix time in seconds (a number or a numeric string),
// as an RFC 3339 string; nothing when it is null or not a number.
func putUnixTime(attrs pcommon.Map, attr string, m pcommon.Map, key string) {
	v, ok := m.Get(key)
	if !ok {
		return
	}
	var sec int64
	switch v.Type() {
	case pcommon.ValueTypeInt:
		sec = v.Int()
	case pcommon.ValueTypeDouble:
		sec = int64(v.Double())
	case pcommon.ValueTypeStr:
		// Duo sends some times as numeric strings (docs/duo-api.md §1.5); the posture
		// counts read them, so the record does too.
		f, err := strconv.ParseFloat(v.Str(), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return
		}
		sec = int64(f)
	default:
		return
	}
	attrs.PutStr(attr, time.Unix(sec, 0).UTC().Format(time.RFC3339))
}

// copyNested sets attr to the distinct present strings m[key][*][field], in order; no
// attribute if none.
func copyNested(attrs pcommon.Map, attr string, m pcommon.Map, key, field string) {
	v, ok := m.Get(key)
	if !ok || v.Type() != pcommon.ValueTypeSlice {
		return
	}
	var out pcommon.Slice
	seen := map[string]bool{}
	for _, e := range v.Slice().All() {
		if e.Type() != pcommon.ValueTypeMap {
			continue
		}
		s, ok := pmap{e.Map()}.str(field)
		if !ok || seen[s] {
			continue
		}
		if len(seen) == 0 {
			out = attrs.PutEmptySlice(attr)
		}
		seen[s] = true
		out.AppendEmpty().SetStr(s)
	}
}
