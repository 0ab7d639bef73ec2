// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otelcol-duo/otelcol-duo/internal/duosim"
	"github.com/otelcol-duo/otelcol-duo/internal/otlptest"
)

// TestE2EInventory runs the binary with the duo receiver in a logs and a metrics pipeline
// (entity logs on) against the simulator's inventory, both written by the file exporter,
// and checks the first snapshot: every user exactly once by user.id, the gauges equal to
// the simulator's true counts, no integration secret anywhere.
func TestE2EInventory(t *testing.T) {
	bin := Collector(t)
	pop := duosim.DefaultPopulation()
	pop.Users = 2500
	pop.ShareBypassCodes = 0.3
	pop.Integrations = 6
	sim := StartSim(t, duosim.Config{Seed: 11, Population: &pop})
	dir := t.TempDir()
	logsOut, metricsOut := filepath.Join(dir, "logs.jsonl"), filepath.Join(dir, "metrics.jsonl")
	config := fmt.Sprintf(`receivers:
  duo:
    api_hostname: %s
    integration_key: %s
    secret_key: %s
    endpoint: %s
    logs:
      authentication: { enabled: true, pull_interval: 1h, window: 1h }
      administrator: { enabled: false }
      telephony: { enabled: false }
      activity: { enabled: false }
      offline_enrollment: { enabled: false }
    inventory:
      interval: 1h
      entity_logs: true
      resources:
        integrations: { enabled: true }
exporters:
  file/logs: { path: %s }
  file/metrics: { path: %s }
service:
  telemetry: { metrics: { level: none } }
  pipelines:
    logs: { receivers: [duo], exporters: [file/logs] }
    metrics: { receivers: [duo], exporters: [file/metrics] }
`, sim.Host, sim.IntegrationKey, sim.SecretKey, sim.URL, logsOut, metricsOut)
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	proc := StartCollector(t, bin, cfgPath)
	var md pmetric.Metrics
	WaitUntil(t, proc, 2*time.Minute, func() (bool, string) {
		mds, err := readJSONLines(metricsOut, func(b []byte) (pmetric.Metrics, error) {
			return (&pmetric.JSONUnmarshaler{}).UnmarshalMetrics(b)
		})
		if err != nil || len(mds) == 0 {
			return false, fmt.Sprintf("no metrics yet (%v)", err)
		}
		md = mds[0]
		return true, ""
	})
	counts := sim.InventoryCounts(720*time.Hour, time.Now())
	got := map[string]int64{}
	for name, dp := range otlptest.Gauges(md) {
		if name == "duo.users" {
			st, _ := dp.Attributes().Get("duo.user.status")
			en, _ := dp.Attributes().Get("duo.user.enrolled")
			got[fmt.Sprintf("users %s %v", st.Str(), en.Bool())] = dp.IntValue()
			continue
		}
		got[name] += dp.IntValue()
	}
	want := map[string]int64{}
	for k, n := range counts.Users {
		want[fmt.Sprintf("users %s %v", strings.ReplaceAll(k.Status, " ", "_"), k.Enrolled)] = int64(n)
	}
	want["duo.bypass_codes"] = int64(counts.ActiveBypassCodes)
	want["duo.telephony.credits.remaining"] = int64(counts.TelephonyCredits)
	want["duo.webauthn_credentials"] = int64(counts.WebAuthnCredentials)
	want["duo.policies"] = int64(counts.Policies)
	n := 0
	for _, c := range counts.Integrations {
		n += c
	}
	want["duo.integrations"] = int64(n)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %d, the simulator says %d", k, got[k], v)
		}
	}

	// The entity logs of that snapshot: wait until every user arrived.
	var users map[string]int
	WaitUntil(t, proc, time.Minute, func() (bool, string) {
		lds, err := readJSONLines(logsOut, func(b []byte) (plog.Logs, error) {
			return (&plog.JSONUnmarshaler{}).UnmarshalLogs(b)
		})
		if err != nil {
			return false, err.Error()
		}
		users = map[string]int{}
		for _, ld := range lds {
			for lr := range otlptest.LogRecords(ld) {
				if lr.EventName() == "duo.user" {
					id, _ := lr.Attributes().Get("user.id")
					users[id.Str()]++
				}
			}
		}
		return len(users) >= counts.UsersTotal, fmt.Sprintf("%d of %d users", len(users), counts.UsersTotal)
	})
	for id, c := range users {
		if c != 1 {
			t.Errorf("user %s delivered %d times in one snapshot", id, c)
		}
	}
	if err := proc.Stop(30 * time.Second); err != nil {
		t.Fatalf("collector did not stop cleanly: %v", err)
	}
	for _, path := range []string{logsOut, metricsOut} {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(data, []byte(duosim.IntegrationSecretPrefix)) || bytes.Contains(data, []byte("secret_key")) {
			t.Errorf("%s holds an integration secret", filepath.Base(path))
		}
	}
	if strings.Contains(proc.Log(), duosim.IntegrationSecretPrefix) {
		t.Error("the collector's log holds an integration secret")
	}
}

// readJSONLines decodes each line of the file exporter's output with dec.
func readJSONLines[T any](path string, dec func([]byte) (T, error)) ([]T, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), 256<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		v, err := dec(sc.Bytes())
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, sc.Err()
}
