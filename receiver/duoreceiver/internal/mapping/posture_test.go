// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package mapping

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/golden"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/pmetrictest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/otelcol-duo/otelcol-duo/internal/otlptest"
	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/duoapi"
	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/metadata"
)

func newMB() *metadata.MetricsBuilder {
	return metadata.NewMetricsBuilder(metadata.NewDefaultMetricsBuilderConfig(), receivertest.NewNopSettings(metadata.Type))
}

// points flattens metrics into "name attr=value ..." -> value.
func points(md pmetric.Metrics) map[string]int64 {
	out := map[string]int64{}
	for name, dp := range otlptest.Gauges(md) {
		out[otlptest.PointKey(name, dp)] += dp.IntValue()
	}
	return out
}

func TestPostureCounts(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	recent := now.Add(-24 * time.Hour).Unix()
	old := now.Add(-1000 * time.Hour).Unix()
	p := NewPosture(now, 720*time.Hour)
	add := func(r duoapi.Resource, raw string) {
		t.Helper()
		require.NoError(t, p.Add(r, raw))
	}
	add(duoapi.Users, `{"status":"active","is_enrolled":true,"last_login":`+itoa(recent)+`,
		"phones":[{"phone_id":"P1","platform":"Apple iOS","activated":true}],"tokens":[{"token_id":"T1","type":"yk"}],"webauthncredentials":[{},{}]}`)
	// P1 shared: counted once; T1 shared likewise; last_login as a string.
	add(duoapi.Users, `{"status":"active","is_enrolled":true,"last_login":"`+itoa(old)+`",
		"phones":[{"phone_id":"P1","platform":"Apple iOS","activated":true},{"phone_id":"P2","platform":"Google Android","activated":false}],
		"tokens":[{"token_id":"T1","type":"yk"},{"token_id":"T2","type":"h6"}]}`)
	add(duoapi.Users, `{"status":"locked out","is_enrolled":false,"last_login":null}`)
	add(duoapi.Users, `{"status":"bypass","is_enrolled":false}`)
	add(duoapi.BypassCodes, `{"expiration":null}`)
	add(duoapi.BypassCodes, `{"expiration":`+itoa(now.Add(time.Hour).Unix())+`}`)
	add(duoapi.BypassCodes, `{"expiration":`+itoa(now.Add(-time.Hour).Unix())+`}`)
	add(duoapi.Groups, `{"status":"Active"}`)
	add(duoapi.Groups, `{"status":"Bypass"}`)
	add(duoapi.Endpoints, `{"os_family":"Windows","trusted_endpoint":"yes"}`)
	add(duoapi.Summary, `{"telephony_credits_remaining":42}`)
	for _, r := range []duoapi.Resource{duoapi.Users, duoapi.BypassCodes, duoapi.Groups, duoapi.Endpoints, duoapi.Summary, duoapi.Policies} {
		p.Read(r)
	}
	mb := newMB()
	p.Record(mb, pcommon.NewTimestampFromTime(now))
	got := points(EmitMetrics(mb, testResource))
	assert.Equal(t, map[string]int64{
		"duo.users duo.user.enrolled=true duo.user.status=active":                2,
		"duo.users duo.user.enrolled=false duo.user.status=locked_out":           1,
		"duo.users duo.user.enrolled=false duo.user.status=bypass":               1,
		"duo.users.inactive duo.user.status=active":                              1,
		"duo.users.inactive duo.user.status=locked_out":                          1,
		"duo.users.inactive duo.user.status=bypass":                              1,
		"duo.phones duo.phone.activated=true duo.phone.platform=Apple iOS":       1,
		"duo.phones duo.phone.activated=false duo.phone.platform=Google Android": 1,
		"duo.tokens duo.token.type=yk":                                           1,
		"duo.tokens duo.token.type=h6":                                           1,
		"duo.webauthn_credentials":                                               2,
		"duo.bypass_codes":                                                       2,
		"duo.groups duo.group.status=active":                                     1,
		"duo.groups duo.group.status=bypass":                                     1,
		"duo.endpoints duo.endpoint.os_family=Windows duo.endpoint.trusted=yes":  1,
		"duo.telephony.credits.remaining":                                        42,
		"duo.policies":                                                           0,
	}, got)
}

func TestPostureSkipsResourcesNotRead(t *testing.T) {
	p := NewPosture(time.Now(), time.Hour)
	require.NoError(t, p.Add(duoapi.Users, `{"status":"active","is_enrolled":true}`))
	p.Read(duoapi.Groups)
	mb := newMB()
	p.Record(mb, pcommon.NewTimestampFromTime(time.Now()))
	got := points(EmitMetrics(mb, testResource))
	assert.Equal(t, map[string]int64{}, got, "users not read in full, groups read but no groups: no point at all for users, and groups by status has none")
}

func TestPostureRejectsBadObjects(t *testing.T) {
	p := NewPosture(time.Now(), time.Hour)
	require.Error(t, p.Add(duoapi.Users, `{"is_enrolled":"yes"}`))
	require.Error(t, p.Add(duoapi.BypassCodes, `{"expiration":"soon"}`))
	require.Error(t, p.Add(duoapi.Groups, `[`))
}

// TestPostureGolden counts every resource's testdata and compares with
// testdata/golden/inventory/metrics.yaml. Regenerate with -update.
func TestPostureGolden(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	p := NewPosture(now, 720*time.Hour)
	for _, r := range duoapi.Resources {
		for _, o := range inventoryObjects(t, r) {
			require.NoError(t, p.Add(r, o.Raw))
		}
		p.Read(r)
	}
	mb := newMB()
	p.Record(mb, pcommon.NewTimestampFromTime(now))
	md := EmitMetrics(mb, testResource)
	path := filepath.Join("..", "..", "testdata", "golden", "inventory", "metrics.yaml")
	if *update {
		require.NoError(t, golden.WriteMetricsToFile(path, md))
	}
	want, err := golden.ReadMetrics(path)
	require.NoError(t, err)
	require.NoError(t, pmetrictest.CompareMetrics(want, md,
		pmetrictest.IgnoreMetricDataPointsOrder(), pmetrictest.IgnoreMetricsOrder(), pmetrictest.IgnoreStartTimestamp(), pmetrictest.IgnoreTimestamp()))
	v, ok := md.ResourceMetrics().At(0).Resource().Attributes().Get("duo.api.hostname")
	require.True(t, ok, "the logs' resource attributes")
	assert.Equal(t, testResource.APIHost, v.Str())
}

func TestUserStatus(t *testing.T) {
	for in, want := range map[string]string{"active": "active", "locked out": "locked_out", "pending deletion": "pending_deletion", "Bypass": "bypass"} {
		assert.Equal(t, want, UserStatus(in))
	}
}

func itoa(n int64) string { return pcommon.NewValueInt(n).AsString() }

// number reads what fmt.Sscan reads: strconv is only its fast path.
func TestNumberReadsAsSscan(t *testing.T) {
	for _, in := range []string{`1796120000`, `"1796120000"`, `1.5e9`, `"12.75"`, `-3`, `"12abc"`, `"0x10"`, `"NaN"`} {
		var n number
		err := n.UnmarshalJSON([]byte(in))
		var want float64
		_, werr := fmt.Sscan(strings.Trim(in, `"`), &want)
		require.Equal(t, werr == nil, err == nil, "%s: %v vs %v", in, err, werr)
		if err == nil && !math.IsNaN(want) {
			assert.Equal(t, want, float64(n), in)
		}
	}
	var n number
	assert.Error(t, n.UnmarshalJSON([]byte(`"soon"`)))
}
