// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The Kubernetes and Helm examples run the image's default config
// (examples/container/config.yaml). These tests parse them and check that they agree
// with it: probes on the right health_check instance, every variable the config needs
// supplied (secrets from the Secret), the state volume where file_storage writes, and a
// single poller.

// decodeAll parses every YAML document of path.
func decodeAll(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var docs []map[string]any
	dec := yaml.NewDecoder(f)
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s does not parse: %v", path, err)
		}
		if doc != nil {
			docs = append(docs, doc)
		}
	}
	return docs
}

// decodeInto parses one YAML document of path into v.
func decodeInto(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s does not parse: %v", path, err)
	}
}

// envDefault returns the default of a "${env:NAME:-default}" value, or s itself.
func envDefault(s string) string {
	if m := regexp.MustCompile(`^\$\{env:[A-Za-z0-9_]+:-(.*)\}$`).FindStringSubmatch(s); m != nil {
		return m[1]
	}
	return s
}

// healthEndpoint is one health_check instance of the image config: where its status is
// served and whether component errors count.
type healthEndpoint struct {
	Port              int
	Path              string
	RecoverableErrors bool
}

// imageConfig is what the probes and manifests must agree with.
type imageConfig struct {
	Readiness, Liveness healthEndpoint
	StateDir            string
	RequiredEnv         []string // ${env:NAME} with no default
}

func loadImageConfig(t *testing.T, root string) imageConfig {
	t.Helper()
	path := filepath.Join(root, "examples", "container", "config.yaml")
	var cfg struct {
		Extensions map[string]struct {
			Directory string `yaml:"directory"`
			HTTP      *struct {
				Endpoint string `yaml:"endpoint"`
				Status   struct {
					Enabled bool   `yaml:"enabled"`
					Path    string `yaml:"path"`
				} `yaml:"status"`
			} `yaml:"http"`
			ComponentHealth *struct {
				IncludeRecoverable bool `yaml:"include_recoverable_errors"`
			} `yaml:"component_health"`
		} `yaml:"extensions"`
		Service struct {
			Extensions []string `yaml:"extensions"`
		} `yaml:"service"`
	}
	decodeInto(t, path, &cfg)
	var out imageConfig
	var ready, live []healthEndpoint
	for _, name := range cfg.Service.Extensions {
		ext := cfg.Extensions[name]
		if name == "file_storage" {
			out.StateDir = envDefault(ext.Directory)
		}
		if !strings.HasPrefix(name, "health_check") || ext.HTTP == nil || !ext.HTTP.Status.Enabled {
			continue
		}
		addr := envDefault(ext.HTTP.Endpoint)
		port, err := strconv.Atoi(addr[strings.LastIndex(addr, ":")+1:])
		if err != nil {
			t.Fatalf("%s: health_check %s endpoint %q has no port", path, name, ext.HTTP.Endpoint)
		}
		h := healthEndpoint{Port: port, Path: ext.HTTP.Status.Path}
		if ext.ComponentHealth != nil && ext.ComponentHealth.IncludeRecoverable {
			h.RecoverableErrors = true
			ready = append(ready, h)
		} else {
			live = append(live, h)
		}
	}
	if len(ready) != 1 || len(live) != 1 || out.StateDir == "" {
		t.Fatalf("%s: want one health_check with recoverable errors (readiness), one without (liveness) and file_storage; got %v, %v, %q", path, ready, live, out.StateDir)
	}
	out.Readiness, out.Liveness = ready[0], live[0]
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`\$\{env:([A-Za-z0-9_]+)\}`).FindAllStringSubmatch(string(b), -1) {
		if !slices.Contains(out.RequiredEnv, m[1]) {
			out.RequiredEnv = append(out.RequiredEnv, m[1])
		}
	}
	sort.Strings(out.RequiredEnv)
	return out
}

// secretEnv are the variables that must come from a Secret, never from a plain value.
var secretEnv = []string{"DUO_INTEGRATION_KEY", "DUO_SECRET_KEY", "OTLP_TOKEN"}

type probe struct {
	HTTPGet *struct {
		Path string `yaml:"path"`
		Port int    `yaml:"port"`
	} `yaml:"httpGet"`
}

type envVar struct {
	Name  string `yaml:"name"`
	Value string `yaml:"value"`
}

type envFrom struct {
	SecretRef *struct {
		Name string `yaml:"name"`
	} `yaml:"secretRef"`
}

type volume struct {
	Name string `yaml:"name"`
	PVC  *struct {
		ClaimName string `yaml:"claimName"`
	} `yaml:"persistentVolumeClaim"`
}

type volumeMount struct {
	Name      string `yaml:"name"`
	MountPath string `yaml:"mountPath"`
}

type podSecurity struct {
	RunAsUser *int `yaml:"runAsUser"`
	FSGroup   *int `yaml:"fsGroup"`
}

// podSpec is what a Deployment's pod template and the Helm values both describe.
type podSpec struct {
	Readiness, Liveness probe
	Env                 []envVar
	EnvFrom             []envFrom
	Volumes             []volume
	Mounts              []volumeMount
	Security            podSecurity
}

// checkPod checks a pod description against the image config and the example Secret
// (its name and keys) and PersistentVolumeClaim name.
func checkPod(t *testing.T, pod podSpec, img imageConfig, secretName string, secretKeys []string, pvcName string) {
	t.Helper()
	checkProbe := func(what string, p probe, want healthEndpoint) {
		if p.HTTPGet == nil || p.HTTPGet.Port != want.Port || p.HTTPGet.Path != want.Path {
			t.Errorf("%s probe %+v, want GET %s on port %d", what, p.HTTPGet, want.Path, want.Port)
		}
	}
	checkProbe("readiness", pod.Readiness, img.Readiness)
	// Liveness must not see component errors: rejected credentials are not fixed by a restart.
	checkProbe("liveness", pod.Liveness, img.Liveness)

	supplied := map[string]string{}
	for _, e := range pod.Env {
		supplied[e.Name] = "a plain value"
	}
	for _, ef := range pod.EnvFrom {
		if ef.SecretRef != nil && ef.SecretRef.Name == secretName {
			for _, k := range secretKeys {
				supplied[k] = "the Secret"
			}
		}
	}
	for _, name := range img.RequiredEnv {
		if supplied[name] == "" {
			t.Errorf("the config needs %s, which the pod does not set", name)
		}
	}
	for _, name := range secretEnv {
		if supplied[name] != "the Secret" {
			t.Errorf("%s comes from %q, want the Secret %s", name, supplied[name], secretName)
		}
	}

	claim := map[string]string{}
	for _, v := range pod.Volumes {
		if v.PVC != nil {
			claim[v.Name] = v.PVC.ClaimName
		}
	}
	mounted := false
	for _, m := range pod.Mounts {
		if m.MountPath == img.StateDir && claim[m.Name] == pvcName {
			mounted = true
		}
	}
	if !mounted {
		t.Errorf("no volume from the claim %s is mounted at %s (file_storage); mounts %v, volumes %v", pvcName, img.StateDir, pod.Mounts, pod.Volumes)
	}
	if s := pod.Security; s.RunAsUser == nil || *s.RunAsUser != 65532 || s.FSGroup == nil {
		t.Errorf("pod security context %+v: want runAsUser 65532 (the image's user) and an fsGroup so the volume is writable", s)
	}
}

// k8sObjects parses examples/k8s into objects by kind.
func k8sObjects(t *testing.T, dir string) map[string][]map[string]any {
	t.Helper()
	var kust struct {
		Kind      string   `yaml:"kind"`
		Resources []string `yaml:"resources"`
	}
	decodeInto(t, filepath.Join(dir, "kustomization.yaml"), &kust)
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if base := filepath.Base(f); base != "kustomization.yaml" && !slices.Contains(kust.Resources, base) {
			t.Errorf("kustomization.yaml does not list %s", base)
		}
	}
	byKind := map[string][]map[string]any{}
	for _, r := range kust.Resources {
		for _, doc := range decodeAll(t, filepath.Join(dir, r)) {
			kind, _ := doc["kind"].(string)
			if kind == "" || doc["apiVersion"] == nil {
				t.Errorf("%s: a document without kind or apiVersion", r)
			}
			byKind[kind] = append(byKind[kind], doc)
		}
	}
	return byKind
}

// reparse turns a generic YAML value into v.
func reparse(t *testing.T, in, v any) {
	t.Helper()
	b, err := yaml.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

// exampleSecretAndClaim returns the example Secret's name and keys and the claim's name.
func exampleSecretAndClaim(t *testing.T, objs map[string][]map[string]any) (string, []string, string) {
	t.Helper()
	if len(objs["Secret"]) != 1 || len(objs["PersistentVolumeClaim"]) != 1 || len(objs["Deployment"]) != 1 {
		t.Fatalf("want one Secret, one PersistentVolumeClaim and one Deployment, got %d, %d, %d",
			len(objs["Secret"]), len(objs["PersistentVolumeClaim"]), len(objs["Deployment"]))
	}
	var secret struct {
		Metadata   struct{ Name string } `yaml:"metadata"`
		StringData map[string]string     `yaml:"stringData"`
	}
	reparse(t, objs["Secret"][0], &secret)
	var keys []string
	for k := range secret.StringData {
		keys = append(keys, k)
	}
	var pvc struct {
		Metadata struct{ Name string } `yaml:"metadata"`
		Spec     struct {
			AccessModes []string `yaml:"accessModes"`
		} `yaml:"spec"`
	}
	reparse(t, objs["PersistentVolumeClaim"][0], &pvc)
	if !slices.Equal(pvc.Spec.AccessModes, []string{"ReadWriteOnce"}) {
		t.Errorf("claim access modes %v, want [ReadWriteOnce]: one pod writes the state", pvc.Spec.AccessModes)
	}
	return secret.Metadata.Name, keys, pvc.Metadata.Name
}

func TestK8sExample(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	img := loadImageConfig(t, root)
	objs := k8sObjects(t, filepath.Join(root, "examples", "k8s"))
	secretName, secretKeys, pvcName := exampleSecretAndClaim(t, objs)

	var dep struct {
		Spec struct {
			Replicas *int `yaml:"replicas"`
			Strategy struct {
				Type string `yaml:"type"`
			} `yaml:"strategy"`
			Template struct {
				Spec struct {
					SecurityContext podSecurity `yaml:"securityContext"`
					Volumes         []volume    `yaml:"volumes"`
					Containers      []struct {
						Args           []string      `yaml:"args"`
						Command        []string      `yaml:"command"`
						Env            []envVar      `yaml:"env"`
						EnvFrom        []envFrom     `yaml:"envFrom"`
						ReadinessProbe probe         `yaml:"readinessProbe"`
						LivenessProbe  probe         `yaml:"livenessProbe"`
						VolumeMounts   []volumeMount `yaml:"volumeMounts"`
					} `yaml:"containers"`
				} `yaml:"spec"`
			} `yaml:"template"`
		} `yaml:"spec"`
	}
	reparse(t, objs["Deployment"][0], &dep)
	if dep.Spec.Replicas == nil || *dep.Spec.Replicas != 1 {
		t.Errorf("replicas = %v, want 1: each replica polls Duo on its own", dep.Spec.Replicas)
	}
	if dep.Spec.Strategy.Type != "Recreate" {
		t.Errorf("strategy %q, want Recreate: a rolling update runs two pollers", dep.Spec.Strategy.Type)
	}
	pod := dep.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("want one container, got %d", len(pod.Containers))
	}
	c := pod.Containers[0]
	if len(c.Args) != 0 || len(c.Command) != 0 {
		t.Errorf("the container overrides the image's command (%v %v), losing its feature gate", c.Command, c.Args)
	}
	checkPod(t, podSpec{
		Readiness: c.ReadinessProbe, Liveness: c.LivenessProbe,
		Env: c.Env, EnvFrom: c.EnvFrom, Volumes: pod.Volumes, Mounts: c.VolumeMounts,
		Security: pod.SecurityContext,
	}, img, secretName, secretKeys, pvcName)
}

func TestHelmValuesExample(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	img := loadImageConfig(t, root)
	secretName, secretKeys, pvcName := exampleSecretAndClaim(t, k8sObjects(t, filepath.Join(root, "examples", "k8s")))

	var v struct {
		Mode         string `yaml:"mode"`
		ReplicaCount *int   `yaml:"replicaCount"`
		Rollout      struct {
			Strategy string `yaml:"strategy"`
		} `yaml:"rollout"`
		Image struct {
			Repository string `yaml:"repository"`
			Tag        string `yaml:"tag"`
		} `yaml:"image"`
		Command struct {
			Name      string   `yaml:"name"`
			ExtraArgs []string `yaml:"extraArgs"`
		} `yaml:"command"`
		ConfigMap struct {
			Create *bool `yaml:"create"`
		} `yaml:"configMap"`
		ExtraEnvs          []envVar                          `yaml:"extraEnvs"`
		ExtraEnvsFrom      []envFrom                         `yaml:"extraEnvsFrom"`
		ExtraVolumes       []volume                          `yaml:"extraVolumes"`
		ExtraVolumeMounts  []volumeMount                     `yaml:"extraVolumeMounts"`
		PodSecurityContext podSecurity                       `yaml:"podSecurityContext"`
		ReadinessProbe     probe                             `yaml:"readinessProbe"`
		LivenessProbe      probe                             `yaml:"livenessProbe"`
		Ports              map[string]struct{ Enabled bool } `yaml:"ports"`
	}
	decodeInto(t, filepath.Join(root, "examples", "helm", "values.yaml"), &v)

	if v.Mode != "deployment" || v.ReplicaCount == nil || *v.ReplicaCount != 1 || v.Rollout.Strategy != "Recreate" {
		t.Errorf("mode %q, replicaCount %v, rollout %q: want one deployment pod, recreated", v.Mode, v.ReplicaCount, v.Rollout.Strategy)
	}
	if v.Image.Repository == "" || v.Image.Tag == "" {
		t.Errorf("image %+v: the chart needs a repository and this example a tag", v.Image)
	}
	// The chart runs /<command.name> with --config=/conf/relay.yaml only when it makes a
	// ConfigMap; these values run the image's own config instead.
	if v.Command.Name != BinName {
		t.Errorf("command.name %q, want %q (the chart runs /<name>)", v.Command.Name, BinName)
	}
	for _, arg := range []string{"--config=/etc/otelcol-duo/config.yaml", "--feature-gates=+extension.healthcheck.useComponentStatus"} {
		if !slices.Contains(v.Command.ExtraArgs, arg) {
			t.Errorf("command.extraArgs %v lack %s", v.Command.ExtraArgs, arg)
		}
	}
	if v.ConfigMap.Create == nil || *v.ConfigMap.Create {
		t.Errorf("configMap.create must be false: the chart's config would replace the image's")
	}
	for name, p := range v.Ports {
		if p.Enabled {
			t.Errorf("chart port %s is enabled, but nothing in the collector listens for it", name)
		}
	}
	checkPod(t, podSpec{
		Readiness: v.ReadinessProbe, Liveness: v.LivenessProbe,
		Env: v.ExtraEnvs, EnvFrom: v.ExtraEnvsFrom, Volumes: v.ExtraVolumes, Mounts: v.ExtraVolumeMounts,
		Security: v.PodSecurityContext,
	}, img, secretName, secretKeys, pvcName)
}
