// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duosim

import "sync"

// Account is one Duo account's data: its six log streams and its inventory.
// The simulator has one parent account (the one its own Admin API keys
// read) and any number of child accounts, reached through the Accounts API
// (see SetChildren). The Sim methods that add or list events act on the
// parent; Sim.Account gives the same methods for a child.
type Account struct {
	sim  *Sim
	id   string // "" for the parent
	name string // name and host are guarded by Sim.acctMu: AddChild may change them
	host string
	seed uint64

	// The log stores and the name pools are made on first use, so an idle
	// child costs little more than this struct.
	once   sync.Once
	pools  *pools
	stores map[string]*store

	inv inventory

	refuse map[string]int // log type → error code; guarded by Sim.acctMu
}

func newAccount(s *Sim, id, name, host string, seed uint64) *Account {
	return &Account{sim: s, id: id, name: name, host: host, seed: seed}
}

func (a *Account) ensure() {
	a.once.Do(func() {
		a.pools = newPools(a.seed)
		a.stores = make(map[string]*store, len(logTypes))
		for _, ti := range logTypes {
			a.stores[ti.name] = &store{ti: ti}
		}
	})
}

// ID is the account_id ("" for the parent).
func (a *Account) ID() string { return a.id }

// Name is the child's name as the Accounts API lists it ("" for the parent).
func (a *Account) Name() string {
	a.sim.acctMu.RLock()
	defer a.sim.acctMu.RUnlock()
	return a.name
}

// APIHostname is the hostname requests for this account are signed for.
func (a *Account) APIHostname() string {
	a.sim.acctMu.RLock()
	defer a.sim.acctMu.RUnlock()
	return a.host
}
