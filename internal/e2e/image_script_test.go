// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestImageWithoutEngine runs `make image` and scripts/image.sh with a PATH that holds
// neither podman nor docker: both must fail at once, naming the packages to install, and
// build nothing.
func TestImageWithoutEngine(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	// A PATH with only what make and the script's first lines need.
	bin := t.TempDir()
	for _, tool := range []string{"make", "bash"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Skipf("%s is not installed", tool)
		}
		if err := os.Symlink(p, filepath.Join(bin, tool)); err != nil {
			t.Fatal(err)
		}
	}
	bash, _ := exec.LookPath("bash")
	tests := []struct {
		name string
		cmd  []string
		path string
	}{
		{"make image", []string{filepath.Join(bin, "make"), "--no-print-directory", "-C", root, "image"}, bin},
		{"image.sh on an empty PATH", []string{bash, filepath.Join(root, "scripts", "image.sh"), "build"}, t.TempDir()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(tt.cmd[0], tt.cmd[1:]...)
			cmd.Env = []string{"PATH=" + tt.path, "HOME=" + t.TempDir()}
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("succeeded without a container engine:\n%s", out)
			}
			for _, want := range []string{"no container engine found", "apt-get install podman runc", "docker"} {
				if !strings.Contains(string(out), want) {
					t.Errorf("output does not say %q:\n%s", want, out)
				}
			}
			if strings.Contains(string(out), "builder") || strings.Contains(string(out), "STEP") {
				t.Errorf("went on to build after finding no engine:\n%s", out)
			}
		})
	}
}
