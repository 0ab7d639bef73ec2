// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoreceiver

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// configKeys lists the dotted mapstructure keys of t's fields. A section of this package
// is listed by its keys; a section of another package (retry_on_failure) as one key, as the
// README documents it by reference. Squashed fields are left out: the confighttp client
// settings and mdatagen's metrics and resource_attributes are documented by reference.
// Filters are listed for the authentication log only: validate refuses them elsewhere.
func configKeys(t reflect.Type, prefix string) []string {
	local := reflect.TypeFor[Config]().PkgPath()
	var keys []string
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("mapstructure")
		if tag == "" || tag == "-" || strings.Contains(tag, "squash") {
			continue
		}
		key := prefix + strings.Split(tag, ",")[0]
		if strings.HasPrefix(key, "logs.") && strings.HasSuffix(key, ".filters") && key != "logs.authentication.filters" {
			continue
		}
		if f.Type.Kind() == reflect.Struct && f.Type.PkgPath() == local {
			keys = append(keys, configKeys(f.Type, key+".")...)
			continue
		}
		keys = append(keys, key)
	}
	return keys
}

// readmeForms are the ways the README may name key: as is, with a log type or resource
// name as a placeholder, or, for a filter, as a row of the filters' own table.
func readmeForms(key string) []string {
	parts := strings.Split(key, ".")
	forms := []string{"`" + key + "`"}
	if len(parts) >= 2 && parts[0] == "logs" {
		generic := append([]string{"logs", "<type>"}, parts[2:]...)
		forms = append(forms, "`"+strings.Join(generic, ".")+"`")
		if len(parts) == 4 && parts[2] == "filters" {
			forms = append(forms, "| `"+parts[3]+"` |")
		}
	}
	if len(parts) >= 3 && parts[0] == "inventory" && parts[1] == "resources" {
		generic := append([]string{"inventory", "resources", "<name>"}, parts[3:]...)
		forms = append(forms, "`"+strings.Join(generic, ".")+"`")
		// A resource is a row of the resources table.
		if len(parts) == 3 {
			forms = append(forms, "| `"+parts[2]+"`")
		}
	}
	return forms
}

// TestREADMEDocumentsEverything checks the receiver README against the code: every
// configuration key, every posture metric and resource attribute of metadata.yaml, and
// every metric of the receiver's own telemetry. A key or metric added without a line in
// the README fails here.
func TestREADMEDocumentsEverything(t *testing.T) {
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)

	for _, key := range configKeys(reflect.TypeFor[Config](), "") {
		found := false
		for _, form := range readmeForms(key) {
			if strings.Contains(readme, form) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("README.md does not document the config key %s (looked for %v)", key, readmeForms(key))
		}
	}

	raw, err := os.ReadFile("metadata.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var md struct {
		ResourceAttributes map[string]any `yaml:"resource_attributes"`
		Metrics            map[string]any `yaml:"metrics"`
		Telemetry          struct {
			Metrics map[string]any `yaml:"metrics"`
		} `yaml:"telemetry"`
	}
	if err := yaml.Unmarshal(raw, &md); err != nil {
		t.Fatal(err)
	}
	if len(md.Metrics) == 0 || len(md.Telemetry.Metrics) == 0 || len(md.ResourceAttributes) == 0 {
		t.Fatalf("metadata.yaml read as %+v: the test would prove nothing", md)
	}
	for name := range md.Metrics {
		if !strings.Contains(readme, "| `"+name+"` |") {
			t.Errorf("README.md's posture metric table has no row for %s", name)
		}
	}
	for name := range md.Telemetry.Metrics {
		// mdatagen names them otelcol_<name> (the receiver's own telemetry).
		if !strings.Contains(readme, "| `otelcol_"+name+"` |") {
			t.Errorf("README.md's telemetry table has no row for otelcol_%s", name)
		}
	}
	for name := range md.ResourceAttributes {
		if !strings.Contains(readme, "| resource | `"+name+"` |") {
			t.Errorf("README.md's attribute mapping has no resource row for %s", name)
		}
	}
}
