// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// EnvImageTar names an image archive (make image's build/otelcol-duo-image.tar) for the
// container tests to load instead of building one.
const EnvImageTar = "OTELCOL_DUO_IMAGE_TAR"

// installHint is what to install when podman is missing.
const installHint = "install podman and runc (Debian/Ubuntu: apt-get install podman runc)"

// Podman runs podman through scripts/podman.sh with a private store in a temp dir, so that
// a test neither sees nor leaves images, containers, volumes or secrets elsewhere. Every
// container, volume and secret made through it is removed when the test ends, then the
// store itself.
type Podman struct {
	tb     testing.TB
	script string
	state  string
}

// NewPodman returns a Podman with a fresh store; it fails the test when podman is missing.
func NewPodman(tb testing.TB) *Podman {
	tb.Helper()
	if _, err := exec.LookPath("podman"); err != nil {
		tb.Fatalf("podman is not installed: %s", installHint)
	}
	root, err := RepoRoot()
	if err != nil {
		tb.Fatal(err)
	}
	// A short path: podman's runroot holds unix sockets, whose paths are limited to 108 bytes.
	state, err := os.MkdirTemp("", "duo-podman-")
	if err != nil {
		tb.Fatal(err)
	}
	p := &Podman{tb: tb, script: filepath.Join(root, "scripts", "podman.sh"), state: state}
	// Registered first, so it runs after the removals registered later.
	tb.Cleanup(func() {
		if err := os.RemoveAll(state); err != nil {
			tb.Errorf("cannot remove the podman store %s: %v", state, err)
		}
	})
	return p
}

// State is the store's directory (PODMAN_STATE for scripts/podman.sh and scripts/image.sh).
func (p *Podman) State() string { return p.state }

// Env returns the environment that points scripts at this store.
func (p *Podman) Env() []string { return append(os.Environ(), "PODMAN_STATE="+p.state) }

// Exec runs podman with args and returns its stdout; stderr is part of the error.
func (p *Podman) Exec(args ...string) (string, error) {
	return p.ExecInput(nil, args...)
}

// ExecInput is Exec with stdin.
func (p *Podman) ExecInput(stdin []byte, args ...string) (string, error) {
	cmd := exec.Command(p.script, args...) //nolint:gosec // this repository's scripts/podman.sh with the test's own arguments
	cmd.Env = p.Env()
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("podman %s: %w\n%s%s", strings.Join(args, " "), err, tail(stdout.Bytes(), 2000), tail(stderr.Bytes(), 4000))
	}
	return stdout.String(), nil
}

// Must is Exec that fails the test on error.
func (p *Podman) Must(args ...string) string {
	p.tb.Helper()
	out, err := p.Exec(args...)
	if err != nil {
		p.tb.Fatal(err)
	}
	return out
}

// Load loads an image archive and returns the image name it holds.
func (p *Podman) Load(tar string) string {
	p.tb.Helper()
	out := p.Must("load", "--input", tar)
	for _, line := range strings.Split(out, "\n") {
		if _, name, ok := strings.Cut(line, "Loaded image: "); ok {
			return strings.TrimSpace(name)
		}
		if _, name, ok := strings.Cut(line, "Loaded image(s): "); ok {
			return strings.TrimSpace(strings.Split(name, ",")[0])
		}
	}
	p.tb.Fatalf("podman load named no image:\n%s", out)
	return ""
}

// Secret creates a podman secret holding value and returns its name.
func (p *Podman) Secret(name, value string) string {
	p.tb.Helper()
	if _, err := p.ExecInput([]byte(value), "secret", "create", name, "-"); err != nil {
		p.tb.Fatal(err)
	}
	p.tb.Cleanup(func() { _, _ = p.Exec("secret", "rm", name) })
	return name
}

// Volume creates a named volume and returns its name.
func (p *Podman) Volume(name string) string {
	p.tb.Helper()
	p.Must("volume", "create", name)
	p.tb.Cleanup(func() { _, _ = p.Exec("volume", "rm", "--force", name) })
	return name
}

// Container is a detached container started by Podman.Start.
type Container struct {
	p    *Podman
	Name string
}

// Start runs a detached container named name with podman run args (options, image,
// command); it is removed, with its anonymous volumes, when the test ends, and its log is
// printed when the test failed.
func (p *Podman) Start(name string, args ...string) *Container {
	p.tb.Helper()
	c := &Container{p: p, Name: name}
	p.tb.Cleanup(func() {
		if p.tb.Failed() {
			p.tb.Logf("container %s log:\n%s", name, tail([]byte(c.Logs()), 12000))
		}
		_, _ = p.Exec("rm", "--force", "--volumes", name)
	})
	p.Must(append([]string{"run", "--detach", "--name", name}, args...)...)
	return c
}

// Logs returns what the container wrote to stdout and stderr so far.
func (c *Container) Logs() string {
	cmd := exec.Command(c.p.script, "logs", c.Name)
	cmd.Env = c.p.Env()
	out, _ := cmd.CombinedOutput()
	return string(out)
}

// Inspect returns `podman inspect` of the container.
func (c *Container) Inspect() string {
	c.p.tb.Helper()
	return c.p.Must("container", "inspect", c.Name)
}

// Running reports whether the container is running, and its exit code once it is not.
func (c *Container) Running() (bool, int) {
	c.p.tb.Helper()
	out := c.p.Must("container", "inspect", "--format", "{{.State.Running}} {{.State.ExitCode}}", c.Name)
	var running bool
	var code int
	if _, err := fmt.Sscan(out, &running, &code); err != nil {
		c.p.tb.Fatalf("cannot read the state of %s from %q: %v", c.Name, out, err)
	}
	return running, code
}

// Stop sends the container SIGTERM and waits up to timeout for it to exit (then podman
// kills it); it returns the exit code.
func (c *Container) Stop(timeout time.Duration) int {
	c.p.tb.Helper()
	c.p.Must("stop", "--time", fmt.Sprint(int(timeout.Seconds())), c.Name)
	_, code := c.Running()
	return code
}

// ImageConfig is the part of `podman image inspect` the tests check.
type ImageConfig struct {
	Size   int64
	Config struct {
		User       string
		Entrypoint []string
		Cmd        []string
		Labels     map[string]string
		Volumes    map[string]struct{}
		Env        []string
	}
}

// InspectImage returns the image's configuration and the raw inspect output.
func (p *Podman) InspectImage(image string) (ImageConfig, string) {
	p.tb.Helper()
	out := p.Must("image", "inspect", image)
	var imgs []ImageConfig
	if err := json.Unmarshal([]byte(out), &imgs); err != nil || len(imgs) != 1 {
		p.tb.Fatalf("cannot read podman image inspect (%v):\n%s", err, out)
	}
	return imgs[0], out
}
