// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestBudgetEvents(t *testing.T) {
	const auth, tel = "/admin/v2/logs/authentication", "/admin/v1/logs/telephony"
	log := "2026-12-01T09:31:29.415Z\tinfo\tservice.go:1\tEverything is ready.\t{\"resource\": {}}\n" +
		"2026-12-01T09:31:30.000Z\twarn\tduoapi/client.go:295\trate limited by duo, retrying at the same rate\t{\"resource\": {\"service.name\": \"x\"}, \"path\": \"" + auth + "\", \"budget_per_minute\": 60}\n" +
		"2026-12-01T09:31:31.000Z\twarn\tduoapi/client.go:295\trate limited by duo, slowing down\t{\"path\": \"" + auth + "\", \"budget_per_minute\": 30.5}\n" +
		"2026-12-01T09:31:32.000Z\twarn\tduoapi/client.go:295\trate limited by duo, retrying at the same rate\t{\"path\": \"" + tel + "\", \"budget_per_minute\": 2}\n" +
		"2026-12-01T09:31:33.000Z\twarn\tduoapi/client.go:295\trate limited by duo, retrying at the same rate\t{\"path\": \"" + auth + "\", \"budget_per_minute\": 45}\n" +
		"2026-12-01T09:31:34.000Z\twarn\tduoapi/client.go:295\trate limited by duo, slowing down\t{\"path\": \"" + tel + "\"}\n" + // no budget
		"garbage\n"
	ev := BudgetEvents(log)
	assert.Len(t, ev, 4)
	assert.Equal(t, map[string]BudgetSummary{
		auth: {Limited: 3, Cuts: 1, Lowest: 30.5, Last: 45},
		tel:  {Limited: 1, Cuts: 0, Lowest: 2, Last: 2},
	}, SummarizeBudgets(ev))
}
