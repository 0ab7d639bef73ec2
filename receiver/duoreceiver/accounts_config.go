// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoreceiver

import (
	"errors"
	"fmt"
	"path"
	"time"
)

// defaultRefreshInterval is how often the child list is read again.
const defaultRefreshInterval = time.Hour

// AccountsConfig reads the child accounts of a parent (an MSP) through Duo's Accounts API
// (docs/duo-inventory.md §2): integration_key and secret_key are then the parent's Accounts
// API application keys and api_hostname is the parent's.
type AccountsConfig struct {
	// Discover lists the children with POST /accounts/v1/account/list at start and every
	// RefreshInterval, and reads each one that Include and Exclude let through.
	Discover bool `mapstructure:"discover"`
	// RefreshInterval is the time between two reads of the child list.
	RefreshInterval time.Duration `mapstructure:"refresh_interval"`
	// Include, when not empty, reads only the children matching one of its entries: an
	// account id, or a glob (path.Match syntax) on the account name.
	Include []string `mapstructure:"include"`
	// Exclude leaves out the children matching one of its entries, like Include.
	Exclude []string `mapstructure:"exclude"`
	// IDs reads this fixed list of children without listing them. Their requests go to
	// the parent's api_hostname, the list being what tells each child's own.
	IDs []string `mapstructure:"ids"`
	// MaxRequestsPerMinute caps the requests of all children together, on top of each
	// child's own budget per endpoint. 0 means no cap.
	MaxRequestsPerMinute float64 `mapstructure:"max_requests_per_minute"`
}

var (
	errAccountsIDsAndDiscover = errors.New("accounts: ids and discover exclude each other; with discover, choose children with include and exclude")
	errAccountsFilterNoList   = errors.New("accounts: include and exclude choose among discovered children; set discover: true (or list the children under ids)")
	errAccountsAndAccountID   = errors.New("account_id reads one child account; to read several, list them under accounts.ids or set accounts.discover")
	errAccountsRefresh        = errors.New("accounts.refresh_interval: must be positive, e.g. 1h")
	errAccountsMaxRate        = errors.New("accounts.max_requests_per_minute: must not be negative; use 0 for no cap")
)

// enabled reports whether the receiver reads several child accounts.
func (a *AccountsConfig) enabled() bool {
	return a.Discover || len(a.IDs) > 0
}

func (a *AccountsConfig) validate(accountID string) []error {
	var errs []error
	if a.Discover && len(a.IDs) > 0 {
		errs = append(errs, errAccountsIDsAndDiscover)
	}
	if !a.Discover && (len(a.Include) > 0 || len(a.Exclude) > 0) {
		errs = append(errs, errAccountsFilterNoList)
	}
	if a.enabled() && accountID != "" {
		errs = append(errs, errAccountsAndAccountID)
	}
	if a.Discover && a.RefreshInterval <= 0 {
		errs = append(errs, errAccountsRefresh)
	}
	if a.MaxRequestsPerMinute < 0 {
		errs = append(errs, errAccountsMaxRate)
	}
	seen := make(map[string]bool, len(a.IDs))
	for _, id := range a.IDs {
		switch {
		case !accountIDPattern.MatchString(id):
			errs = append(errs, fmt.Errorf("accounts.ids: %q is not a Duo child account id (letters and digits, e.g. DA9VZOC5X63I2W72NRP9)", id))
		case seen[id]:
			errs = append(errs, fmt.Errorf("accounts.ids: %q is listed twice", id))
		}
		seen[id] = true
	}
	for _, l := range []struct {
		key  string
		list []string
	}{{"include", a.Include}, {"exclude", a.Exclude}} {
		key := l.key
		for _, p := range l.list {
			if p == "" {
				errs = append(errs, fmt.Errorf("accounts.%s: an empty entry matches nothing; remove it", key))
			} else if _, err := path.Match(p, ""); err != nil {
				errs = append(errs, fmt.Errorf("accounts.%s: %q is not a valid glob (use *, ? and [...]): %w", key, p, err))
			}
		}
	}
	return errs
}

// selects reports whether the child with this id and name is read: it matches Include
// (when set) and no Exclude entry.
func (a *AccountsConfig) selects(id, name string) bool {
	if len(a.Include) > 0 && !matchesAny(a.Include, id, name) {
		return false
	}
	return !matchesAny(a.Exclude, id, name)
}

// matchesAny reports whether an entry is the account id or a glob matching the name.
func matchesAny(entries []string, id, name string) bool {
	for _, e := range entries {
		if e == id {
			return true
		}
		if ok, err := path.Match(e, name); err == nil && ok {
			return true
		}
	}
	return false
}
