// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duosim

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestBurstTwinsStraggler(t *testing.T) {
	sec := t0.Add(-time.Hour).Truncate(time.Second)
	for _, lt := range LogTypes() {
		t.Run(lt, func(t *testing.T) {
			s := New(Config{Now: fixedClock(t0), Seed: 11})
			s.Burst(lt, 50, sec)
			evs := s.Events(lt)
			if len(evs) != 50 {
				t.Fatalf("burst made %d events", len(evs))
			}
			ids := map[string]bool{}
			raws := map[string]bool{}
			for _, e := range evs {
				if e.Time.Before(sec) || !e.Time.Before(sec.Add(time.Second)) {
					t.Fatalf("burst event at %v outside %v", e.Time, sec)
				}
				ids[e.ID] = true
				raws[string(e.Raw)] = true
			}
			if len(ids) != 50 || len(raws) != 50 {
				t.Fatalf("burst: %d distinct ids, %d distinct records, want 50", len(ids), len(raws))
			}

			s = New(Config{Now: fixedClock(t0), Seed: 11})
			s.Twins(lt, 3, sec)
			tw := s.Events(lt)
			if len(tw) != 3 || !bytes.Equal(tw[0].Raw, tw[1].Raw) || !bytes.Equal(tw[1].Raw, tw[2].Raw) {
				t.Fatalf("twins are not byte-identical: %d events", len(tw))
			}
			if typeInfoOf(lt).kind == kindV1 {
				if tw[0].ID == tw[1].ID || strings.Contains(string(tw[0].Raw), tw[0].ID) {
					t.Fatalf("v1 twin ids must be distinct and absent from Raw: %q", tw[0].ID)
				}
				if got := served(t, s, lt, t0, sec.Add(-time.Minute), t0); len(got) != 3 {
					t.Fatalf("served %d twins, want 3", len(got))
				}
			}

			s = New(Config{Now: fixedClock(t0), Seed: 11})
			late := t0.Add(30 * time.Minute)
			s.Straggler(lt, t0.Add(-time.Hour), late)
			if n := len(served(t, s, lt, t0, t0.Add(-2*time.Hour), t0)); n != 0 {
				t.Fatalf("straggler served %d records before it surfaced", n)
			}
			if n := len(s.Visible(lt, late)); n != 1 {
				t.Fatalf("Visible at surfacing: %d", n)
			}
		})
	}
}

// TestStragglerSurfaces serves a straggler once the clock passes its
// VisibleAt, inside the window that covers its (old) time, and counts it in
// total_objects only then.
func TestStragglerSurfaces(t *testing.T) {
	clock := t0
	s := New(Config{Now: func() time.Time { return clock }, Seed: 12})
	s.Backfill("authentication", 100, t0.Add(-2*time.Hour), t0.Add(-time.Hour))
	s.Straggler("authentication", t0.Add(-90*time.Minute), t0.Add(10*time.Minute))
	q := msq("mintime", ms(t0.Add(-3*time.Hour)), "maxtime", ms(t0.Add(-30*time.Minute)), "sort", "ts:asc", "limit", "1000")
	for _, tc := range []struct {
		at   time.Time
		want int
	}{{t0, 100}, {t0.Add(10 * time.Minute), 101}} {
		clock = tc.at
		ids, _, total := walk(t, s, "authentication", tc.at, q)
		if len(ids) != tc.want || total != tc.want {
			t.Fatalf("at %v: %d records, total_objects %d, want %d", tc.at.Sub(t0), len(ids), total, tc.want)
		}
	}
}

func TestDeterminism(t *testing.T) {
	build := func(seed int64) *Sim {
		s := New(Config{Now: fixedClock(t0), Seed: seed})
		for _, lt := range LogTypes() {
			s.Backfill(lt, 200, t0.Add(-time.Hour), t0)
			s.Burst(lt, 5, t0.Add(-30*time.Minute))
			s.Twins(lt, 2, t0.Add(-20*time.Minute))
		}
		return s
	}
	a, b, c := build(42), build(42), build(43)
	for _, lt := range LogTypes() {
		ea, eb, ec := a.Events(lt), b.Events(lt), c.Events(lt)
		if !slices.EqualFunc(ea, eb, func(x, y Event) bool {
			return x.ID == y.ID && x.Time.Equal(y.Time) && bytes.Equal(x.Raw, y.Raw)
		}) {
			t.Fatalf("%s: same seed, different events", lt)
		}
		same := 0
		for i := range ea {
			if bytes.Equal(ea[i].Raw, ec[i].Raw) {
				same++
			}
		}
		if same > len(ea)/10 {
			t.Fatalf("%s: seeds 42 and 43 gave %d identical records of %d", lt, same, len(ea))
		}
		// Rendering again gives the same bytes.
		if again := a.Events(lt); !bytes.Equal(again[7].Raw, ea[7].Raw) {
			t.Fatalf("%s: record re-rendered differently", lt)
		}
	}
}

// TestRecordShapes checks that the records carry every field shape docs/duo-api.md
// §3 lists, and that ids and times in Raw match the Event.
func TestRecordShapes(t *testing.T) {
	s := New(Config{Now: fixedClock(t0), Seed: 13})
	for _, lt := range LogTypes() {
		s.Backfill(lt, 3000, t0.Add(-6*time.Hour), t0.Add(-time.Hour))
	}
	seen := map[string]bool{}
	mark := func(k string) { seen[k] = true }
	kind := func(v any) string {
		switch x := v.(type) {
		case nil:
			return "null"
		case bool:
			return "bool"
		case string:
			if x == "unknown" {
				return "unknown"
			}
			return "string"
		case float64:
			return "number"
		case []any:
			return "array"
		case map[string]any:
			return "object"
		}
		return "?"
	}
	jsonString := func(v any) bool {
		str, ok := v.(string)
		var m map[string]any
		return ok && json.Unmarshal([]byte(str), &m) == nil
	}
	for _, lt := range LogTypes() {
		for _, e := range s.Events(lt) {
			var m map[string]any
			if err := json.Unmarshal(e.Raw, &m); err != nil {
				t.Fatalf("%s: invalid JSON %v: %s", lt, err, e.Raw)
			}
			if f := idField[lt]; f != "" && m[f] != e.ID {
				t.Fatalf("%s: %s %v != Event.ID %s", lt, f, m[f], e.ID)
			}
			switch lt {
			case "authentication":
				if int64(m["timestamp"].(float64)) != e.Time.Unix() {
					t.Fatal("timestamp != Event.Time seconds")
				}
				iso, _ := time.Parse(time.RFC3339Nano, m["isotimestamp"].(string))
				if !iso.Equal(e.Time) {
					t.Fatalf("isotimestamp %v != %v", iso, e.Time)
				}
				ad := m["access_device"].(map[string]any)
				mark("auth.is_encryption_enabled." + kind(ad["is_encryption_enabled"]))
				mark("auth.security_agents." + kind(ad["security_agents"]))
				ip, _ := ad["ip"].(string)
				switch {
				case ad["ip"] == nil:
					mark("auth.ip.null")
				case strings.Count(ip, ":") > 1:
					mark("auth.ip.v6")
				case strings.Contains(ip, ":"):
					mark("auth.ip.port")
				}
				if loc := ad["location"].(map[string]any); loc["city"] == nil && loc["country"] == nil {
					mark("auth.location.null")
				}
				if _, ok := m["trusted_endpoint_status"]; !ok {
					mark("auth.trusted_endpoint_status.absent")
				}
				if _, ok := m["adaptive_trust_assessments"]; ok {
					mark("auth.adaptive_trust_assessments")
				}
				mark("auth.event_type." + kind(m["event_type"]))
				name := m["user"].(map[string]any)["name"].(string)
				if strings.ContainsFunc(name, func(r rune) bool { return r > 127 }) {
					mark("auth.user.unicode")
				}
			case "administrator":
				if jsonString(m["description"]) {
					mark("admin.description.json")
				} else {
					mark("admin.description." + kind(m["description"]))
				}
				if m["isotimestamp"].(string) != e.Time.UTC().Format("2006-01-02T15:04:05+00:00") {
					t.Fatalf("admin isotimestamp %v", m["isotimestamp"])
				}
			case "activity":
				mark("activity.action." + kind(m["action"]))
				mark("activity.outcome." + kind(m["outcome"]))
				if actor := m["actor"].(map[string]any); jsonString(actor["details"]) {
					mark("activity.actor.details.json")
				}
				mark("activity.target." + kind(m["target"]))
			case "offline_enrollment":
				if jsonString(m["description"]) {
					mark("offline.description.json")
				}
			case "trust_monitor":
				mark("tm.type." + m["type"].(string))
				mark("tm.state_updated_timestamp." + kind(m["state_updated_timestamp"]))
				if int64(m["surfaced_timestamp"].(float64)) != e.Time.UnixMilli() {
					t.Fatal("surfaced_timestamp != Event.Time")
				}
			case "telephony":
				mark("telephony.type." + m["type"].(string))
			}
		}
	}
	want := []string{
		"auth.is_encryption_enabled.bool", "auth.is_encryption_enabled.unknown",
		"auth.security_agents.array", "auth.security_agents.unknown", "auth.security_agents.null",
		"auth.ip.null", "auth.ip.v6", "auth.ip.port", "auth.location.null", "auth.trusted_endpoint_status.absent",
		"auth.adaptive_trust_assessments", "auth.event_type.null", "auth.event_type.string", "auth.user.unicode",
		"admin.description.json", "admin.description.string", "admin.description.null",
		"activity.action.string", "activity.action.object", "activity.outcome.object", "activity.outcome.string",
		"activity.actor.details.json", "activity.target.null", "activity.target.object",
		"offline.description.json",
		"tm.type.auth", "tm.type.bypass_status", "tm.type.device_registration",
		"tm.state_updated_timestamp.null", "tm.state_updated_timestamp.number",
		"telephony.type.sms", "telephony.type.phone",
	}
	for _, k := range want {
		if !seen[k] {
			t.Errorf("shape %s never generated", k)
		}
	}
}

// TestTotalObjectsShapes: telephony and activity report total_objects as an
// int for some windows and as {relation, value} for others (docs/duo-api.md §3.3).
func TestTotalObjectsShapes(t *testing.T) {
	s := New(Config{Now: fixedClock(t0), Seed: 14})
	s.Backfill("telephony", 50, t0.Add(-time.Hour), t0.Add(-10*time.Minute))
	shapes := map[string]bool{}
	for i := 0; i < 40 && len(shapes) < 2; i++ {
		q := msq("mintime", ms(t0.Add(-time.Hour-time.Duration(i)*time.Millisecond)), "maxtime", ms(t0))
		r := do(t, s, defaultSigner(), t0, "/admin/v2/logs/telephony", q)
		var env envV2
		if err := json.Unmarshal(r.body, &env); err != nil {
			t.Fatal(err)
		}
		if totalOf(t, env.Response.Metadata.TotalObjects) != 50 {
			t.Fatalf("total %s, want 50", env.Response.Metadata.TotalObjects)
		}
		shapes[string(env.Response.Metadata.TotalObjects[:1])] = true
	}
	if !shapes["{"] || len(shapes) != 2 {
		t.Fatalf("total_objects shapes seen: %v", shapes)
	}
}

func TestLive(t *testing.T) {
	s := New(Config{Seed: 15, Delay: -1})
	ctx, cancel := contextWithTimeout(t, 30*time.Second)
	defer cancel()
	s.StartLive(ctx, 200, "authentication", "administrator")
	deadline := time.Now().Add(20 * time.Second)
	for len(s.Events("authentication")) < 20 || len(s.Events("administrator")) < 20 {
		if time.Now().After(deadline) {
			t.Fatalf("live produced %d/%d events in 20s", len(s.Events("authentication")), len(s.Events("administrator")))
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	for _, e := range s.Events("authentication") {
		if d := time.Since(e.Time); d < -time.Second || d > 25*time.Second {
			t.Fatalf("live event time %v is not 'now'", e.Time)
		}
	}
	if len(s.Events("telephony")) != 0 {
		t.Fatal("live generated an unlisted type")
	}
}

func TestPath(t *testing.T) {
	for lt, want := range map[string]string{
		"authentication":     "/admin/v2/logs/authentication",
		"administrator":      "/admin/v1/logs/administrator",
		"telephony":          "/admin/v2/logs/telephony",
		"activity":           "/admin/v2/logs/activity",
		"offline_enrollment": "/admin/v1/logs/offline_enrollment",
		"trust_monitor":      "/admin/v1/trust_monitor/events",
		"nope":               "",
	} {
		if got := Path(lt); got != want {
			t.Errorf("Path(%q) = %q, want %q", lt, got, want)
		}
	}
}
