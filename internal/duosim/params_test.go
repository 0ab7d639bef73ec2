// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duosim

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestParameterErrors(t *testing.T) {
	min := ms(t0.Add(-time.Hour))
	max := ms(t0)
	auth := "/admin/v2/logs/authentication"
	tests := []struct {
		name   string
		path   string
		q      url.Values
		detail string
	}{
		{"missing mintime", auth, msq("maxtime", max), "mintime"},
		{"missing maxtime", "/admin/v2/logs/activity", msq("mintime", min), "maxtime"},
		{"mintime in seconds", auth, msq("mintime", itoaInt(int(t0.Add(-time.Hour).Unix())), "maxtime", max), "'mintime' must be a timestamp in milliseconds"},
		{"maxtime in seconds", "/admin/v2/logs/telephony", msq("mintime", min, "maxtime", itoaInt(int(t0.Unix()))), "'maxtime' must be a timestamp in milliseconds"},
		{"mintime not a number", auth, msq("mintime", "yesterday", "maxtime", max), "milliseconds"},
		{"mintime older than 180 days", auth, msq("mintime", ms(t0.Add(-181*24*time.Hour)), "maxtime", max), "mintime must be within the past 180 days"},
		{"TM mintime older than 180 days", "/admin/v1/trust_monitor/events", msq("mintime", ms(t0.Add(-181*24*time.Hour)), "maxtime", max), "180 days"},
		{"maxtime equal to mintime", auth, msq("mintime", max, "maxtime", max), "greater than"},
		{"maxtime before mintime", "/admin/v2/logs/telephony", msq("mintime", max, "maxtime", min), "greater than"},
		{"limit over 1000", auth, msq("mintime", min, "maxtime", max, "limit", "1001"), "limit"},
		{"limit zero", "/admin/v2/logs/activity", msq("mintime", min, "maxtime", max, "limit", "0"), "limit"},
		{"limit not a number", auth, msq("mintime", min, "maxtime", max, "limit", "all"), "limit"},
		{"TM limit over 500", "/admin/v1/trust_monitor/events", msq("mintime", min, "maxtime", max, "limit", "501"), "500"},
		{"bad sort", auth, msq("mintime", min, "maxtime", max, "sort", "timestamp"), "sort"},
		{"next_offset without id", auth, msq("mintime", min, "maxtime", max, "next_offset", "1700000000000"), "next_offset"},
		{"telephony next_offset as two params", "/admin/v2/logs/telephony", msq("mintime", min, "maxtime", max, "next_offset", "1", "next_offset", "x"), "next_offset"},
		{"TM offset negative", "/admin/v1/trust_monitor/events", msq("mintime", min, "maxtime", max, "offset", "-1"), "offset"},
		{"v1 mintime in milliseconds", "/admin/v1/logs/administrator", msq("mintime", min), "seconds"},
		{"v1 mintime not a number", "/admin/v1/logs/offline_enrollment", msq("mintime", "x"), "seconds"},
	}
	s := New(Config{Now: fixedClock(t0)})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, s, defaultSigner(), t0, tc.path, tc.q)
			if r.status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", r.status, r.body)
			}
			e := decodeErr(t, r.body)
			if e.Code != 40002 || e.Message != "Invalid request parameters" || !strings.Contains(e.MessageDetail, tc.detail) {
				t.Fatalf("got %+v, want 40002 with detail containing %q", e, tc.detail)
			}
		})
	}
}

func TestRouting(t *testing.T) {
	s := New(Config{Now: fixedClock(t0), Seed: 4})
	tests := []struct {
		name, method, path string
		status, code       int
		body               string
	}{
		{"summary", http.MethodGet, "/admin/v1/info/summary", 200, 0, `"user_pending_deletion_count":`},
		{"unknown path", http.MethodGet, "/admin/v1/phones", 404, 40401, ""},
		{"wrong method", http.MethodPost, "/admin/v1/info/summary", 405, 40501, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := newSigned(t, tc.method, tc.path)
			rec := serve(s, req)
			if rec.status != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.status, tc.status, rec.body)
			}
			if tc.code != 0 && decodeErr(t, rec.body).Code != tc.code {
				t.Fatalf("body %s, want code %d", rec.body, tc.code)
			}
			if !strings.Contains(string(rec.body), tc.body) {
				t.Fatalf("body %s lacks %s", rec.body, tc.body)
			}
		})
	}
}
