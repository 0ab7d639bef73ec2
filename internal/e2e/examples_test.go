// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-duo/otelcol-duo/internal/duosim"
	"github.com/otelcol-duo/otelcol-duo/internal/otlptest"
)

// fakeEnv is what the examples read from the environment, at well-formed fake values.
func fakeEnv(t *testing.T) []string {
	dir := t.TempDir()
	return append(os.Environ(),
		"DUO_API_HOSTNAME=api-12345678.duosecurity.com",
		"DUO_INTEGRATION_KEY=DIABCDEFGHIJ01234567",
		"DUO_SECRET_KEY="+strings.Repeat("s", 40),
		"OTLP_ENDPOINT=https://otlp.example.com:4318",
		"OTLP_TOKEN=fake-token",
		"OTELCOL_DUO_STATE_DIR="+filepath.Join(dir, "state"),
		"OTELCOL_DUO_OUT="+filepath.Join(dir, "out.jsonl"),
		"DEMO_DIR="+filepath.Join(dir, "demo"),
	)
}

// TestE2EExamplesValidate runs `otelcol-duo validate` on every examples/*.yaml (they must
// pass) and on a config with a bad receiver section (it must fail, naming the fields),
// with the feature gate the examples are documented to run with.
func TestE2EExamplesValidate(t *testing.T) {
	bin := Collector(t)
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	examples, err := filepath.Glob(filepath.Join(root, "examples", "*.yaml"))
	if err != nil || len(examples) < 3 {
		t.Fatalf("want at least 3 example configs, found %v (%v)", examples, err)
	}
	// The container image's default config (the container test validates it in the image too).
	examples = append(examples, filepath.Join(root, "examples", "container", "config.yaml"))
	type tc struct {
		name     string
		path     string
		wantOK   bool
		wantText []string
	}
	var tests []tc
	for _, ex := range examples {
		name, _ := filepath.Rel(filepath.Join(root, "examples"), ex)
		tests = append(tests, tc{name: name, path: ex, wantOK: true})
	}
	tests = append(tests, tc{
		name:     "invalid receiver config",
		path:     filepath.Join(root, "testdata", "e2e", "invalid.yaml"),
		wantText: []string{"api_hostname:", "integration_key:", "secret_key:", "endpoint:"},
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(bin, "validate", "--config", tt.path, gateFlag)
			cmd.Env = fakeEnv(t)
			out, err := cmd.CombinedOutput()
			if tt.wantOK && err != nil {
				t.Fatalf("validate failed: %v\n%s", err, out)
			}
			if !tt.wantOK && err == nil {
				t.Fatalf("validate accepted an invalid config:\n%s", out)
			}
			for _, s := range tt.wantText {
				if !bytes.Contains(out, []byte(s)) {
					t.Errorf("validate output does not mention %q:\n%s", s, out)
				}
			}
		})
	}
}

// TestE2EExamplesCover checks that the examples show each way the receiver is used, and
// that the repository README's table lists every one of them: a user copies an example
// before reading the reference.
func TestE2EExamplesCover(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	examples, err := filepath.Glob(filepath.Join(root, "examples", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	uses := map[string]*regexp.Regexp{
		"the child accounts of an MSP parent": regexp.MustCompile(`(?m)^ +accounts:\n +discover: true`),
		"inventory in a metrics pipeline":     regexp.MustCompile(`(?m)^ +metrics:\n +receivers: \[duo\]`),
		"authentication log filters":          regexp.MustCompile(`(?m)^ +filters:\n`),
	}
	found := map[string]bool{}
	for _, ex := range examples {
		data, err := os.ReadFile(ex)
		if err != nil {
			t.Fatal(err)
		}
		for use, re := range uses {
			if re.Match(data) {
				found[use] = true
			}
		}
		rel := "examples/" + filepath.Base(ex)
		if !bytes.Contains(readme, []byte("["+rel+"]("+rel+")")) {
			t.Errorf("README.md's table of examples does not list %s", rel)
		}
	}
	for use := range uses {
		if !found[use] {
			t.Errorf("no example under examples/ shows %s", use)
		}
	}
}

// readFileExporter reads an OTLP-JSON-lines file written by the file exporter, skipping a
// line still being written.
func readFileExporter(path string) (plog.Logs, error) {
	all := plog.NewLogs()
	f, err := os.Open(path)
	if err != nil {
		if os.IsNotExist(err) {
			return all, nil
		}
		return all, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	var u plog.JSONUnmarshaler
	for sc.Scan() {
		ld, err := u.UnmarshalLogs(sc.Bytes())
		if err != nil {
			continue
		}
		ld.ResourceLogs().MoveAndAppendTo(all.ResourceLogs())
	}
	return all, sc.Err()
}

// TestE2EDemo runs examples/demo.yaml (what `make run` runs) against the simulator and
// checks that the file exporter receives every backfilled event of all six log types
// exactly once, and that it logs no warning.
func TestE2EDemo(t *testing.T) {
	bin := Collector(t)
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	sim := StartSim(t, duosim.Config{Seed: 3, Delay: 5 * time.Second})
	now := time.Now()
	for _, lt := range duosim.LogTypes() {
		sim.Backfill(lt, 300, now.Add(-time.Hour), now.Add(-time.Minute))
	}
	want, err := Expected(sim.Sim)
	if err != nil {
		t.Fatal(err)
	}
	demoDir := t.TempDir()
	t.Setenv("DUOSIM_URL", sim.URL)
	t.Setenv("DEMO_DIR", demoDir)
	proc := StartCollector(t, bin, filepath.Join(root, "examples", "demo.yaml"))
	out := filepath.Join(demoDir, "logs.jsonl")
	var d Delivery
	WaitUntil(t, proc, 3*time.Minute, func() (bool, string) {
		ld, err := readFileExporter(out)
		if err != nil {
			return false, err.Error()
		}
		d = Compare(want, Received(ld))
		return d.Exact(), d.String()
	})
	if err := proc.Stop(30 * time.Second); err != nil {
		t.Fatalf("demo collector did not stop cleanly: %v", err)
	}
	if !strings.Contains(proc.Log(), "duo.txid=") {
		t.Errorf("the debug exporter printed no authentication record to the terminal")
	}
	// A newcomer's first screen: no warning to learn to ignore.
	for _, line := range strings.Split(proc.Log(), "\n") {
		if strings.Contains(line, "\twarn\t") {
			t.Errorf("the demo logged a warning: %s", line)
		}
	}
}

// TestE2ERedactionExample runs examples/duo-to-otlp.yaml against the simulator and the
// sink (endpoint and intervals overridden with --set) and checks that its transform
// processor masked every e-mail address and phone number it is meant to.
func TestE2ERedactionExample(t *testing.T) {
	bin := Collector(t)
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	sim := StartSim(t, duosim.Config{Seed: 4, Delay: time.Second})
	now := time.Now()
	lts := []string{"authentication", "telephony"}
	for _, lt := range lts {
		sim.Backfill(lt, 200, now.Add(-time.Hour), now.Add(-time.Minute))
	}
	sink := StartSink(t, filepath.Join(dir, "sink.bin"))
	sets := exampleEnv(t, sim.Host, sim.URL, sim.IntegrationKey, sim.SecretKey, sink.URL, dir)
	for _, lt := range []string{"authentication", "administrator", "telephony", "activity", "offline_enrollment"} {
		sets = append(sets, "--set=receivers::duo::logs::"+lt+"::pull_interval=1s")
	}
	proc := StartCollector(t, bin, filepath.Join(root, "examples", "duo-to-otlp.yaml"), append(sets, gateFlag)...)
	want := 400
	WaitUntil(t, proc, 3*time.Minute, func() (bool, string) {
		n := sink.RecordCount()
		return n >= want, "sink has " + itoa(n) + " records, want " + itoa(want)
	})
	ld, err := sink.Logs()
	if err != nil {
		t.Fatal(err)
	}
	checked := map[string]int{}
	forEachRecord(ld, func(lr plog.LogRecord) {
		check := func(what, v string, masked func(string) bool) {
			checked[what]++
			if !masked(v) {
				t.Errorf("%s %q is not masked", what, v)
			}
		}
		emailMasked := func(v string) bool { return v == "" || strings.HasPrefix(v, "***@") }
		phoneMasked := func(v string) bool { return !strings.ContainsAny(v, "0123456789") }
		if v, ok := lr.Attributes().Get("user.email"); ok {
			check("attribute user.email", v.AsString(), emailMasked)
		}
		if v, ok := lr.Attributes().Get("duo.telephony.phone"); ok {
			check("attribute duo.telephony.phone", v.AsString(), phoneMasked)
		}
		noPhone := func(v string) bool { return !phoneNumber.MatchString(v) }
		if v, ok := lr.Attributes().Get("duo.auth_device.name"); ok {
			check("attribute duo.auth_device.name", v.AsString(), noPhone)
		}
		if lr.Body().Type() == pcommon.ValueTypeMap {
			if v, ok := lr.Body().Map().Get("auth_device"); ok && v.Type() == pcommon.ValueTypeMap {
				if n, ok := v.Map().Get("name"); ok && n.Type() == pcommon.ValueTypeStr {
					check("body auth_device.name", n.Str(), noPhone)
					if strings.Contains(n.Str(), "***PHONE***") {
						checked["masked body auth_device.name"]++
					}
				}
			}
			if v, ok := lr.Body().Map().Get("email"); ok && v.Type() == pcommon.ValueTypeStr {
				check("body email", v.Str(), emailMasked)
			}
			if v, ok := lr.Body().Map().Get("phone"); ok && v.Type() == pcommon.ValueTypeStr {
				check("body phone", v.Str(), phoneMasked)
			}
		}
	})
	for _, what := range []string{"body email", "body phone", "masked body auth_device.name"} {
		if checked[what] == 0 {
			t.Errorf("no record had a %s: the check proved nothing", what)
		}
	}
	t.Logf("checked: %v", checked)
}

// phoneNumber matches the simulator's phone-number device names ("+1 734-555-3868").
var phoneNumber = regexp.MustCompile(`\+?[0-9][0-9 ().-]{6,}[0-9]`)

func forEachRecord(ld plog.Logs, fn func(plog.LogRecord)) {
	for lr := range otlptest.LogRecords(ld) {
		fn(lr)
	}
}

// TestE2EComponents checks that the distribution holds the receiver and every component
// builder-config.yaml lists.
func TestE2EComponents(t *testing.T) {
	bin := Collector(t)
	out, err := exec.Command(bin, "components").CombinedOutput()
	if err != nil {
		t.Fatalf("components failed: %v\n%s", err, out)
	}
	for _, name := range []string{"duo", "batch", "memory_limiter", "filter", "transform",
		"debug", "file", "otlp_grpc", "otlp_http", "file_storage", "health_check"} {
		if !bytes.Contains(out, []byte("- name: "+name+"\n")) {
			t.Errorf("components does not list %s:\n%s", name, out)
		}
	}
}

// exampleEnv sets the environment the OTLP examples read their keys, endpoints and state
// directory from, and returns the --set flags that point them at the simulator with
// timings short enough for a test.
func exampleEnv(t *testing.T, host, simURL, ikey, skey, sinkURL, dir string) []string {
	t.Helper()
	t.Setenv("DUO_API_HOSTNAME", host)
	t.Setenv("DUO_INTEGRATION_KEY", ikey)
	t.Setenv("DUO_SECRET_KEY", skey)
	t.Setenv("OTLP_ENDPOINT", sinkURL)
	t.Setenv("OTLP_TOKEN", "fake-token")
	t.Setenv("OTELCOL_DUO_STATE_DIR", filepath.Join(dir, "state"))
	t.Setenv("HEALTH_CHECK_ENDPOINT", "127.0.0.1:0")
	return []string{
		"--set=receivers::duo::endpoint=" + simURL,
		"--set=receivers::duo::delay=2s",
		"--set=receivers::duo::initial_lookback=2h",
		"--set=receivers::duo::rate_limit=600",
		"--set=processors::batch::timeout=200ms",
	}
}
