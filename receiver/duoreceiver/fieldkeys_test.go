// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoreceiver

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/duoapi"
)

func TestFieldIndex(t *testing.T) {
	type two struct {
		B ResourceConfig `mapstructure:"groups"`
		A ResourceConfig `mapstructure:"users"`
	}
	assert.Equal(t, map[duoapi.Resource]int{duoapi.Groups: 0, duoapi.Users: 1},
		fieldIndex(reflect.TypeFor[two](), duoapi.Resources, "duoapi resource"))

	type stray struct {
		Users ResourceConfig `mapstructure:"users"`
		Typo  ResourceConfig `mapstructure:"user"`
	}
	assert.PanicsWithValue(t, `duoreceiver: stray.Typo has key "user", which is no duoapi resource`, func() {
		fieldIndex(reflect.TypeFor[stray](), duoapi.Resources, "duoapi resource")
	})
}
