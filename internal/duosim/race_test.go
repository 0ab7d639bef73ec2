// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duosim

import (
	"net/http"
	"sync"
	"testing"
	"time"
)

// TestChildListChangesWhileServing changes the child list while requests
// for the children are served (run with -race).
func TestChildListChangesWhileServing(t *testing.T) {
	kids := ChildAccounts(40, 0, 8)
	s := New(Config{Now: fixedClock(t0), Children: kids})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				k := kids[(w+i)%len(kids)]
				path := []string{"/admin/v2/logs/authentication", "/admin/v1/users", "/admin/v1/settings"}[i%3]
				q := msq("mintime", ms(t0.Add(-time.Hour)), "maxtime", ms(t0), "account_id", k.AccountID)
				r := do(t, s, accountsSigner(k.APIHostname), t0, path, q)
				if r.status != http.StatusOK && r.status != http.StatusForbidden {
					t.Errorf("%s for %s: %d %s", path, k.AccountID, r.status, r.body)
					return
				}
			}
		}(w)
	}
	for i := 0; i < 200; i++ {
		k := kids[i%len(kids)]
		s.RemoveChild(k.AccountID)
		k.Name += " (renamed)"
		if err := s.AddChild(k); err != nil {
			t.Fatal(err)
		}
		_ = s.Children()
	}
	close(stop)
	wg.Wait()
}
