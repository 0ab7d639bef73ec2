// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

//go:build e2e

package e2e

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/otelcol-duo/otelcol-duo/internal/duosim"
)

// childExpected counts the events of the given children, leaving out the log types each
// refuses.
func childExpected(t *testing.T, sim *duosim.Sim, kids []duosim.ChildAccount) Counts {
	t.Helper()
	out := Counts{}
	for _, k := range kids {
		for _, lt := range duosim.LogTypes() {
			if _, refused := k.Refuse[lt]; refused {
				continue
			}
			for _, ev := range sim.Account(k.AccountID).Events(lt) {
				key, err := keyOfRaw(lt, ev.ID, ev.Raw)
				if err != nil {
					t.Fatal(err)
				}
				out[key]++
			}
		}
	}
	return out
}

// TestE2EAccounts runs otelcol-duo on a parent's Accounts API keys against the simulator:
// 8 children, one excluded by a glob on its name, one refusing telephony; then one child
// removed and one added with a backlog. Every event of every child read reaches the sink
// exactly once, nothing of the excluded one, and the collector shuts down cleanly.
func TestE2EAccounts(t *testing.T) {
	bin := Collector(t)
	dir := t.TempDir()
	kids := duosim.ChildAccounts(3, 0, 8)
	kids[2].Refuse = map[string]int{"telephony": 40401}
	excluded, removed := kids[5], kids[7]
	added := duosim.ChildAccounts(3, 8, 1)[0]
	sim := StartSim(t, duosim.Config{Seed: 3, Delay: time.Second, Children: append(slices.Clone(kids), added), StrictChildHost: true})
	now := time.Now()
	for _, k := range append(slices.Clone(kids), added) {
		for _, lt := range duosim.LogTypes() {
			sim.Account(k.AccountID).Backfill(lt, 300, now.Add(-time.Hour), now.Add(-time.Minute))
		}
	}
	if !sim.RemoveChild(added.AccountID) { // listed later, with its backlog waiting
		t.Fatal("cannot take the added child off the list")
	}
	sink := StartSink(t, filepath.Join(dir, "sink.bin"))
	cfg := CollectorConfig{}.For(sim, sink, filepath.Join(dir, "storage"))
	cfg.IntegrationKey, cfg.SecretKey = duosim.DefaultAccountsIntegrationKey, duosim.DefaultAccountsSecretKey
	glob := strings.SplitN(excluded.Name, " ", 3)
	cfg.ReceiverExtraYAML = fmt.Sprintf("    accounts:\n      discover: true\n      refresh_interval: 1s\n      exclude: [%q]",
		glob[0]+" "+glob[1]+" *")
	proc := StartCollector(t, bin, WriteConfig(t, cfg, dir))

	var read []duosim.ChildAccount
	for _, k := range kids {
		if k.AccountID != excluded.AccountID {
			read = append(read, k)
		}
	}
	check := func(want Counts) {
		t.Helper()
		WaitUntil(t, proc, 5*time.Minute, func() (bool, string) {
			n := sink.RecordCount()
			return n >= want.Total(), "sink has " + itoa(n) + " records, want " + itoa(want.Total())
		})
		time.Sleep(3 * time.Second) // more pulls and refreshes: they must add nothing
		ld, err := sink.Logs()
		if err != nil {
			t.Fatal(err)
		}
		if d := Compare(want, Received(ld)); !d.Exact() {
			t.Fatalf("delivery is not exactly once: %s", d)
		}
	}
	check(childExpected(t, sim.Sim, read))

	if !sim.RemoveChild(removed.AccountID) {
		t.Fatal("cannot remove a child")
	}
	if err := sim.AddChild(added); err != nil {
		t.Fatal(err)
	}
	check(childExpected(t, sim.Sim, append(read, added)))
	if err := proc.Stop(30 * time.Second); err != nil {
		t.Fatalf("collector did not shut down cleanly: %v", err)
	}
	// The refusing child warns once. The removed child may be refused too (40301) by the
	// pulls that come before the list is read again, at most once per log type.
	log := proc.Log()
	warnings := func(acct string) int {
		n := 0
		for _, line := range strings.Split(log, "\n") {
			if strings.Contains(line, "does not serve this log type") && strings.Contains(line, acct) {
				n++
			}
		}
		return n
	}
	if n := warnings(kids[2].AccountID); n != 1 {
		t.Errorf("%d warnings about the refused log type, want 1", n)
	}
	if n := warnings(removed.AccountID); n > len(duosim.LogTypes()) {
		t.Errorf("%d refusal warnings for the removed child, want at most one per log type", n)
	}
	if n := strings.Count(log, "does not serve this log type"); n != warnings(kids[2].AccountID)+warnings(removed.AccountID) {
		t.Errorf("refusal warnings for children that refuse nothing:\n%s", log)
	}
}
