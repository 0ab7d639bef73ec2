// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestHelpDocumentsEveryFlag(t *testing.T) {
	var out bytes.Buffer
	err := run([]string{"-help"}, io.Discard, &out)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("run -help: %v", err)
	}
	for _, f := range []string{"listen", "host", "ikey", "skey", "seed", "backfill", "span", "live", "types",
		"delay", "p429", "rate-limit", "p5xx", "slow", "p-slow", "p-truncate", "clock-offset", "max-skew", "v",
		"users", "share-unenrolled", "share-bypass", "share-locked-out", "share-disabled", "share-pending-deletion",
		"share-inactive", "share-never-logged-in", "inactive-after", "share-bypass-codes", "bypass-codes-per-user",
		"phones-min", "phones-max", "share-tokens", "share-webauthn", "share-shared-phone", "groups", "endpoints",
		"admins", "integrations", "policies", "telephony-credits", "children", "child-users", "child-backfill", "child-live",
		"child-refuse", "child-refuse-every", "child-refuse-code", "accounts-ikey", "accounts-skey",
		"strict-child-host", "debug"} {
		if !regexp.MustCompile(`(?m)^  -` + regexp.QuoteMeta(f) + `\b`).MatchString(out.String()) {
			t.Errorf("-help does not document -%s", f)
		}
	}
	if !strings.Contains(out.String(), `"127.0.0.1:8089"`) {
		t.Error("-listen default is not loopback 127.0.0.1:8089")
	}
	for _, s := range []string{"go run ./cmd/duosim", "/_duosim/counts", "account_id"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("-help does not mention %s", s)
		}
	}
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-types", "authentication,nope"}, {"-listen"}, {"extra"},
		{"-children", "2", "-child-refuse", "telephony,phones"}, {"-child-refuse-code", "500"}, {"-child-refuse-every", "0"}} {
		if err := run(args, io.Discard, io.Discard); err == nil {
			t.Errorf("run %v: no error", args)
		}
	}
}

// TestRunServesAndStopsOnSignal starts the program, asks it for the
// summary (unauthenticated: 401 proves it is the simulator answering) and
// stops it with SIGTERM.
func TestRunServesAndStopsOnSignal(t *testing.T) {
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run([]string{"-listen", "127.0.0.1:0", "-backfill", "10", "-live", "1", "-v",
			"-users", "123", "-children", "4", "-child-users", "9", "-child-backfill", "3", "-child-live", "1",
			"-child-refuse", "telephony,trust_monitor", "-child-refuse-every", "2", "-child-refuse-code", "40401"}, pw, io.Discard)
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	var addr string
	for sc.Scan() {
		if m := regexp.MustCompile(`http://(\S+)`).FindStringSubmatch(sc.Text()); m != nil && addr == "" {
			addr = m[1]
			break
		}
	}
	if addr == "" {
		t.Fatal("no listen address printed")
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	resp, err := http.Get("http://" + addr + "/admin/v1/info/summary")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", resp.StatusCode)
	}
	var kids []struct {
		AccountID string         `json:"account_id"`
		Refuse    map[string]int `json:"refuse"`
	}
	getJSON(t, "http://"+addr+"/_duosim/children", &kids)
	if len(kids) != 4 || kids[0].Refuse["telephony"] != 40401 || kids[0].Refuse["trust_monitor"] != 40401 ||
		kids[1].Refuse != nil || kids[2].Refuse == nil {
		t.Fatalf("children %+v: want 4, the 1st and 3rd refusing telephony and trust_monitor with 40401", kids)
	}
	var counts struct {
		Users int `json:"users_total"`
	}
	getJSON(t, "http://"+addr+"/_duosim/counts", &counts)
	if counts.Users != 123 {
		t.Fatalf("parent has %d users, want 123", counts.Users)
	}
	getJSON(t, "http://"+addr+"/_duosim/counts?account_id="+kids[3].AccountID, &counts)
	if counts.Users != 9 {
		t.Fatalf("child has %d users, want 9", counts.Users)
	}
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not stop on SIGTERM")
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", url, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}
