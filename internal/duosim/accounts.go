// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duosim

import (
	"errors"
	"fmt"
	"hash/fnv"
	"net/http"
	"slices"
	"strconv"
)

// The Accounts API (API.md 3.9, INVENTORY.md 2): a parent lists its
// children with POST /accounts/v1/account/list, signed with the parent's
// Accounts API application keys, and reads any child's Admin API data with
// the same keys by adding the signed parameter account_id and sending the
// request to the child's api_hostname.

const (
	accountListPath = "/accounts/v1/account/list"

	// DefaultAccountsIntegrationKey and DefaultAccountsSecretKey are the
	// parent's Accounts API application keys unless Config says otherwise.
	DefaultAccountsIntegrationKey = "DIACCOUNTSSIM0000001"
	DefaultAccountsSecretKey      = "simulatoraccountsapisecret00000000000000"
)

// ChildAccount is one child as the Accounts API lists it, plus the log
// types the simulator makes it refuse.
type ChildAccount struct {
	// AccountID is the 20-character account_id.
	AccountID string `json:"account_id"`
	Name      string `json:"name"`
	// APIHostname is the child's api_hostname, the host its requests are
	// signed for.
	APIHostname string `json:"api_hostname"`
	// Refuse maps a log type (see LogTypes) to the error its endpoint
	// answers for this child: 40401 (404 Resource not found) or 40301
	// (403 Access forbidden). Which log types Duo serves children is not
	// documented; authentication is known to work (API.md 3.9).
	Refuse map[string]int `json:"refuse,omitempty"`
}

func (c ChildAccount) clone() ChildAccount {
	if c.Refuse != nil {
		m := make(map[string]int, len(c.Refuse))
		for k, v := range c.Refuse {
			m[k] = v
		}
		c.Refuse = m
	}
	return c
}

var childSuffixes = []string{"Ltd", "GmbH", "S.A.", "LLC", "株式会社", "Sp. z o.o.", "AB", "Pty Ltd"}

// ChildAccounts makes n deterministic children numbered from first, with
// distinct ids, names and hostnames; the same (seed, number) always gives
// the same child.
func ChildAccounts(seed int64, first, n int) []ChildAccount {
	out := make([]ChildAccount, 0, max(0, n))
	for k := first; k < first+n; k++ {
		g := newRNG(uint64(seed), 0xc41d0000+uint64(k))
		const alpha = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		id := []byte("DA")
		for len(id) < 13 {
			id = append(id, alpha[g.intn(36)])
		}
		idx := strconv.FormatInt(int64(k), 36)
		for len(id)+len(idx) < 20 {
			id = append(id, '0')
		}
		for _, c := range idx {
			if c >= 'a' {
				c -= 'a' - 'A'
			}
			id = append(id, byte(c))
		}
		host := fmt.Sprintf("api-%08x.duosecurity.com", uint32(g.next()))
		out = append(out, ChildAccount{
			AccountID:   string(id),
			Name:        fmt.Sprintf("Customer %03d %s", k, pick(&g, childSuffixes)),
			APIHostname: host,
		})
	}
	return out
}

// children is the parent's current child list and every child account the
// simulator has made. A child that leaves the list keeps its data, so one
// added back serves the same events.
type children struct {
	list     []ChildAccount
	listed   map[string]bool
	accounts map[string]*Account
}

func checkChild(c ChildAccount) error {
	if c.AccountID == "" || c.APIHostname == "" {
		return errors.New("duosim: a child needs an AccountID and an APIHostname")
	}
	for lt, code := range c.Refuse {
		if Path(lt) == "" {
			return fmt.Errorf("duosim: child %s refuses unknown log type %q", c.AccountID, lt)
		}
		if code != 40401 && code != 40301 {
			return fmt.Errorf("duosim: child %s refuses %s with %d; use 40401 or 40301", c.AccountID, lt, code)
		}
	}
	return nil
}

// SetChildren replaces the parent's child list. Children keep their data
// across list changes.
func (s *Sim) SetChildren(cs []ChildAccount) error {
	seen := make(map[string]bool, len(cs))
	for _, c := range cs {
		if err := checkChild(c); err != nil {
			return err
		}
		if seen[c.AccountID] {
			return fmt.Errorf("duosim: child %s listed twice", c.AccountID)
		}
		seen[c.AccountID] = true
	}
	s.acctMu.Lock()
	defer s.acctMu.Unlock()
	s.kids.list = make([]ChildAccount, 0, len(cs))
	s.kids.listed = seen
	for _, c := range cs {
		s.installLocked(c.clone())
	}
	return nil
}

// installLocked appends c to the list and makes or updates its account.
// Must hold acctMu.
func (s *Sim) installLocked(c ChildAccount) {
	s.kids.list = append(s.kids.list, c)
	s.kids.listed[c.AccountID] = true
	a := s.kids.accounts[c.AccountID]
	if a == nil {
		h := fnv.New64a()
		_, _ = h.Write([]byte(c.AccountID))
		a = newAccount(s, c.AccountID, c.Name, c.APIHostname, mix64(s.seed^h.Sum64()))
		s.kids.accounts[c.AccountID] = a
	}
	a.name, a.host, a.refuse = c.Name, c.APIHostname, c.Refuse
}

// AddChild appends a child to the list (or updates it in place when its
// id is already listed).
func (s *Sim) AddChild(c ChildAccount) error {
	if err := checkChild(c); err != nil {
		return err
	}
	s.acctMu.Lock()
	defer s.acctMu.Unlock()
	if i := slices.IndexFunc(s.kids.list, func(x ChildAccount) bool { return x.AccountID == c.AccountID }); i >= 0 {
		s.kids.list = slices.Delete(s.kids.list, i, i+1)
	}
	s.installLocked(c.clone())
	return nil
}

// RemoveChild takes a child off the list; it reports whether it was listed.
// Requests for it are then refused, and its data is kept.
func (s *Sim) RemoveChild(id string) bool {
	s.acctMu.Lock()
	defer s.acctMu.Unlock()
	i := slices.IndexFunc(s.kids.list, func(x ChildAccount) bool { return x.AccountID == id })
	if i < 0 {
		return false
	}
	s.kids.list = slices.Delete(s.kids.list, i, i+1)
	delete(s.kids.listed, id)
	return true
}

// Children returns the current child list.
func (s *Sim) Children() []ChildAccount {
	s.acctMu.RLock()
	defer s.acctMu.RUnlock()
	out := make([]ChildAccount, len(s.kids.list))
	for i, c := range s.kids.list {
		out[i] = c.clone()
	}
	return out
}

// child returns a child account ever listed, or nil.
func (s *Sim) child(id string) *Account {
	s.acctMu.RLock()
	defer s.acctMu.RUnlock()
	return s.kids.accounts[id]
}

// listedChild returns the account of a child on the current list, or nil.
func (s *Sim) listedChild(id string) *Account {
	s.acctMu.RLock()
	defer s.acctMu.RUnlock()
	if !s.kids.listed[id] {
		return nil
	}
	return s.kids.accounts[id]
}

// refusal is the error a child answers for a log type it does not serve.
func (s *Sim) refusal(a *Account, lt string) *response {
	if a.id == "" {
		return nil
	}
	s.acctMu.RLock()
	code := a.refuse[lt]
	s.acctMu.RUnlock()
	switch code {
	case 40401:
		return errorResponse(http.StatusNotFound, 40401, "Resource not found", "")
	case 40301:
		return errorResponse(http.StatusForbidden, 40301, "Access forbidden", "")
	}
	return nil
}

// serveAccountList answers POST /accounts/v1/account/list: every child,
// not paged.
func (s *Sim) serveAccountList() *response {
	cs := s.Children()
	bp := s.newBuf()
	b := append(*bp, `{"response":[`...)
	for i, c := range cs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"account_id":`...)
		b = appendString(b, c.AccountID)
		b = append(b, `,"api_hostname":`...)
		b = appendString(b, c.APIHostname)
		b = append(b, `,"name":`...)
		b = appendString(b, c.Name)
		b = append(b, '}')
	}
	b = append(b, `],"stat":"OK"}`...)
	*bp = b
	return okResponse(bp, len(cs))
}
