// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"text/template"
	"time"

	"github.com/otelcol-duo/otelcol-duo/internal/duosim"
	"github.com/otelcol-duo/otelcol-duo/internal/otlpsink"
)

// SimServer is a simulator served over HTTP on 127.0.0.1.
type SimServer struct {
	*duosim.Sim
	Server *httptest.Server
	// URL is the base URL to put in the receiver's endpoint.
	URL string
	// Host, IntegrationKey and SecretKey are what the receiver must be configured with.
	Host, IntegrationKey, SecretKey string
}

// StartSim starts a simulator; it is closed when the test ends. Empty credentials in cfg
// take the simulator's defaults.
func StartSim(tb testing.TB, cfg duosim.Config) *SimServer {
	tb.Helper()
	cfg = withCredentials(cfg)
	sim := duosim.New(cfg)
	srv := httptest.NewServer(sim)
	tb.Cleanup(srv.Close)
	return &SimServer{
		Sim: sim, Server: srv, URL: srv.URL,
		Host: cfg.Host, IntegrationKey: cfg.IntegrationKey, SecretKey: cfg.SecretKey,
	}
}

// withCredentials fills cfg's empty host and credentials with the simulator's defaults,
// so that the collector config rendered from a SimServer signs what the simulator expects.
func withCredentials(cfg duosim.Config) duosim.Config {
	if cfg.Host == "" {
		cfg.Host = duosim.DefaultHost
	}
	if cfg.IntegrationKey == "" {
		cfg.IntegrationKey = duosim.DefaultIntegrationKey
	}
	if cfg.SecretKey == "" {
		cfg.SecretKey = duosim.DefaultSecretKey
	}
	return cfg
}

// SinkServer is a durable OTLP/HTTP sink served on 127.0.0.1.
type SinkServer struct {
	*otlpsink.Sink
	Server *httptest.Server
	// URL is the base URL; logs go to URL + otlpsink.LogsPath.
	URL string
}

// StartSink opens a sink on path (a new file, or an existing one to continue) and serves
// it; both are closed when the test ends.
func StartSink(tb testing.TB, path string) *SinkServer {
	tb.Helper()
	s, err := otlpsink.Open(path)
	if err != nil {
		tb.Fatalf("cannot open sink: %v", err)
	}
	tb.Cleanup(func() { _ = s.Close() }) // after the server below has closed
	srv := serve(tb, s)
	return &SinkServer{Sink: s, Server: srv, URL: srv.URL}
}

// CollectorConfig is what testdata/e2e/collector.yaml.tmpl is rendered from. Zero
// durations and rates take the defaults set by Defaults.
type CollectorConfig struct {
	// Receiver side.
	SimURL, Host, IntegrationKey, SecretKey string
	LogTypes                                []string // enabled log types; empty = all six
	PullInterval, Window, Delay             time.Duration
	InitialLookback                         time.Duration
	RateLimit                               float64 // receiver budget, requests/min per endpoint
	StorageDir                              string  // file_storage directory (cursors)

	// Exporter side.
	SinkURL          string
	ExportTimeout    time.Duration
	RetryMaxElapsed  time.Duration // 0 = retry until shutdown
	RetryInitial     time.Duration
	RetryMaxInterval time.Duration
	// PersistentQueue turns the exporter's sending queue on, persisted in file_storage
	// (what the examples do); off by default so that acknowledged means stored.
	PersistentQueue bool

	// Collector side.
	MetricsAddr       string // host:port for the collector's Prometheus metrics; "" = telemetry metrics off
	LogLevel          string // collector log level; default info
	ReceiverExtraYAML string // extra keys under receivers.duo, each line indented 4 spaces
}

// For fills the receiver and exporter endpoints from a simulator and a sink and the
// storage directory.
func (c CollectorConfig) For(sim *SimServer, sink *SinkServer, storageDir string) CollectorConfig {
	c.SimURL, c.Host, c.IntegrationKey, c.SecretKey = sim.URL, sim.Host, sim.IntegrationKey, sim.SecretKey
	c.SinkURL = sink.URL
	c.StorageDir = storageDir
	return c
}

// Defaults returns c with unset fields at fast test values.
func (c CollectorConfig) Defaults() CollectorConfig {
	if len(c.LogTypes) == 0 {
		c.LogTypes = duosim.LogTypes()
	}
	setDur := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	setDur(&c.PullInterval, time.Second)
	setDur(&c.Window, 3*time.Second)
	setDur(&c.Delay, 2*time.Second)
	setDur(&c.InitialLookback, 2*time.Hour)
	setDur(&c.ExportTimeout, 10*time.Second)
	setDur(&c.RetryInitial, 100*time.Millisecond)
	setDur(&c.RetryMaxInterval, time.Second)
	if c.RateLimit == 0 {
		c.RateLimit = 600
	}
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	return c
}

// Render returns the collector YAML.
func (c CollectorConfig) Render() ([]byte, error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	tmpl, err := template.New("collector.yaml.tmpl").Funcs(template.FuncMap{
		"dur": func(d time.Duration) string { return d.String() },
		"hostOf": func(addr string) (string, error) {
			h, _, err := net.SplitHostPort(addr)
			return h, err
		},
		"portOf": func(addr string) (string, error) {
			_, p, err := net.SplitHostPort(addr)
			return p, err
		},
	}).ParseFiles(filepath.Join(root, "testdata", "e2e", "collector.yaml.tmpl"))
	if err != nil {
		return nil, err
	}
	data := struct {
		CollectorConfig
		Enabled map[string]bool // every log type, enabled or not
	}{c.Defaults(), map[string]bool{}}
	for _, lt := range duosim.LogTypes() {
		data.Enabled[lt] = false
	}
	for _, lt := range data.LogTypes {
		if _, ok := data.Enabled[lt]; !ok {
			return nil, fmt.Errorf("unknown log type %q", lt)
		}
		data.Enabled[lt] = true
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, data); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteConfig renders c into a file in dir and returns its path.
func WriteConfig(tb testing.TB, c CollectorConfig, dir string) string {
	tb.Helper()
	b, err := c.Render()
	if err != nil {
		tb.Fatalf("cannot render collector config: %v", err)
	}
	path := filepath.Join(dir, "collector.yaml")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		tb.Fatalf("cannot write collector config: %v", err)
	}
	return path
}

// Process is a running otelcol-duo subprocess.
type Process struct {
	cmd     *exec.Cmd
	LogPath string
	done    chan struct{}
	mu      sync.Mutex
	err     error // Wait's result, once done is closed
}

var runSeq struct {
	sync.Mutex
	n int
}

// StartCollector runs bin with --config configPath plus args; stdout and stderr go to a
// log file in the test's temp dir. The process is killed (if still running) when the test
// ends, and its log is printed when the test failed.
func StartCollector(tb testing.TB, bin, configPath string, args ...string) *Process {
	tb.Helper()
	runSeq.Lock()
	runSeq.n++
	n := runSeq.n
	runSeq.Unlock()
	logPath := filepath.Join(tb.TempDir(), fmt.Sprintf("collector-%d.log", n))
	logFile, err := os.Create(logPath)
	if err != nil {
		tb.Fatalf("cannot create collector log: %v", err)
	}
	cmd := exec.Command(bin, append([]string{"--config", configPath}, args...)...)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	// Its own process group: a Ctrl-C on `go test` does not reach it before cleanup does.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		tb.Fatalf("cannot start %s: %v", bin, err)
	}
	p := &Process{cmd: cmd, LogPath: logPath, done: make(chan struct{})}
	go func() {
		err := cmd.Wait()
		_ = logFile.Close()
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		close(p.done)
	}()
	tb.Cleanup(func() {
		_ = p.Kill()
		if tb.Failed() {
			tb.Logf("collector %d log (%s):\n%s", n, logPath, p.failureLog(12000))
			keepLog(tb, logPath)
		}
	})
	return p
}

// Pid returns the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has exited, and its Wait error.
func (p *Process) Exited() (bool, error) {
	select {
	case <-p.done:
		p.mu.Lock()
		defer p.mu.Unlock()
		return true, p.err
	default:
		return false, nil
	}
}

// Kill sends SIGKILL and waits for the process to be gone.
func (p *Process) Kill() error {
	if done, _ := p.Exited(); done {
		return nil
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	<-p.done
	return nil
}

// Stop sends SIGTERM and waits up to timeout for a clean exit, then SIGKILLs. It returns
// an error when the process had to be killed or exited non-zero.
func (p *Process) Stop(timeout time.Duration) error {
	if done, err := p.Exited(); done {
		return err
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.done:
		_, err := p.Exited()
		return err
	case <-t.C:
		_ = p.Kill()
		return fmt.Errorf("collector did not stop within %s of SIGTERM; killed", timeout)
	}
}

// Log returns the captured output so far.
func (p *Process) Log() string {
	b, _ := os.ReadFile(p.LogPath)
	return string(b)
}

// LogTail returns at most the last n bytes of the captured output.
func (p *Process) LogTail(n int) string {
	b, _ := os.ReadFile(p.LogPath)
	return tail(b, n)
}

// exporterRetryLine is the line the exporter logs at each retry of a refused export.
const exporterRetryLine = "Exporting failed. Will retry the request after interval."

// keepLog copies a failed test's whole collector log into E2E_LOG_DIR, when set: the
// printed tail leaves out the start and the retry lines, and the temp dir is removed.
func keepLog(tb testing.TB, logPath string) {
	dir := os.Getenv("E2E_LOG_DIR")
	if dir == "" {
		return
	}
	data, err := os.ReadFile(logPath)
	if err == nil {
		err = os.MkdirAll(dir, 0o750) //nolint:gosec // the directory its operator asked for
	}
	if err != nil {
		tb.Logf("cannot keep the collector log: %v", err)
		return
	}
	name := strings.NewReplacer("/", "_", " ", "_").Replace(tb.Name()) + "-" + filepath.Base(logPath)
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil { //nolint:gosec // in the operator's directory
		tb.Logf("cannot keep the collector log: %v", err)
		return
	}
	tb.Logf("collector log kept in %s", filepath.Join(dir, name))
}

// failureLog is the last n bytes of the log without the exporter's retry lines, which a
// refusing sink makes by the hundred and which would push the receiver's own lines out
// of the tail; how many were left out is said at the top.
func (p *Process) failureLog(n int) string {
	b, _ := os.ReadFile(p.LogPath)
	var kept []string
	dropped := 0
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, exporterRetryLine) {
			dropped++
			continue
		}
		kept = append(kept, line)
	}
	return fmt.Sprintf("(%d exporter retry lines left out)\n%s", dropped, tail([]byte(strings.Join(kept, "\n")), n))
}

// readyLine is what the collector logs once every component has started.
const readyLine = "Everything is ready"

// WaitReady waits until the collector logs that it is ready; it fails the test if the
// process exits first or timeout passes.
func (p *Process) WaitReady(tb testing.TB, timeout time.Duration) {
	tb.Helper()
	WaitUntil(tb, p, timeout, func() (bool, string) {
		return strings.Contains(p.Log(), readyLine), "collector log has no " + readyLine
	})
}

// WaitUntil polls cond every 50 ms until it reports true. It fails the test with cond's
// last message when timeout passes, or at once when proc (if not nil) has exited.
func WaitUntil(tb testing.TB, proc *Process, timeout time.Duration, cond func() (bool, string)) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var done <-chan struct{}
	if proc != nil {
		done = proc.Done()
	}
	for {
		ok, msg := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %s: %s", timeout, msg)
		}
		select {
		case <-done:
			if ok, _ := cond(); ok {
				return
			}
			_, err := proc.Exited()
			tb.Fatalf("collector exited (%v) while waiting: %s", err, msg)
		case <-tick.C:
		}
	}
}

// WaitRequests waits until the simulator has answered n more requests to every given log
// type's endpoint than it had in before: a way to let the receiver run a few more pulls
// without sleeping for a guessed time.
func WaitRequests(tb testing.TB, proc *Process, sim *SimServer, before duosim.Stats, lts []string, n int, timeout time.Duration) {
	tb.Helper()
	WaitUntil(tb, proc, timeout, func() (bool, string) {
		now := sim.Stats()
		for _, lt := range lts {
			p := duosim.Path(lt)
			if got := total(now.Requests[p]) - total(before.Requests[p]); got < n {
				return false, fmt.Sprintf("%s: %d more requests, want %d", lt, got, n)
			}
		}
		return true, ""
	})
}

func total(m map[int]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// Context returns a context that ends when the test ends.
func Context(tb testing.TB) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(cancel)
	return ctx
}
