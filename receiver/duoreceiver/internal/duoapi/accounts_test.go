// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoapi

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-duo/otelcol-duo/internal/duosim"
)

// The child list is a signed POST the simulator's verifier accepts under every signing
// scheme, with the Accounts API keys only.
func TestSimListAccounts(t *testing.T) {
	kids := duosim.ChildAccounts(7, 0, 3)
	for _, signing := range []Signing{SigningV5, SigningV2SHA512, SigningV2SHA1} {
		t.Run(string(signing), func(t *testing.T) {
			h := newSimHarness(t, duosim.Config{Children: kids}, func(c *Config) {
				c.IntegrationKey = duosim.DefaultAccountsIntegrationKey
				c.SecretKey = duosim.DefaultAccountsSecretKey
				c.Signing = signing
			})
			got, err := h.c.ListAccounts(t.Context())
			require.NoError(t, err)
			want := make([]Account, 0, len(kids))
			for _, k := range kids {
				want = append(want, Account{ID: k.AccountID, Name: k.Name, APIHostname: k.APIHostname})
			}
			assert.Equal(t, want, got)
		})
	}
	t.Run("admin keys", func(t *testing.T) {
		h := newSimHarness(t, duosim.Config{Children: kids}, nil)
		_, err := h.c.ListAccounts(t.Context())
		var apiErr *APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, 40301, apiErr.Code)
	})
}

// A child is read with account_id signed, for the child's own api_hostname, through the
// one simulator address.
func TestSimChildRequest(t *testing.T) {
	kids := duosim.ChildAccounts(7, 0, 2)
	now := time.Now()
	h := newSimHarness(t, duosim.Config{Delay: -1, Children: kids, StrictChildHost: true}, func(c *Config) {
		c.IntegrationKey = duosim.DefaultAccountsIntegrationKey
		c.SecretKey = duosim.DefaultAccountsSecretKey
		c.Host = kids[1].APIHostname
		c.AccountID = kids[1].AccountID
	})
	h.sim.Account(kids[1].AccountID).Backfill("authentication", 50, now.Add(-time.Hour), now.Add(-time.Minute))
	got := h.fetchAll(t, Authentication, Window{Start: now.Add(-2 * time.Hour), End: now})
	assert.Len(t, got, 50)
}
