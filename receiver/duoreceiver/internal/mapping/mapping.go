// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

// Package mapping turns Duo log records (raw JSON) into OTLP log records. It knows nothing
// of HTTP or of the collector's pipeline.
//
// Each record becomes one LogRecord: Timestamp is the event's time (the observed time when
// the record has none readable), ObservedTimestamp when the receiver got it, EventName
// "duo.<log_type>", log.record.uid the Duo event id, Body the whole record as a map
// (built from the page's one tokenizer pass, so nothing Duo sends is lost; or, with
// AppendJSON, the record's JSON text, the attributes then read from that same pass),
// attributes the fields worth filtering on (semantic-convention keys where one means
// exactly the same thing, duo.* otherwise), severity from the record's outcome
// (Severity). The attribute table is in the receiver's README (Attribute mapping). Field
// facts cite sections of docs/duo-api.md.
package mapping // import "github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/mapping"

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/duoapi"
)

// Resource names the Duo account the records come from and the scope that emits them.
type Resource struct {
	APIHost      string // duo.api.hostname
	AccountID    string // duo.account.id, when set
	AccountName  string // duo.account.name, when known (a child read from the Accounts API list)
	ScopeName    string
	ScopeVersion string
}

// NewLogs returns a Logs holding one ResourceLogs for the account and one ScopeLogs, and the
// record slice to append to.
func NewLogs(res Resource) (plog.Logs, plog.LogRecordSlice) {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("duo.api.hostname", res.APIHost)
	if res.AccountID != "" {
		rl.Resource().Attributes().PutStr("duo.account.id", res.AccountID)
	}
	if res.AccountName != "" {
		rl.Resource().Attributes().PutStr("duo.account.name", res.AccountName)
	}
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName(res.ScopeName)
	sl.Scope().SetVersion(res.ScopeVersion)
	return ld, sl.LogRecords()
}

// typeMapping is what mapping does differently per log type.
type typeMapping struct {
	eventName string
	// attrCapacity is about the most attributes a record of the type gets, so that the
	// attribute slice is allocated once at its final size rather than regrown.
	attrCapacity int
	// The same rules, read from a body map and from the view of a record kept as text.
	onMap  rules[pmap]
	onText rules[jobj]
}

// rules are a log type's severity and attribute rules over one kind of record access.
type rules[M fields[M]] struct {
	severity   func(body M) (plog.SeverityNumber, string)
	attributes func(attrs pcommon.Map, body M)
}

// types has one row per log type.
var types = map[duoapi.LogType]typeMapping{
	duoapi.Authentication: {"duo.authentication", 32,
		rules[pmap]{authSeverity[pmap], authAttributes[pmap]}, rules[jobj]{authSeverity[jobj], authAttributes[jobj]}},
	duoapi.Administrator: {"duo.administrator", 8,
		rules[pmap]{adminSeverity[pmap], adminAttributes[pmap]}, rules[jobj]{adminSeverity[jobj], adminAttributes[jobj]}},
	duoapi.Telephony: {"duo.telephony", 8,
		rules[pmap]{infoSeverity[pmap], telephonyAttributes[pmap]}, rules[jobj]{infoSeverity[jobj], telephonyAttributes[jobj]}},
	duoapi.Activity: {"duo.activity", 28,
		rules[pmap]{activitySeverity[pmap], activityAttributes[pmap]}, rules[jobj]{activitySeverity[jobj], activityAttributes[jobj]}},
	duoapi.OfflineEnrollment: {"duo.offline_enrollment", 8,
		rules[pmap]{infoSeverity[pmap], offlineAttributes[pmap]}, rules[jobj]{infoSeverity[jobj], offlineAttributes[jobj]}},
	duoapi.TrustMonitor: {"duo.trust_monitor", 40,
		rules[pmap]{trustMonitorSeverity[pmap], trustMonitorAttributes[pmap]}, rules[jobj]{trustMonitorSeverity[jobj], trustMonitorAttributes[jobj]}},
}

// attrLogRecordUID is the semantic-convention key for a record's unique id.
const attrLogRecordUID = "log.record.uid"

// Append maps one Duo record of log type lt into a new record at the end of lrs: Body,
// Timestamp, ObservedTimestamp, EventName, log.record.uid, severity and attributes. A
// record nested deeper than MaxDepth is appended with its body the raw JSON string, and
// rawBody reports it. On error (an unknown log type, raw not a well-formed JSON object,
// a number out of range) nothing is appended.
func Append(lrs plog.LogRecordSlice, lt duoapi.LogType, rec duoapi.Record, observed time.Time) (rawBody bool, err error) {
	tm, ok := types[lt]
	if !ok {
		return false, fmt.Errorf("unknown log type %q", string(lt))
	}
	obj, err := recordValue(rec)
	if err != nil {
		return false, fmt.Errorf("failed to decode %s record: %w", string(lt), err)
	}
	lr := lrs.AppendEmpty()
	body := lr.Body().SetEmptyMap()
	if err := putMap(body, obj, 1); err != nil {
		if !errors.Is(err, errTooDeep) {
			removeLast(lrs)
			return false, fmt.Errorf("failed to decode %s record: %w", string(lt), err)
		}
		lr.Body().SetStr(obj.Text())
		body, rawBody = pcommon.NewMap(), true
	}
	finish(lr, tm, tm.onMap, pmap{body}, rec, observed)
	return rawBody, nil
}

// AppendJSON is Append with the body the record's own JSON text, as a string: the bytes
// Duo sent, except that each byte which is not UTF-8 becomes U+FFFD (an OTLP string must be
// UTF-8). Attributes, severity and the rest are Append's, read from the tokenizer's values
// of the record instead of a body map. Any nesting is accepted: the body holds no
// structure a downstream decoder could refuse. On error (an unknown log type, raw not a
// well-formed JSON object) nothing is appended.
func AppendJSON(lrs plog.LogRecordSlice, lt duoapi.LogType, rec duoapi.Record, observed time.Time) error {
	tm, ok := types[lt]
	if !ok {
		return fmt.Errorf("unknown log type %q", string(lt))
	}
	obj, err := recordValue(rec)
	if err != nil {
		return fmt.Errorf("failed to decode %s record: %w", string(lt), err)
	}
	// A substring of the page's text: the body costs no copy of its own.
	s := obj.Text()
	if !obj.Doc().UTF8() {
		s = replaceInvalidUTF8(s)
	}
	lr := lrs.AppendEmpty()
	lr.Body().SetStr(s)
	finish(lr, tm, tm.onText, jobj{obj}, rec, observed)
	return nil
}

// replaceInvalidUTF8 replaces each byte of s that is not part of valid UTF-8 with U+FFFD,
// as encoding/json and putMap do inside strings.
func replaceInvalidUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// finish sets everything but the body, which is already in place.
func finish[M fields[M]](lr plog.LogRecord, tm typeMapping, r rules[M], body M, rec duoapi.Record, observed time.Time) {
	ts := rec.Time
	if ts.IsZero() {
		// No time the client could read: the zero time.Time would be an overflowed
		// Timestamp far from any window; the observed time is the best bound known.
		ts = observed
	}
	lr.SetTimestamp(pcommon.NewTimestampFromTime(ts))
	lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(observed))
	lr.SetEventName(tm.eventName)
	sev, text := r.severity(body)
	lr.SetSeverityNumber(sev)
	lr.SetSeverityText(text)
	attrs := lr.Attributes()
	attrs.EnsureCapacity(tm.attrCapacity)
	if rec.ID != "" {
		// The Duo event id is stable across reads, which is exactly what the semantic
		// convention log.record.uid asks for: records with the same uid are duplicates
		// and may be removed. It lets a backend drop the one repeat no cursor can
		// prevent: a page it stored whose answer a killed collector never read.
		attrs.PutStr(attrLogRecordUID, rec.ID)
	}
	r.attributes(attrs, body)
}

func removeLast(lrs plog.LogRecordSlice) {
	n, i := lrs.Len(), 0
	lrs.RemoveIf(func(plog.LogRecord) bool {
		i++
		return i == n
	})
}

// Severity decides a record's severity from its outcome. It is the one place the rule
// lives (the receiver README repeats it):
//
//   - authentication: from result (§3.1): success INFO; denied, failure, error WARN; fraud
//     ERROR; any other value INFO. The text is the result as Duo sent it.
//   - administrator: WARN when the action reports a failure (ends in _error or contains
//     _fail: admin_login_error, *_failed, *_fail), else INFO (§3.2).
//   - activity: WARN when the outcome (object {result} or a bare string, §3.4) is FAILURE,
//     else INFO. The text is the outcome as Duo sent it.
//   - trust_monitor: WARN; ERROR for priority events (priority_event true, §3.6).
//   - telephony, offline_enrollment: INFO.
//
// Matching is case-insensitive. Where a type has no outcome word, or the record lacks
// it, the text is the level's short name (INFO, WARN, ERROR).
func Severity(lt duoapi.LogType, body pcommon.Map) (plog.SeverityNumber, string) {
	if tm, ok := types[lt]; ok {
		return tm.onMap.severity(pmap{body})
	}
	return infoSeverity(pmap{body})
}

func authSeverity[M fields[M]](body M) (plog.SeverityNumber, string) {
	result, _ := body.str("result")
	switch {
	case strings.EqualFold(result, "success"):
		return plog.SeverityNumberInfo, result
	case strings.EqualFold(result, "denied"), strings.EqualFold(result, "failure"),
		strings.EqualFold(result, "error"):
		return plog.SeverityNumberWarn, result
	case strings.EqualFold(result, "fraud"):
		return plog.SeverityNumberError, result
	}
	return plog.SeverityNumberInfo, orLevel(result, "INFO")
}

func adminSeverity[M fields[M]](body M) (plog.SeverityNumber, string) {
	action, _ := body.str("action")
	a := strings.ToLower(action)
	if strings.HasSuffix(a, "_error") || strings.Contains(a, "_fail") {
		return plog.SeverityNumberWarn, "WARN"
	}
	return plog.SeverityNumberInfo, "INFO"
}

func activitySeverity[M fields[M]](body M) (plog.SeverityNumber, string) {
	outcome := activityOutcome(body)
	if strings.EqualFold(outcome, "failure") {
		return plog.SeverityNumberWarn, outcome
	}
	return plog.SeverityNumberInfo, orLevel(outcome, "INFO")
}

func trustMonitorSeverity[M fields[M]](body M) (plog.SeverityNumber, string) {
	if v, ok := body.boolean("priority_event"); ok && v {
		return plog.SeverityNumberError, "ERROR"
	}
	return plog.SeverityNumberWarn, "WARN"
}

func infoSeverity[M fields[M]](M) (plog.SeverityNumber, string) {
	return plog.SeverityNumberInfo, "INFO"
}

func orLevel(word, level string) string {
	if word == "" {
		return level
	}
	return word
}

// activityOutcome reads outcome, which is {"result": "SUCCESS"|"FAILURE"} in newer
// records and a bare string in older ones (§3.4).
func activityOutcome[M fields[M]](body M) string {
	if s, ok := body.str("outcome"); ok {
		return s
	}
	if m, ok := body.obj("outcome"); ok {
		s, _ := m.str("result")
		return s
	}
	return ""
}

// authAttributes maps an authentication record (§3.1); Trust Monitor's surfaced_auth
// has the same shape.
func authAttributes[M fields[M]](attrs pcommon.Map, rec M) {
	copyStr(attrs, "duo.txid", rec, "txid")
	copyStr(attrs, "duo.event_type", rec, "event_type")
	copyStr(attrs, "duo.result", rec, "result")
	copyStr(attrs, "duo.reason", rec, "reason")
	copyStr(attrs, "duo.factor", rec, "factor")
	if u, ok := rec.obj("user"); ok {
		copyStr(attrs, "user.name", u, "name")
		copyStr(attrs, "user.id", u, "key")
		copyStrSlice(attrs, "duo.user.groups", u, "groups")
	}
	copyStr(attrs, "user.email", rec, "email")
	copyStr(attrs, "duo.user.alias", rec, "alias")
	applicationAttributes(attrs, rec)
	if ad, ok := rec.obj("access_device"); ok {
		accessDeviceAttributes(attrs, ad)
	}
	if dev, ok := rec.obj("auth_device"); ok {
		copyStr(attrs, "duo.auth_device.name", dev, "name")
		copyStr(attrs, "duo.auth_device.ip", dev, "ip")
		copyStr(attrs, "duo.auth_device.key", dev, "key")
		if loc, ok := dev.obj("location"); ok {
			copyStr(attrs, "duo.auth_device.location.city", loc, "city")
			copyStr(attrs, "duo.auth_device.location.state", loc, "state")
			copyStr(attrs, "duo.auth_device.location.country", loc, "country")
		}
	}
	copyStr(attrs, "duo.trusted_endpoint_status", rec, "trusted_endpoint_status")
	copyStr(attrs, "duo.ood_software", rec, "ood_software")
}

// applicationAttributes maps application {key, name[, type]} (§3.1, §3.4).
func applicationAttributes[M fields[M]](attrs pcommon.Map, rec M) {
	if app, ok := rec.obj("application"); ok {
		copyStr(attrs, "duo.application.name", app, "name")
		copyStr(attrs, "duo.application.key", app, "key")
		copyStr(attrs, "duo.application.type", app, "type")
	}
}

// accessDeviceAttributes maps access_device, the device the user signed in from (§3.1,
// §3.4). ip is a string in authentication records and {address} in activity records.
func accessDeviceAttributes[M fields[M]](attrs pcommon.Map, ad M) {
	ip, ok := ad.str("ip")
	if !ok {
		if m, isMap := ad.obj("ip"); isMap {
			ip, ok = m.str("address")
		}
	}
	if ok {
		putAddress(attrs, ip)
	}
	if loc, ok := ad.obj("location"); ok {
		// Duo gives the city's name, which is what geo.locality.name holds; state and
		// country are names ("Michigan", "United States"), not the ISO 3166 codes
		// geo.region.iso_code and geo.country.iso_code require, so they stay duo.*.
		copyStr(attrs, "geo.locality.name", loc, "city")
		copyStr(attrs, "duo.access_device.location.state", loc, "state")
		copyStr(attrs, "duo.access_device.location.country", loc, "country")
	}
	copyStr(attrs, "user_agent.name", ad, "browser")
	copyStr(attrs, "user_agent.version", ad, "browser_version")
	copyStr(attrs, "user_agent.os.name", ad, "os")
	copyStr(attrs, "user_agent.os.version", ad, "os_version")
	// The access device's host name: host.name describes the host the telemetry comes
	// from (a resource), not a remote client, so this stays duo.*.
	copyStr(attrs, "duo.access_device.hostname", ad, "hostname")
	// bool, or the string "unknown" (no attribute then) (§3.1, §6 item 12).
	copyBool(attrs, "duo.access_device.is_encryption_enabled", ad, "is_encryption_enabled")
	copyBool(attrs, "duo.access_device.is_firewall_enabled", ad, "is_firewall_enabled")
	copyBool(attrs, "duo.access_device.is_password_set", ad, "is_password_set")
}

// adminAttributes maps an administrator record (§3.2). description is often a JSON
// object inside a string; it is read for attributes only, the body keeps the string.
func adminAttributes[M fields[M]](attrs pcommon.Map, rec M) {
	copyStr(attrs, "duo.admin.action", rec, "action")
	copyStr(attrs, "duo.admin.object", rec, "object")
	copyStr(attrs, "user.name", rec, "username")
	if desc, ok := rec.str("description"); ok {
		lookupStrings(desc, func(key, val string) {
			if !present(val) {
				return
			}
			switch key {
			case "ip_address":
				putAddress(attrs, val)
			case "factor":
				attrs.PutStr("duo.factor", val)
			case "error":
				attrs.PutStr("duo.admin.error", val)
			}
		})
	}
}

// telephonyAttributes maps a v2 telephony record (§3.3).
func telephonyAttributes[M fields[M]](attrs pcommon.Map, rec M) {
	copyStr(attrs, "duo.telephony.id", rec, "telephony_id")
	copyStr(attrs, "duo.txid", rec, "txid")
	copyStr(attrs, "duo.telephony.context", rec, "context")
	copyStr(attrs, "duo.telephony.type", rec, "type")
	copyStr(attrs, "duo.telephony.phone", rec, "phone")
	if n, ok := rec.integer("credits"); ok {
		attrs.PutInt("duo.telephony.credits", n)
	}
}

// activityAttributes maps an activity record (§3.4). action and outcome each come as a
// string or an object; actor and target details are JSON inside strings.
func activityAttributes[M fields[M]](attrs pcommon.Map, rec M) {
	copyStr(attrs, "duo.activity.id", rec, "activity_id")
	if s, ok := rec.str("action"); ok {
		attrs.PutStr("duo.activity.action", s)
	} else if m, ok := rec.obj("action"); ok {
		copyStr(attrs, "duo.activity.action", m, "name")
	}
	if s := activityOutcome(rec); present(s) {
		attrs.PutStr("duo.activity.outcome", s)
	}
	if actor, ok := rec.obj("actor"); ok {
		copyStr(attrs, "duo.activity.actor.key", actor, "key")
		copyStr(attrs, "duo.activity.actor.name", actor, "name")
		copyStr(attrs, "duo.activity.actor.type", actor, "type")
		// Only an actor of type user is an end user whose name is a username; admins,
		// integrations and sync jobs stay under duo.activity.actor.*.
		if t, _ := actor.str("type"); t == "user" {
			copyStr(attrs, "user.name", actor, "name")
			copyStr(attrs, "user.id", actor, "key")
			if details, ok := actor.str("details"); ok {
				lookupStrings(details, func(key, val string) {
					if key == "email" && present(val) {
						attrs.PutStr("user.email", val)
					}
				})
			}
		}
	}
	if target, ok := rec.obj("target"); ok {
		copyStr(attrs, "duo.activity.target.key", target, "key")
		copyStr(attrs, "duo.activity.target.name", target, "name")
		copyStr(attrs, "duo.activity.target.type", target, "type")
		if details, ok := target.str("details"); ok {
			lookupStrings(details, func(key, val string) {
				if key == "email" && present(val) {
					attrs.PutStr("duo.activity.target.email", val)
				}
			})
		}
	}
	copyStr(attrs, "duo.activity.akey", rec, "akey")
	applicationAttributes(attrs, rec)
	if ad, ok := rec.obj("access_device"); ok {
		accessDeviceAttributes(attrs, ad)
	}
}

// offlineAttributes maps an offline enrollment record (§3.5). description is a JSON
// string {"user_agent", "hostname", "factor"}.
func offlineAttributes[M fields[M]](attrs pcommon.Map, rec M) {
	copyStr(attrs, "duo.offline_enrollment.action", rec, "action")
	// object is the Windows Logon integration's name.
	copyStr(attrs, "duo.application.name", rec, "object")
	copyStr(attrs, "user.name", rec, "username")
	if desc, ok := rec.str("description"); ok {
		lookupStrings(desc, func(key, val string) {
			if !present(val) {
				return
			}
			switch key {
			case "user_agent":
				attrs.PutStr("user_agent.original", val)
			case "hostname":
				attrs.PutStr("duo.offline_enrollment.hostname", val)
			case "factor":
				attrs.PutStr("duo.factor", val)
			}
		})
	}
}

// trustMonitorAttributes maps a Trust Monitor event (§3.6). An auth event's
// surfaced_auth is an authentication record and is mapped as one.
func trustMonitorAttributes[M fields[M]](attrs pcommon.Map, rec M) {
	copyStr(attrs, "duo.trust_monitor.sekey", rec, "sekey")
	copyStr(attrs, "duo.trust_monitor.type", rec, "type")
	copyStr(attrs, "duo.trust_monitor.state", rec, "state")
	copyBool(attrs, "duo.trust_monitor.priority_event", rec, "priority_event")
	copyBool(attrs, "duo.trust_monitor.triaged_as_interesting", rec, "triaged_as_interesting")
	copyBool(attrs, "duo.trust_monitor.from_new_user", rec, "from_new_user")
	copyBool(attrs, "duo.trust_monitor.from_common_netblock", rec, "from_common_netblock")
	copyBool(attrs, "duo.trust_monitor.low_risk_ip", rec, "low_risk_ip")
	var explanations pcommon.Slice
	started := false
	for e := range rec.objs("explanations") {
		if t, ok := e.str("type"); ok {
			if !started {
				explanations, started = attrs.PutEmptySlice("duo.trust_monitor.explanations"), true
			}
			explanations.AppendEmpty().SetStr(t)
		}
	}
	for _, who := range [...]string{"enabled_by", "enabled_for"} {
		if m, ok := rec.obj(who); ok {
			copyStr(attrs, "duo.trust_monitor."+who+".key", m, "key")
			copyStr(attrs, "duo.trust_monitor."+who+".name", m, "name")
		}
	}
	if sa, ok := rec.obj("surfaced_auth"); ok {
		authAttributes(attrs, sa)
	}
}

// present reports whether a string value is worth an attribute: Duo says "" or
// "unknown" when it does not know (§3.1).
func present(s string) bool {
	return s != "" && !strings.EqualFold(s, "unknown")
}

func copyStr[M fields[M]](attrs pcommon.Map, attr string, m M, key string) {
	if s, ok := m.str(key); ok {
		attrs.PutStr(attr, s)
	}
}

func copyBool[M fields[M]](attrs pcommon.Map, attr string, m M, key string) {
	if v, ok := m.boolean(key); ok {
		attrs.PutBool(attr, v)
	}
}

// copyStrSlice copies the present strings of the array m[key]; no attribute if none.
func copyStrSlice[M fields[M]](attrs pcommon.Map, attr string, m M, key string) {
	var out pcommon.Slice
	started := false
	for e := range m.strs(key) {
		if !present(e) {
			continue
		}
		if !started {
			out, started = attrs.PutEmptySlice(attr), true
		}
		out.AppendEmpty().SetStr(e)
	}
}

// putAddress sets client.address, and client.port when s carries one ("1.2.3.4:5678",
// "[2001:db8::1]:443"). A bare IPv6 address is never split.
func putAddress(attrs pcommon.Map, s string) {
	host, port, ok := splitHostPort(s)
	if !ok {
		if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
			s = s[1 : len(s)-1] // "[2001:db8::1]"
		}
		attrs.PutStr("client.address", s)
		return
	}
	attrs.PutStr("client.address", host)
	attrs.PutInt("client.port", port)
}

// splitHostPort splits "host:port" or "[v6]:port" with a port in 0..65535; ok is false
// for anything else (including a bare IPv6 address, whose colons are not a port).
func splitHostPort(s string) (string, int64, bool) {
	if strings.Count(s, ":") != 1 && !strings.HasPrefix(s, "[") {
		return "", 0, false
	}
	host, p, err := net.SplitHostPort(s)
	if err != nil || host == "" || p == "" {
		return "", 0, false
	}
	port, err := strconv.ParseUint(p, 10, 16)
	if err != nil {
		return "", 0, false
	}
	return host, int64(port), true
}
