// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoreceiver

import (
	"fmt"
	"reflect"
	"slices"
)

// fieldIndex ties the fields of struct type t to names by each field's mapstructure key:
// the yaml keys and duoapi's names are tied once, not by a list per site. A field whose
// key is not in known (what names the kind, for the message) stops every test and
// binary; whether every known name needs a field is for the caller to say.
func fieldIndex[K ~string](t reflect.Type, known []K, what string) map[K]int {
	idx := make(map[K]int, t.NumField())
	for i := range t.NumField() {
		k := K(t.Field(i).Tag.Get("mapstructure"))
		if !slices.Contains(known, k) {
			panic(fmt.Sprintf("duoreceiver: %s.%s has key %q, which is no %s", t.Name(), t.Field(i).Name, k, what))
		}
		idx[k] = i
	}
	return idx
}
