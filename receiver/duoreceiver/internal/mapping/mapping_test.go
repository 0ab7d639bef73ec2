// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package mapping

import (
	"flag"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/golden"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/plogtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/duoapi"
)

var (
	update = flag.Bool("update", false, "rewrite testdata/golden/*.yaml from the current mapping")
)

var (
	testResource = Resource{
		APIHost:      "api-1a2b3c4d.duosecurity.com",
		AccountID:    "DA9VZOC5X63I2W72NRP9",
		ScopeName:    "github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver",
		ScopeVersion: "0.0.0-test",
	}
	testObserved = time.Date(2023, 10, 25, 16, 20, 0, 0, time.UTC)
)

// TestGolden maps every record of each testdata page and compares the whole Logs with
// testdata/golden/<type>.yaml. Regenerate with: go test . -run TestGolden -update
func TestGolden(t *testing.T) {
	for _, lt := range logTypes {
		t.Run(string(lt), func(t *testing.T) {
			ld, lrs := NewLogs(testResource)
			recs := pageRecords(t, lt)
			for _, r := range recs {
				require.NoError(t, appendRaw(lrs, lt, r.Raw, r.Time, testObserved))
			}
			require.Equal(t, len(recs), lrs.Len())
			path := filepath.Join("..", "..", "testdata", "golden", string(lt)+".yaml")
			if *update {
				require.NoError(t, golden.WriteLogsToFile(path, ld))
			}
			want, err := golden.ReadLogs(path)
			require.NoError(t, err)
			require.NoError(t, plogtest.CompareLogs(want, ld))
			// CompareLogs does not look at EventName.
			wantRecs := want.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
			require.Equal(t, wantRecs.Len(), lrs.Len())
			for i := range lrs.Len() {
				assert.Equal(t, "duo."+string(lt), lrs.At(i).EventName())
				assert.Equal(t, wantRecs.At(i).EventName(), lrs.At(i).EventName())
			}
		})
	}
}

func TestNewLogs(t *testing.T) {
	tests := []struct {
		name string
		res  Resource
		want map[string]any
	}{
		{"with account", testResource, map[string]any{"duo.api.hostname": testResource.APIHost, "duo.account.id": testResource.AccountID}},
		{"without account", Resource{APIHost: "api-x.duosecurity.com", ScopeName: "s"}, map[string]any{"duo.api.hostname": "api-x.duosecurity.com"}},
		{
			"child with name", Resource{APIHost: "api-c.duosecurity.com", AccountID: "DA1", AccountName: "Acme Ltd", ScopeName: "s"},
			map[string]any{"duo.api.hostname": "api-c.duosecurity.com", "duo.account.id": "DA1", "duo.account.name": "Acme Ltd"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ld, lrs := NewLogs(tt.res)
			require.Equal(t, 1, ld.ResourceLogs().Len())
			rl := ld.ResourceLogs().At(0)
			assert.Equal(t, tt.want, rl.Resource().Attributes().AsRaw())
			require.Equal(t, 1, rl.ScopeLogs().Len())
			assert.Equal(t, tt.res.ScopeName, rl.ScopeLogs().At(0).Scope().Name())
			assert.Equal(t, tt.res.ScopeVersion, rl.ScopeLogs().At(0).Scope().Version())
			require.NoError(t, appendRaw(lrs, logTelephony, `{}`, testObserved, testObserved))
			assert.Equal(t, 1, ld.LogRecordCount())
		})
	}
}

// TestAppendRecord: Append sets what the record itself carries, the uid and the event
// time, and falls back to the observed time when the client could read no time.
func TestAppendRecord(t *testing.T) {
	et := time.Date(2023, 10, 25, 16, 7, 45, 304526000, time.UTC)
	tests := []struct {
		name    string
		rec     duoapi.Record
		wantTS  time.Time
		wantUID string // "" for no attribute
	}{
		{"time and id", duoapi.Record{Raw: `{"txid":"T1"}`, Time: et, ID: "T1"}, et, "T1"},
		{"no readable time", duoapi.Record{Raw: `{"txid":"T2","timestamp":"soon"}`, ID: "T2"}, testObserved, "T2"},
		{"no id", duoapi.Record{Raw: `{}`, Time: et}, et, ""},
		{"too deep, no time", duoapi.Record{Raw: `{"a":` + strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth) + `}`, ID: "T3"}, testObserved, "T3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, lrs := NewLogs(testResource)
			_, err := Append(lrs, logAuthentication, tt.rec, testObserved)
			require.NoError(t, err)
			require.Equal(t, 1, lrs.Len())
			lr := lrs.At(0)
			assert.Equal(t, pcommon.NewTimestampFromTime(tt.wantTS), lr.Timestamp(), "Timestamp")
			assert.Equal(t, pcommon.NewTimestampFromTime(testObserved), lr.ObservedTimestamp())
			assert.Equal(t, "duo.authentication", lr.EventName())
			uid, ok := lr.Attributes().Get(attrLogRecordUID)
			assert.Equal(t, tt.wantUID != "", ok, "log.record.uid present")
			assert.Equal(t, tt.wantUID, uid.Str())
		})
	}
}

// TestAppendRawBody: a valid record nested deeper than MaxDepth keeps its JSON text as
// the body and is reported; one level less is a structured body.
func TestAppendRawBody(t *testing.T) {
	nested := func(depth int) string {
		return `{"result":"fraud","a":` + strings.Repeat("[", depth-1) + strings.Repeat("]", depth-1) + `}`
	}
	_, lrs := NewLogs(testResource)
	rawBody, err := Append(lrs, logAuthentication, duoapi.Record{Raw: nested(MaxDepth)}, testObserved)
	require.NoError(t, err)
	assert.False(t, rawBody)
	assert.Equal(t, pcommon.ValueTypeMap, lrs.At(0).Body().Type())
	assert.Equal(t, plog.SeverityNumberError, lrs.At(0).SeverityNumber())

	deep := nested(MaxDepth + 1)
	rawBody, err = Append(lrs, logAuthentication, duoapi.Record{Raw: deep}, testObserved)
	require.NoError(t, err)
	assert.True(t, rawBody)
	require.Equal(t, 2, lrs.Len())
	assert.Equal(t, deep, lrs.At(1).Body().Str())

	// Too deep and broken further on: an error, nothing appended.
	rawBody, err = Append(lrs, logAuthentication, duoapi.Record{Raw: deep[:len(deep)-1]}, testObserved)
	require.Error(t, err)
	assert.False(t, rawBody)
	assert.Equal(t, 2, lrs.Len())
}

// TestAppendAwkward covers the field shapes of docs/duo-api.md §3 and §6.12 one at a time:
// each case states the exact attribute set, severity and (where it matters) body values.
func TestAppendAwkward(t *testing.T) {
	tests := []struct {
		name     string
		logType  duoapi.LogType
		raw      string
		attrs    map[string]any
		sev      plog.SeverityNumber
		sevText  string
		bodyWant map[string]any // top-level body entries to check, beyond "nothing lost"
	}{
		{
			name:    "auth bool or unknown flags",
			logType: logAuthentication,
			raw:     `{"result":"success","access_device":{"is_encryption_enabled":true,"is_firewall_enabled":"unknown","is_password_set":false}}`,
			attrs: map[string]any{"duo.result": "success", "duo.access_device.is_encryption_enabled": true,
				"duo.access_device.is_password_set": false},
			sev: plog.SeverityNumberInfo, sevText: "success",
			bodyWant: map[string]any{"access_device": map[string]any{"is_encryption_enabled": true, "is_firewall_enabled": "unknown", "is_password_set": false}},
		},
		{
			name:    "auth null arrays and nulls",
			logType: logAuthentication,
			raw:     `{"result":"denied","factor":null,"email":null,"user":{"name":"a","key":null,"groups":null},"access_device":{"security_agents":null,"ip":null}}`,
			attrs:   map[string]any{"duo.result": "denied", "user.name": "a"},
			sev:     plog.SeverityNumberWarn, sevText: "denied",
			bodyWant: map[string]any{"factor": nil, "email": nil},
		},
		{
			name:    "auth empty and unknown strings give no attribute",
			logType: logAuthentication,
			raw:     `{"result":"failure","alias":"unknown","email":"","reason":"UNKNOWN","trusted_endpoint_status":"unknown","user":{"name":"","groups":["","unknown","Admins"]}}`,
			attrs:   map[string]any{"duo.result": "failure", "duo.user.groups": []any{"Admins"}},
			sev:     plog.SeverityNumberWarn, sevText: "failure",
		},
		{
			name:    "auth ip:port",
			logType: logAuthentication,
			raw:     `{"result":"error","access_device":{"ip":"203.0.113.7:52144"}}`,
			attrs:   map[string]any{"duo.result": "error", "client.address": "203.0.113.7", "client.port": int64(52144)},
			sev:     plog.SeverityNumberWarn, sevText: "error",
		},
		{
			name:    "auth bare IPv6 is not split",
			logType: logAuthentication,
			raw:     `{"result":"fraud","access_device":{"ip":"2001:db8::8a2e:370:7334"}}`,
			attrs:   map[string]any{"duo.result": "fraud", "client.address": "2001:db8::8a2e:370:7334"},
			sev:     plog.SeverityNumberError, sevText: "fraud",
		},
		{
			name:    "auth bracketed IPv6 with port",
			logType: logAuthentication,
			raw:     `{"access_device":{"ip":"[2001:db8::1]:443"}}`,
			attrs:   map[string]any{"client.address": "2001:db8::1", "client.port": int64(443)},
			sev:     plog.SeverityNumberInfo, sevText: "INFO",
		},
		{
			name:    "auth bracketed IPv6 without port",
			logType: logAuthentication,
			raw:     `{"access_device":{"ip":"[2001:db8::1]"}}`,
			attrs:   map[string]any{"client.address": "2001:db8::1"},
			sev:     plog.SeverityNumberInfo, sevText: "INFO",
		},
		{
			name:    "auth port out of range keeps the whole string",
			logType: logAuthentication,
			raw:     `{"access_device":{"ip":"192.0.2.1:99999"}}`,
			attrs:   map[string]any{"client.address": "192.0.2.1:99999"},
			sev:     plog.SeverityNumberInfo, sevText: "INFO",
		},
		{
			name:    "auth unknown result is INFO with the word",
			logType: logAuthentication,
			raw:     `{"result":"pending","reason":"x"}`,
			attrs:   map[string]any{"duo.result": "pending", "duo.reason": "x"},
			sev:     plog.SeverityNumberInfo, sevText: "pending",
		},
		{
			name:    "auth result is matched case-insensitively",
			logType: logAuthentication,
			raw:     `{"result":"FRAUD"}`,
			attrs:   map[string]any{"duo.result": "FRAUD"},
			sev:     plog.SeverityNumberError, sevText: "FRAUD",
		},
		{
			name:    "auth wrong types: user a string, application an array, result a number",
			logType: logAuthentication,
			raw:     `{"user":"jdoe","application":["x"],"result":7,"access_device":"laptop","auth_device":{"ip":5,"location":"here"}}`,
			attrs:   map[string]any{},
			sev:     plog.SeverityNumberInfo, sevText: "INFO",
			bodyWant: map[string]any{"user": "jdoe", "application": []any{"x"}, "result": int64(7)},
		},
		{
			name:    "auth unicode, escapes and surrogate pairs",
			logType: logAuthentication,
			raw:     `{"user":{"name":"jos\u00e9 \ud83d\ude00","key":"DU1"},"access_device":{"location":{"city":"S\u00e3o Paulo","state":"SP","country":"Brazil"},"browser":"Chrome","browser_version":"1","os":"iOS","os_version":"17","hostname":"h\tost"}}`,
			attrs: map[string]any{"user.name": "josé 😀", "user.id": "DU1", "geo.locality.name": "São Paulo",
				"duo.access_device.location.state": "SP", "duo.access_device.location.country": "Brazil",
				"user_agent.name": "Chrome", "user_agent.version": "1", "user_agent.os.name": "iOS", "user_agent.os.version": "17",
				"duo.access_device.hostname": "h\tost"},
			sev: plog.SeverityNumberInfo, sevText: "INFO",
		},
		{
			name:    "auth numbers: integers as int, others as double; unknown fields kept",
			logType: logAuthentication,
			raw:     `{"timestamp":1698250065,"new":{"f":2.5,"e":1e3,"neg":-7,"big":18446744073709551616,"z":-0}}`,
			attrs:   map[string]any{},
			sev:     plog.SeverityNumberInfo, sevText: "INFO",
			bodyWant: map[string]any{"timestamp": int64(1698250065), "new": map[string]any{"f": 2.5, "e": 1000.0, "neg": int64(-7), "big": 18446744073709551616.0, "z": int64(0)}},
		},
		{
			name:    "admin description JSON read for attributes, body keeps the string",
			logType: logAdministrator,
			raw:     `{"action":"admin_login_error","username":"Jane","object":null,"description":"{\"ip_address\": \"198.51.100.4:8080\", \"error\": \"Invalid password\", \"factor\": \"push\", \"nested\": {\"a\": [1]}}"}`,
			attrs: map[string]any{"duo.admin.action": "admin_login_error", "user.name": "Jane", "client.address": "198.51.100.4",
				"client.port": int64(8080), "duo.admin.error": "Invalid password", "duo.factor": "push"},
			sev: plog.SeverityNumberWarn, sevText: "WARN",
			bodyWant: map[string]any{"description": `{"ip_address": "198.51.100.4:8080", "error": "Invalid password", "factor": "push", "nested": {"a": [1]}}`},
		},
		{
			name:    "admin free-text description",
			logType: logAdministrator,
			raw:     `{"action":"integration_sync_failed","description":"Sync \"failed\" {partly","object":"AD"}`,
			attrs:   map[string]any{"duo.admin.action": "integration_sync_failed", "duo.admin.object": "AD"},
			sev:     plog.SeverityNumberWarn, sevText: "WARN",
		},
		{
			name:    "admin _fail inside the action",
			logType: logAdministrator,
			raw:     `{"action":"bulk_enroll_fail_partial"}`,
			attrs:   map[string]any{"duo.admin.action": "bulk_enroll_fail_partial"},
			sev:     plog.SeverityNumberWarn, sevText: "WARN",
		},
		{
			name:    "admin ordinary action",
			logType: logAdministrator,
			raw:     `{"action":"user_update","description":"{\"realname\": \"Joe\"}","username":"API"}`,
			attrs:   map[string]any{"duo.admin.action": "user_update", "user.name": "API"},
			sev:     plog.SeverityNumberInfo, sevText: "INFO",
		},
		{
			name:    "telephony credits must be an integer",
			logType: logTelephony,
			raw:     `{"telephony_id":"t1","txid":null,"context":"verify","type":"sms","phone":"+15555550100","credits":1.5}`,
			attrs: map[string]any{"duo.telephony.id": "t1", "duo.telephony.context": "verify", "duo.telephony.type": "sms",
				"duo.telephony.phone": "+15555550100"},
			sev: plog.SeverityNumberInfo, sevText: "INFO",
		},
		{
			name:    "activity string action and string outcome, user actor",
			logType: logActivity,
			raw:     `{"activity_id":"a1","action":"phone_create","outcome":"FAILURE","actor":{"type":"user","name":"mt","key":"DU9","details":"{\"email\": \"mt@example.com\"}"},"access_device":{"ip":{"address":"192.0.2.9"}}}`,
			attrs: map[string]any{"duo.activity.id": "a1", "duo.activity.action": "phone_create", "duo.activity.outcome": "FAILURE",
				"duo.activity.actor.type": "user", "duo.activity.actor.name": "mt", "duo.activity.actor.key": "DU9",
				"user.name": "mt", "user.id": "DU9", "user.email": "mt@example.com", "client.address": "192.0.2.9"},
			sev: plog.SeverityNumberWarn, sevText: "FAILURE",
		},
		{
			name:    "activity object action and outcome, admin actor is not user.*",
			logType: logActivity,
			raw:     `{"action":{"name":"admin_update","details":null},"outcome":{"result":"SUCCESS"},"actor":{"type":"admin","name":"Jane Admin","details":"{\"email\": \"j@example.com\"}"},"target":{"type":"user","name":"js","details":"{\"email\": \"js@example.com\"}"},"old_target":null}`,
			attrs: map[string]any{"duo.activity.action": "admin_update", "duo.activity.outcome": "SUCCESS",
				"duo.activity.actor.type": "admin", "duo.activity.actor.name": "Jane Admin",
				"duo.activity.target.type": "user", "duo.activity.target.name": "js", "duo.activity.target.email": "js@example.com"},
			sev: plog.SeverityNumberInfo, sevText: "SUCCESS",
		},
		{
			name:    "activity without outcome",
			logType: logActivity,
			raw:     `{"outcome":null,"target":null}`,
			attrs:   map[string]any{},
			sev:     plog.SeverityNumberInfo, sevText: "INFO",
		},
		{
			name:    "offline enrollment description",
			logType: logOfflineEnrollment,
			raw:     `{"action":"o2fa_user_provisioned","object":"Acme - Windows Logon","username":"js","description":"{\"user_agent\": \"DuoCredProv/4.2.0.0\", \"hostname\": \"WKS-1\", \"factor\": \"duo_otp\"}"}`,
			attrs: map[string]any{"duo.offline_enrollment.action": "o2fa_user_provisioned", "duo.application.name": "Acme - Windows Logon",
				"user.name": "js", "user_agent.original": "DuoCredProv/4.2.0.0", "duo.offline_enrollment.hostname": "WKS-1", "duo.factor": "duo_otp"},
			sev: plog.SeverityNumberInfo, sevText: "INFO",
		},
		{
			name:    "trust monitor priority event",
			logType: logTrustMonitor,
			raw:     `{"sekey":"SE1","type":"auth","priority_event":true,"explanations":[{"type":"NEW_NETBLOCK"},{"type":null},"x"],"surfaced_auth":{"txid":"tx","user":{"name":"at"},"result":"denied"}}`,
			attrs: map[string]any{"duo.trust_monitor.sekey": "SE1", "duo.trust_monitor.type": "auth", "duo.trust_monitor.priority_event": true,
				"duo.trust_monitor.explanations": []any{"NEW_NETBLOCK"}, "duo.txid": "tx", "user.name": "at", "duo.result": "denied"},
			sev: plog.SeverityNumberError, sevText: "ERROR",
		},
		{
			name:    "trust monitor priority_event not a bool",
			logType: logTrustMonitor,
			raw:     `{"sekey":"SE2","priority_event":"unknown","enabled_for":{"name":"ah","key":"DU2"}}`,
			attrs:   map[string]any{"duo.trust_monitor.sekey": "SE2", "duo.trust_monitor.enabled_for.name": "ah", "duo.trust_monitor.enabled_for.key": "DU2"},
			sev:     plog.SeverityNumberWarn, sevText: "WARN",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, lrs := NewLogs(testResource)
			et := time.Date(2023, 10, 25, 16, 7, 45, 304526000, time.UTC)
			require.NoError(t, appendRaw(lrs, tt.logType, tt.raw, et, testObserved))
			require.Equal(t, 1, lrs.Len())
			lr := lrs.At(0)
			assert.Equal(t, tt.attrs, lr.Attributes().AsRaw())
			assert.Equal(t, tt.sev, lr.SeverityNumber())
			assert.Equal(t, tt.sevText, lr.SeverityText())
			assert.Equal(t, "duo."+string(tt.logType), lr.EventName())
			assert.Equal(t, pcommon.NewTimestampFromTime(et), lr.Timestamp())
			assert.Equal(t, pcommon.NewTimestampFromTime(testObserved), lr.ObservedTimestamp())
			require.Equal(t, pcommon.ValueTypeMap, lr.Body().Type())
			want := pcommon.NewMap()
			require.NoError(t, naiveBody([]byte(tt.raw), want))
			assert.True(t, want.Equal(lr.Body().Map()), "body differs from encoding/json's reading")
			for k, v := range tt.bodyWant {
				got, ok := lr.Body().Map().Get(k)
				require.True(t, ok, k)
				assert.Equal(t, v, got.AsRaw(), k)
			}
		})
	}
}

// TestAppendErrors shows that a bad record appends nothing and leaves earlier and later
// records intact.
func TestAppendErrors(t *testing.T) {
	tests := []struct {
		name    string
		logType duoapi.LogType
		raw     string
	}{
		{"not JSON", logAuthentication, `txid=1`},
		{"array", logAuthentication, `[{"txid":"1"}]`},
		{"string", logAdministrator, `"{}"`},
		{"null", logTelephony, `null`},
		{"empty", logActivity, ``},
		{"truncated", logActivity, `{"activity_id":"a","actor":{"name":"x"`},
		{"trailing garbage", logTrustMonitor, `{"sekey":"x"} {}`},
		{"unknown log type", "bogus", `{}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, lrs := NewLogs(testResource)
			require.NoError(t, appendRaw(lrs, logTelephony, `{"telephony_id":"before"}`, testObserved, testObserved))
			require.Error(t, appendRaw(lrs, tt.logType, tt.raw, testObserved, testObserved))
			require.Equal(t, 1, lrs.Len())
			require.NoError(t, appendRaw(lrs, logTelephony, `{"telephony_id":"after"}`, testObserved, testObserved))
			require.Equal(t, 2, lrs.Len())
			for i, want := range []string{"before", "after"} {
				v, ok := lrs.At(i).Attributes().Get("duo.telephony.id")
				require.True(t, ok)
				assert.Equal(t, want, v.Str())
			}
		})
	}
}

func TestSeverity(t *testing.T) {
	tests := []struct {
		logType duoapi.LogType
		raw     string
		sev     plog.SeverityNumber
		text    string
	}{
		{logAuthentication, `{"result":"success"}`, plog.SeverityNumberInfo, "success"},
		{logAuthentication, `{"result":"denied"}`, plog.SeverityNumberWarn, "denied"},
		{logAuthentication, `{"result":"failure"}`, plog.SeverityNumberWarn, "failure"},
		{logAuthentication, `{"result":"error"}`, plog.SeverityNumberWarn, "error"},
		{logAuthentication, `{"result":"fraud"}`, plog.SeverityNumberError, "fraud"},
		{logAuthentication, `{"result":"something_new"}`, plog.SeverityNumberInfo, "something_new"},
		{logAuthentication, `{}`, plog.SeverityNumberInfo, "INFO"},
		{logAdministrator, `{"action":"admin_login"}`, plog.SeverityNumberInfo, "INFO"},
		{logAdministrator, `{"action":"admin_login_error"}`, plog.SeverityNumberWarn, "WARN"},
		{logAdministrator, `{"action":"integration_sync_failed"}`, plog.SeverityNumberWarn, "WARN"},
		{logAdministrator, `{"action":"phone_activation_fail"}`, plog.SeverityNumberWarn, "WARN"},
		{logAdministrator, `{"action":"error_report_view"}`, plog.SeverityNumberInfo, "INFO"},
		{logAdministrator, `{"action":"failover_update"}`, plog.SeverityNumberInfo, "INFO"},
		{logActivity, `{"outcome":{"result":"FAILURE"}}`, plog.SeverityNumberWarn, "FAILURE"},
		{logActivity, `{"outcome":"failure"}`, plog.SeverityNumberWarn, "failure"},
		{logActivity, `{"outcome":{"result":"SUCCESS"}}`, plog.SeverityNumberInfo, "SUCCESS"},
		{logActivity, `{}`, plog.SeverityNumberInfo, "INFO"},
		{logTrustMonitor, `{"priority_event":true}`, plog.SeverityNumberError, "ERROR"},
		{logTrustMonitor, `{"priority_event":false}`, plog.SeverityNumberWarn, "WARN"},
		{logTrustMonitor, `{}`, plog.SeverityNumberWarn, "WARN"},
		{logTelephony, `{"result":"fraud"}`, plog.SeverityNumberInfo, "INFO"},
		{logOfflineEnrollment, `{"action":"o2fa_user_deprovisioned"}`, plog.SeverityNumberInfo, "INFO"},
	}
	for _, tt := range tests {
		t.Run(string(tt.logType)+" "+tt.raw, func(t *testing.T) {
			body := pcommon.NewMap()
			require.NoError(t, decodeMap([]byte(tt.raw), body))
			sev, text := Severity(tt.logType, body)
			assert.Equal(t, tt.sev, sev)
			assert.Equal(t, tt.text, text)
		})
	}
}

// TestFastMatchesNaive maps every testdata record both ways: bodies, attributes,
// severities, everything must be equal.
func TestFastMatchesNaive(t *testing.T) {
	for _, lt := range logTypes {
		t.Run(string(lt), func(t *testing.T) {
			fast, fastRecs := NewLogs(testResource)
			naive, naiveRecs := NewLogs(testResource)
			for _, r := range pageRecords(t, lt) {
				require.NoError(t, appendRaw(fastRecs, lt, r.Raw, r.Time, testObserved))
				require.NoError(t, naiveAppend(naiveRecs, lt, r.Raw, r.Time, testObserved))
			}
			require.NoError(t, plogtest.CompareLogs(naive, fast))
			for i := range fastRecs.Len() {
				assert.True(t, naiveRecs.At(i).Body().Equal(fastRecs.At(i).Body()), "record %d", i)
			}
		})
	}
}

// benchPage builds a realistic 1000-record page from the testdata page's records.
func benchPage(b *testing.B, lt duoapi.LogType) ([]string, []time.Time) {
	recs := pageRecords(b, lt)
	raws := make([]string, 1000)
	times := make([]time.Time, 1000)
	for i := range raws {
		raws[i] = recs[i%len(recs)].Raw
		times[i] = recs[i%len(recs)].Time
	}
	return raws, times
}

// BenchmarkMap maps a 1000-record page per log type with the single-pass decoder (fast)
// and with encoding/json + FromRaw (naive), reporting per-record figures.
func BenchmarkMap(b *testing.B) {
	type appendFunc func(plog.LogRecordSlice, duoapi.LogType, string, time.Time, time.Time) error
	impls := []struct {
		name string
		fn   appendFunc
	}{
		{"fast", appendRaw},
		{"naive", naiveAppend},
	}
	for _, lt := range logTypes {
		raws, times := benchPage(b, lt)
		for _, impl := range impls {
			b.Run(string(lt)+"/"+impl.name, func(b *testing.B) {
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				b.ResetTimer()
				iters := 0
				for b.Loop() {
					iters++
					_, lrs := NewLogs(testResource)
					for i, raw := range raws {
						if err := impl.fn(lrs, lt, raw, times[i], testObserved); err != nil {
							b.Fatal(err)
						}
					}
				}
				b.StopTimer()
				runtime.ReadMemStats(&after)
				n := float64(iters) * float64(len(raws))
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/record")
				b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/n, "B/record")
				b.ReportMetric(float64(after.Mallocs-before.Mallocs)/n, "allocs/record")
			})
		}
	}
}
