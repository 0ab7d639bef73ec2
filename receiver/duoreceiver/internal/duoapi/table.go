// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoapi

// The endpoint table comes in two parts (endpoints for log streams, inventory for
// inventory resources) with rows of different types; these read either part.

// column lists one field of every row of a table, in the table's order.
func column[R, C any](rows []R, field func(*R) C) []C {
	out := make([]C, len(rows))
	for i := range rows {
		out[i] = field(&rows[i])
	}
	return out
}

// rowWhere returns the first row of a table that match accepts, or nil if none does.
func rowWhere[R any](rows []R, match func(*R) bool) *R {
	for i := range rows {
		if match(&rows[i]) {
			return &rows[i]
		}
	}
	return nil
}
