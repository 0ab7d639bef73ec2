// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bufio"
	"bytes"
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
		"delay", "p429", "rate-limit", "p5xx", "slow", "p-slow", "p-truncate", "clock-offset", "max-skew", "v"} {
		if !regexp.MustCompile(`(?m)^  -` + regexp.QuoteMeta(f) + `\b`).MatchString(out.String()) {
			t.Errorf("-help does not document -%s", f)
		}
	}
	if !strings.Contains(out.String(), `"127.0.0.1:8089"`) {
		t.Error("-listen default is not loopback 127.0.0.1:8089")
	}
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-types", "authentication,nope"}, {"-listen"}, {"extra"}} {
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
		done <- run([]string{"-listen", "127.0.0.1:0", "-backfill", "10", "-live", "1", "-v"}, pw, io.Discard)
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
