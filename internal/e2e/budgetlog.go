// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"encoding/json"
	"strings"
	"time"
)

// BudgetEvent is one 429 the collector logged: the endpoint, whether the budget cut its
// rate, and the budget after it.
type BudgetEvent struct {
	At        time.Time
	Path      string
	Cut       bool
	PerMinute float64
}

// BudgetEvents returns the collector log's "rate limited by duo" warnings, in order. The
// lines are the console encoder's: time, level, caller, message, then the fields as one
// JSON object.
func BudgetEvents(log string) []BudgetEvent {
	var out []BudgetEvent
	for _, line := range strings.Split(log, "\n") {
		parts := strings.SplitN(line, "\t", 5)
		if len(parts) < 5 || !strings.HasPrefix(parts[3], "rate limited by duo") {
			continue
		}
		var fields struct {
			Path      string   `json:"path"`
			PerMinute *float64 `json:"budget_per_minute"`
		}
		if err := json.Unmarshal([]byte(parts[4]), &fields); err != nil || fields.PerMinute == nil {
			continue
		}
		at, _ := time.Parse(time.RFC3339Nano, parts[0])
		out = append(out, BudgetEvent{
			At: at, Path: fields.Path, PerMinute: *fields.PerMinute,
			Cut: strings.Contains(parts[3], "slowing down"),
		})
	}
	return out
}

// BudgetSummary is what BudgetEvents say about one endpoint.
type BudgetSummary struct {
	Limited, Cuts int     // 429s logged, and those that cut the rate
	Lowest, Last  float64 // budget, requests a minute
}

// SummarizeBudgets groups events by endpoint.
func SummarizeBudgets(events []BudgetEvent) map[string]BudgetSummary {
	out := map[string]BudgetSummary{}
	for _, e := range events {
		s, seen := out[e.Path]
		if !seen || e.PerMinute < s.Lowest {
			s.Lowest = e.PerMinute
		}
		s.Limited++
		if e.Cut {
			s.Cuts++
		}
		s.Last = e.PerMinute
		out[e.Path] = s
	}
	return out
}
