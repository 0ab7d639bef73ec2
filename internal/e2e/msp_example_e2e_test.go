// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otelcol-duo/otelcol-duo/internal/duosim"
)

// TestE2EMSPExample runs examples/duo-msp.yaml as written (only the endpoint, the pace and
// the metrics exporter overridden with --set) against a simulated parent with three
// children, one of them named as the example's exclude list means: each included child's
// denied and fraudulent authentications arrive, nothing else and nothing of the excluded
// child, every record and every metric carrying its child's id, name and host.
func TestE2EMSPExample(t *testing.T) {
	bin := Collector(t)
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	kids := duosim.ChildAccounts(5, 0, 3)
	kids[1].Name = "Acme (test)" // the example excludes "* (test)"
	excluded := kids[1]
	pop := duosim.DefaultPopulation()
	pop.Users = 40
	sim := StartSim(t, duosim.Config{Seed: 5, Delay: time.Second, Children: kids, ChildPopulation: &pop})
	now := time.Now()
	for _, k := range kids {
		sim.Account(k.AccountID).Backfill("authentication", 400, now.Add(-time.Hour), now.Add(-time.Minute))
	}
	// What the example's filter lets through: results denied and fraud, per child read.
	want := map[string]int{}
	for _, k := range kids {
		if k.AccountID == excluded.AccountID {
			continue
		}
		for _, ev := range sim.Account(k.AccountID).Events("authentication") {
			var rec struct {
				Result string `json:"result"`
			}
			if err := json.Unmarshal(ev.Raw, &rec); err != nil {
				t.Fatal(err)
			}
			if rec.Result == "denied" || rec.Result == "fraud" {
				want[k.AccountID]++
			}
		}
		if want[k.AccountID] == 0 {
			t.Fatalf("child %s has no denied or fraudulent authentication: the test would prove nothing", k.AccountID)
		}
	}

	sink := StartSink(t, filepath.Join(dir, "sink.bin"))
	metricsOut := filepath.Join(dir, "metrics.jsonl")
	sets := append(exampleEnv(t, sim.Host, sim.URL, duosim.DefaultAccountsIntegrationKey, duosim.DefaultAccountsSecretKey, sink.URL, dir),
		// The sink takes logs only: the metrics go to a file.
		"--set=exporters::file::path="+metricsOut,
		"--set=service::pipelines::metrics::exporters=[file]",
	)
	for _, lt := range []string{"authentication", "administrator", "telephony", "activity", "offline_enrollment"} {
		sets = append(sets, "--set=receivers::duo::logs::"+lt+"::pull_interval=1s")
	}
	proc := StartCollector(t, bin, filepath.Join(root, "examples", "duo-msp.yaml"), append(sets, gateFlag)...)

	total := 0
	for _, n := range want {
		total += n
	}
	WaitUntil(t, proc, 3*time.Minute, func() (bool, string) {
		n := sink.RecordCount()
		return n >= total, "sink has " + itoa(n) + " records, want " + itoa(total)
	})
	var mds []pmetric.Metrics
	WaitUntil(t, proc, 2*time.Minute, func() (bool, string) {
		mds, err = readJSONLines(metricsOut, func(b []byte) (pmetric.Metrics, error) {
			return (&pmetric.JSONUnmarshaler{}).UnmarshalMetrics(b)
		})
		seen := map[string]bool{}
		for _, md := range mds {
			for i := range md.ResourceMetrics().Len() {
				id, _ := md.ResourceMetrics().At(i).Resource().Attributes().Get("duo.account.id")
				seen[id.Str()] = true
			}
		}
		return len(seen) >= len(want), fmt.Sprintf("metrics from %d children, want %d (%v)", len(seen), len(want), err)
	})
	time.Sleep(3 * time.Second) // more pulls: they must add nothing
	if err := proc.Stop(30 * time.Second); err != nil {
		t.Fatalf("collector did not stop cleanly: %v", err)
	}

	byID := map[string]duosim.ChildAccount{}
	for _, k := range kids {
		byID[k.AccountID] = k
	}
	// checkResource fails unless attrs name an included child, by id, name and host.
	checkResource := func(what string, get func(string) string) string {
		id := get("duo.account.id")
		k, ok := byID[id]
		switch {
		case !ok:
			t.Errorf("%s from an unknown account %q", what, id)
		case id == excluded.AccountID:
			t.Errorf("%s from the excluded child %s", what, id)
		case get("duo.account.name") != k.Name || get("duo.api.hostname") != k.APIHostname:
			t.Errorf("%s of child %s: name %q, host %q; want %q, %q", what, id,
				get("duo.account.name"), get("duo.api.hostname"), k.Name, k.APIHostname)
		}
		return id
	}
	ld, err := sink.Logs()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	uids := map[string]bool{}
	for i := range ld.ResourceLogs().Len() {
		rl := ld.ResourceLogs().At(i)
		id := checkResource("a log record", func(k string) string {
			v, _ := rl.Resource().Attributes().Get(k)
			return v.Str()
		})
		forEachRecordOf(rl, func(lr plog.LogRecord) {
			res, _ := lr.Attributes().Get("duo.result")
			if r := res.Str(); r != "denied" && r != "fraud" {
				t.Errorf("an authentication with result %q passed the example's filter", r)
			}
			uid, _ := lr.Attributes().Get("log.record.uid")
			if uids[uid.Str()] {
				t.Errorf("record %s delivered twice", uid.Str())
			}
			uids[uid.Str()] = true
			got[id]++
		})
	}
	for id, n := range want {
		if got[id] != n {
			t.Errorf("child %s: %d records, want %d", id, got[id], n)
		}
	}
	for _, md := range mds {
		for i := range md.ResourceMetrics().Len() {
			attrs := md.ResourceMetrics().At(i).Resource().Attributes()
			checkResource("a metric", func(k string) string {
				v, _ := attrs.Get(k)
				return v.Str()
			})
		}
	}
	if strings.Contains(proc.Log(), duosim.DefaultAccountsSecretKey) {
		t.Error("the collector's log holds the secret key")
	}
}

// forEachRecordOf calls fn for every log record of rl.
func forEachRecordOf(rl plog.ResourceLogs, fn func(plog.LogRecord)) {
	for j := range rl.ScopeLogs().Len() {
		lrs := rl.ScopeLogs().At(j).LogRecords()
		for k := range lrs.Len() {
			fn(lrs.At(k))
		}
	}
}
