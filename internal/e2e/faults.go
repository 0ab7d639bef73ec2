// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/filestorage"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-duo/otelcol-duo/internal/duosim"
)

// This file extends the harness for the fault matrix (TestFaults...): the collector's peak
// memory, one report line per fault, cursors planted in file_storage before a start, and
// a scrape of the collector's own Prometheus metrics.

// EnvFaultsReport names a file the fault matrix appends its table lines to.
const EnvFaultsReport = "FAULTS_REPORT"

// PeakRSS returns the peak resident set size (VmHWM of /proc/<pid>/status) of a running
// process, in bytes.
func PeakRSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("cannot parse VmHWM %q: %w", rest, err)
		}
		return kb << 10, nil
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("no VmHWM in /proc/<pid>/status")
}

// RSSWatch follows the peak RSS of one or more collector processes (one at a time, e.g.
// across restarts): VmHWM is sampled every 100 ms while each runs, so a process killed
// with SIGKILL still leaves its peak, at most 100 ms old.
type RSSWatch struct {
	mu   sync.Mutex
	peak int64
	wg   sync.WaitGroup
}

// Watch samples p until it exits.
func (w *RSSWatch) Watch(p *Process) {
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			w.sample(p.Pid())
			select {
			case <-p.Done():
				return
			case <-tick.C:
			}
		}
	}()
}

func (w *RSSWatch) sample(pid int) {
	n, err := PeakRSS(pid)
	if err != nil {
		return // gone between two samples
	}
	w.mu.Lock()
	w.peak = max(w.peak, n)
	w.mu.Unlock()
}

// Peak returns the highest VmHWM seen so far, in bytes.
func (w *RSSWatch) Peak() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.peak
}

// PeakMB returns Peak in MiB.
func (w *RSSWatch) PeakMB() float64 { return float64(w.Peak()) / (1 << 20) }

// Wait waits for every watched process to have exited (and its sampler to stop).
func (w *RSSWatch) Wait() { w.wg.Wait() }

// FaultRow is one line of the fault matrix's table.
type FaultRow struct {
	Fault string
	// Expected is how many events the simulator made visible that must arrive.
	Expected int
	// Delivered is how many records the sink stored.
	Delivered int
	// Missing and Duplicated are Delivery's totals.
	Missing, Duplicated int
	// PeakRSSMB is the collector's peak RSS (the highest over its restarts).
	PeakRSSMB float64
	// Note adds what the row needs said (e.g. events gone past 180 days).
	Note string
}

// FaultTableHeader is the header of the table FaultRow.Line writes.
const FaultTableHeader = "| fault | expected | delivered | missing | duplicated | peak RSS MB | note |\n|---|---:|---:|---:|---:|---:|---|"

// Line renders the row as a Markdown table line.
func (r FaultRow) Line() string {
	return fmt.Sprintf("| %s | %d | %d | %d | %d | %.1f | %s |",
		r.Fault, r.Expected, r.Delivered, r.Missing, r.Duplicated, r.PeakRSSMB, r.Note)
}

// ReportFaultRow logs the row and appends it to the file named by $FAULTS_REPORT (when
// set), writing the header first when the file is new or empty.
func ReportFaultRow(tb testing.TB, r FaultRow) {
	tb.Helper()
	tb.Log(FaultTableHeader + "\n" + r.Line())
	path := os.Getenv(EnvFaultsReport)
	if path == "" {
		return
	}
	if err := appendReport(path, r.Line()); err != nil {
		tb.Errorf("cannot append to %s=%s: %v", EnvFaultsReport, path, err)
	}
}

func appendReport(path, line string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600) //nolint:gosec // the file the operator named in FAULTS_REPORT
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err == nil && fi.Size() == 0 {
		_, err = io.WriteString(f, FaultTableHeader+"\n")
	}
	if err == nil {
		_, err = io.WriteString(f, line+"\n")
	}
	return errors.Join(err, f.Close())
}

// EnvDuration returns the duration in the environment variable name, or def when it is
// unset or unparsable.
func EnvDuration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil && d > 0 {
		return d
	}
	return def
}

// ReceiverID is the component id of the receiver in testdata/e2e/collector.yaml.tmpl.
var ReceiverID = component.MustNewID("duo")

// PlantCursors writes a stored cursor for each given log type into the file_storage
// directory the collector will use, as the duo receiver would have saved it: key
// "duo/<host>/-/<log_type>", value {"version":1,"cursor":...} (receiver/duoreceiver
// checkpoint.go). The collector must not be running on that directory.
func PlantCursors(dir, host string, cursor time.Time, lts ...string) error {
	ctx := context.Background()
	f := filestorage.NewFactory()
	cfg := f.CreateDefaultConfig().(*filestorage.Config)
	cfg.Directory = dir
	cfg.CreateDirectory = true
	cfg.Compaction.Directory = dir
	ext, err := f.Create(ctx, extension.Settings{
		ID:                component.NewID(f.Type()),
		TelemetrySettings: componenttest.NewNopTelemetrySettings(),
		BuildInfo:         component.NewDefaultBuildInfo(),
	}, cfg)
	if err != nil {
		return err
	}
	if err := ext.Start(ctx, componenttest.NewNopHost()); err != nil {
		return err
	}
	client, err := ext.(storage.Extension).GetClient(ctx, component.KindReceiver, ReceiverID, "")
	if err != nil {
		return errors.Join(err, ext.Shutdown(ctx))
	}
	for _, lt := range lts {
		value, err := json.Marshal(struct {
			Version int       `json:"version"`
			Cursor  time.Time `json:"cursor"`
		}{1, cursor.UTC()})
		if err == nil {
			err = client.Set(ctx, "duo/"+strings.ToLower(host)+"/-/"+lt, value)
		}
		if err != nil {
			return errors.Join(err, client.Close(ctx), ext.Shutdown(ctx))
		}
	}
	return errors.Join(client.Close(ctx), ext.Shutdown(ctx))
}

// FreeAddr returns a 127.0.0.1 address with a port free at the time of the call, for the
// collector's own metrics endpoint.
func FreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	return addr, l.Close()
}

// ScrapeMetric reads the collector's Prometheus endpoint at addr and returns the sum of
// every sample of the metrics whose name contains name, and whether there was any.
func ScrapeMetric(addr, name string) (float64, bool, error) {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + addr + "/metrics")
	if err != nil {
		return 0, false, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return 0, false, fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	var sum float64
	found := false
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		metric, _, _ := strings.Cut(line, "{")
		metric, _, _ = strings.Cut(metric, " ")
		if !strings.Contains(metric, name) {
			continue
		}
		rest := line[len(metric):]
		if i := strings.LastIndexByte(line, '}'); i >= 0 {
			rest = line[i+1:]
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			return 0, false, fmt.Errorf("cannot parse sample %q: %w", line, err)
		}
		sum += v
		found = true
	}
	return sum, found, sc.Err()
}

// ExpectedSplit counts the simulator's events of the given log types (all six when none
// are given) in two parts: those kept by keep, and the others.
func ExpectedSplit(sim *duosim.Sim, keep func(duosim.Event) bool, lts ...string) (kept, other Counts, err error) {
	if len(lts) == 0 {
		lts = duosim.LogTypes()
	}
	kept, other = Counts{}, Counts{}
	for _, lt := range lts {
		for _, ev := range sim.Events(lt) {
			k, err := keyOfRaw(lt, ev.ID, ev.Raw)
			if err != nil {
				return nil, nil, err
			}
			if keep(ev) {
				kept[k]++
			} else {
				other[k]++
			}
		}
	}
	return kept, other, nil
}

// DedupByUID returns a copy of ld without the records whose log.record.uid an earlier
// record already had (what a backend that honours the semantic convention may drop), and
// how many it dropped. Records without the attribute are all kept.
func DedupByUID(ld plog.Logs) (plog.Logs, int) {
	out := plog.NewLogs()
	ld.CopyTo(out)
	seen := map[string]bool{}
	dropped := 0
	rls := out.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		sls := rls.At(i).ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			sls.At(j).LogRecords().RemoveIf(func(lr plog.LogRecord) bool {
				v, ok := lr.Attributes().Get("log.record.uid")
				if !ok {
					return false
				}
				key := lr.EventName() + "\x00" + v.Str()
				if seen[key] {
					dropped++
					return true
				}
				seen[key] = true
				return false
			})
		}
	}
	return out, dropped
}
