// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	modulePath = "github.com/otelcol-duo/otelcol-duo"
	// receiverPkg is the package the distribution links from this module.
	receiverPkg = modulePath + "/receiver/duoreceiver"
	// BinName is the distribution's binary name (builder-config.yaml dist.name).
	BinName = "otelcol-duo"
	// EnvBin names a prebuilt binary to test instead of building one.
	EnvBin = "OTELCOL_DUO_BIN"
)

// RepoRoot returns the directory of the repository's go.mod, found by walking up from the
// working directory (go test runs in the package directory).
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(bytes.TrimSpace(b), []byte("module "+modulePath+"\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("repository root (go.mod of " + modulePath + ") not found above the working directory")
		}
		dir = parent
	}
}

var (
	buildOnce sync.Once
	buildBin  string
	buildErr  error
)

// Collector returns the path of an up-to-date otelcol-duo binary, building it with ocb
// when needed (once per test binary). It fails the test when the binary cannot be built.
func Collector(tb testing.TB) string {
	tb.Helper()
	buildOnce.Do(func() {
		if bin := os.Getenv(EnvBin); bin != "" {
			buildBin, buildErr = binFromEnv(bin)
			if buildErr == nil {
				_, buildErr = os.Stat(buildBin)
			}
			return
		}
		var root string
		root, buildErr = RepoRoot()
		if buildErr != nil {
			return
		}
		var rebuilt bool
		start := time.Now()
		buildBin, rebuilt, buildErr = EnsureCollector(root)
		if rebuilt {
			tb.Logf("built %s in %s", buildBin, time.Since(start).Round(time.Second))
		}
	})
	if buildErr != nil {
		tb.Fatalf("cannot build the otelcol-duo distribution: %v", buildErr)
	}
	return buildBin
}

// binFromEnv resolves OTELCOL_DUO_BIN. The commands that set it are typed at the
// repository root while go test runs in the package's directory, so a relative path is
// taken from the root.
func binFromEnv(bin string) (string, error) {
	if filepath.IsAbs(bin) {
		return bin, nil
	}
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, bin), nil
}

// EnsureCollector builds root/build/otelcol-duo with root/bin/builder (ocb), unless the
// binary is newer than every input: builder-config.yaml, go.mod, go.sum and the non-test
// files of every package of this module the receiver links. The builder is built from
// internal/tools when missing. A lock file serialises concurrent callers.
func EnsureCollector(root string) (bin string, rebuilt bool, err error) {
	bin = filepath.Join(root, "build", BinName)
	if err := os.MkdirAll(filepath.Join(root, "build"), 0o755); err != nil {
		return "", false, err
	}
	unlock, err := lockFile(filepath.Join(root, "build", ".e2e-build.lock"))
	if err != nil {
		return "", false, err
	}
	defer unlock()

	newest, err := newestInput(root)
	if err != nil {
		return "", false, err
	}
	if fi, err := os.Stat(bin); err == nil && fi.ModTime().After(newest) {
		return bin, false, nil
	}
	builder, err := ensureBuilder(root)
	if err != nil {
		return "", false, err
	}
	cmd := exec.Command(builder, "--config", filepath.Join(root, "builder-config.yaml"))
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", false, fmt.Errorf("ocb failed: %w\n%s", err, tail(out, 4000))
	}
	if _, err := os.Stat(bin); err != nil {
		return "", false, fmt.Errorf("ocb succeeded but %s is missing: %w", bin, err)
	}
	// go build leaves an up-to-date output file untouched; mark it as built now so the
	// next run does not rebuild.
	now := time.Now()
	if err := os.Chtimes(bin, now, now); err != nil {
		return "", false, err
	}
	return bin, true, nil
}

// ensureBuilder returns root/bin/builder, building it from the tools module if missing.
func ensureBuilder(root string) (string, error) {
	builder := filepath.Join(root, "bin", "builder")
	if _, err := os.Stat(builder); err == nil {
		return builder, nil
	}
	cmd := exec.Command("go", "build", "-o", builder, "go.opentelemetry.io/collector/cmd/builder")
	cmd.Dir = filepath.Join(root, "internal", "tools")
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("failed to build ocb from internal/tools: %w\n%s", err, tail(out, 4000))
	}
	return builder, nil
}

// newestInput returns the newest modification time among the distribution's inputs.
func newestInput(root string) (time.Time, error) {
	cmd := exec.Command("go", "list", "-deps", "-f",
		`{{if .Module}}{{if eq .Module.Path "`+modulePath+`"}}{{.Dir}}{{end}}{{end}}`, receiverPkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return time.Time{}, fmt.Errorf("go list %s: %w\n%s", receiverPkg, err, stderr.String())
	}
	files := []string{
		filepath.Join(root, "builder-config.yaml"),
		filepath.Join(root, "go.mod"),
		filepath.Join(root, "go.sum"),
	}
	for _, dir := range strings.Fields(string(out)) {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return time.Time{}, err
		}
		for _, e := range entries {
			if e.IsDir() || strings.HasSuffix(e.Name(), "_test.go") {
				continue
			}
			files = append(files, filepath.Join(dir, e.Name()))
		}
	}
	var newest time.Time
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return time.Time{}, err
		}
		if fi.ModTime().After(newest) {
			newest = fi.ModTime()
		}
	}
	return newest, nil
}

// lockFile takes an exclusive advisory lock on path and returns its release.
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("failed to lock %s: %w", path, err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		_ = f.Close()
	}, nil
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
