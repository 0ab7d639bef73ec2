// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duosim

import (
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// Inventory endpoints: offset-paged object lists with the metadata at the
// top level of the envelope (API.md 1.3, 3.8, 4.4), and three unpaged
// objects. Limits follow INVENTORY.md 1.1; where sources disagree (groups:
// 100 or 500) the simulator takes the smaller.

// resource is one inventory endpoint.
type resource struct {
	name     string
	path     string
	maxLimit int // 0: not paged
	size     func(p *population) int
	render   func(a *Account, p *population, b []byte, i int) []byte
	object   func(a *Account, p *population, b []byte) []byte // unpaged
}

var resources = []*resource{
	{name: "users", path: "/admin/v1/users", maxLimit: 300,
		size: func(p *population) int { return len(p.users) }, render: renderUser},
	{name: "bypass_codes", path: "/admin/v1/bypass_codes", maxLimit: 500,
		size: func(p *population) int { return len(p.codes) }, render: renderBypassCode},
	{name: "groups", path: "/admin/v1/groups", maxLimit: 100,
		size: func(p *population) int { return max(0, p.cfg.Groups) }, render: renderGroupItem},
	{name: "endpoints", path: "/admin/v1/endpoints", maxLimit: 100,
		size: func(p *population) int { return max(0, p.cfg.Endpoints) }, render: renderEndpoint},
	{name: "policies", path: "/admin/v2/policies", maxLimit: 100,
		size: func(p *population) int { return max(0, p.cfg.Policies) }, render: renderPolicy},
	{name: "policies_summary", path: "/admin/v2/policies/summary", object: renderPolicySummary},
	{name: "summary", path: summaryPath, object: renderSummary},
	{name: "admins", path: "/admin/v1/admins", maxLimit: 100,
		size: func(p *population) int { return max(0, p.cfg.Admins) }, render: renderAdminItem},
	{name: "integrations", path: "/admin/v3/integrations", maxLimit: 100,
		size: func(p *population) int { return max(0, p.cfg.Integrations) }, render: renderIntegration},
	{name: "settings", path: "/admin/v1/settings", object: renderSettings},
}

var resourceByPath = func() map[string]*resource {
	m := make(map[string]*resource, len(resources))
	for _, r := range resources {
		m[r.path] = r
	}
	return m
}()

// Resources lists the inventory resource names the simulator serves.
func Resources() []string {
	out := make([]string, len(resources))
	for i, r := range resources {
		out[i] = r.name
	}
	return out
}

// ResourcePath returns the Admin API path of an inventory resource (the
// key of its Stats().Requests), or "" for a name it does not know.
func ResourcePath(name string) string {
	for _, r := range resources {
		if r.name == name {
			return r.path
		}
	}
	return ""
}

// ResourceMaxLimit is the largest page the simulator serves for a paged
// resource (a larger limit is clamped to it); 0 for an unpaged one.
func ResourceMaxLimit(name string) int {
	for _, r := range resources {
		if r.name == name {
			return r.maxLimit
		}
	}
	return 0
}

// IntegrationSecretPrefix starts every integration secret_key the
// simulator serves, so a test can search output for leaked secrets.
const IntegrationSecretPrefix = "SIMLEAKEDSECRET"

// InventoryFaults is trouble injected into the inventory endpoints of every
// account.
type InventoryFaults struct {
	// Forbidden lists resources (by name or path) answered 403 40301, as
	// Duo answers an Admin API application without the permission.
	Forbidden []string
	// FailPages makes chosen pages fail.
	FailPages []PageFault
	// MaxPage, when positive, caps every page at this many objects (Duo
	// may return fewer than asked, API.md 3.8); next_offset still follows.
	MaxPage int
}

// PageFault fails the page of a resource that starts at Offset (the page
// N of limit L starts at (N-1)×L).
type PageFault struct {
	Resource string // name or path
	Offset   int
	// Status is 500 (the default), 502 or 503.
	Status int
	// Times is how many requests fail before the page is served again;
	// 0 means every request fails.
	Times int
}

// invFaults holds InventoryFaults and their counters.
type invFaults struct {
	mu    sync.Mutex
	f     InventoryFaults
	count []int // failures served per FailPages entry
}

// SetInventoryFaults replaces the inventory faults of every account that
// has none of its own (see Account.SetInventoryFaults), and their counters.
func (s *Sim) SetInventoryFaults(f InventoryFaults) { s.inv.set(f) }

// SetInventoryFaults gives this account inventory faults of its own, in
// place of the simulator's; ClearInventoryFaults goes back to those.
func (a *Account) SetInventoryFaults(f InventoryFaults) {
	fs := &invFaults{}
	fs.set(f)
	a.inv.mu.Lock()
	defer a.inv.mu.Unlock()
	a.inv.faults = fs
}

// ClearInventoryFaults makes the account use the simulator's inventory
// faults again.
func (a *Account) ClearInventoryFaults() {
	a.inv.mu.Lock()
	defer a.inv.mu.Unlock()
	a.inv.faults = nil
}

func (a *Account) invFaults() *invFaults {
	a.inv.mu.Lock()
	defer a.inv.mu.Unlock()
	if a.inv.faults != nil {
		return a.inv.faults
	}
	return &a.sim.inv
}

func (fs *invFaults) set(f InventoryFaults) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.f = f
	fs.count = make([]int, len(f.FailPages))
}

func (r *resource) is(ref string) bool { return ref == r.name || ref == r.path }

// fault returns the injected answer for a request of r at offset, if any,
// and the page cap.
func (fs *invFaults) fault(r *resource, offset int) (*response, int) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for _, ref := range fs.f.Forbidden {
		if r.is(ref) {
			return errorResponse(http.StatusForbidden, 40301, "Access forbidden",
				"The Admin API application lacks the permission for "+r.path), 0
		}
	}
	for i, pf := range fs.f.FailPages {
		if !r.is(pf.Resource) || pf.Offset != offset || (pf.Times > 0 && fs.count[i] >= pf.Times) {
			continue
		}
		fs.count[i]++
		switch pf.Status {
		case http.StatusBadGateway:
			return &response{status: http.StatusBadGateway, ctype: "text/html",
				body: []byte("<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>\n")}, 0
		case http.StatusServiceUnavailable:
			return &response{status: http.StatusServiceUnavailable, ctype: "text/plain", body: []byte("Service Unavailable\n")}, 0
		}
		return errorResponse(http.StatusInternalServerError, 50000, "Internal server error", ""), 0
	}
	return nil, fs.f.MaxPage
}

// offsetParams reads offset (default 0) and limit (default 100, clamped to
// the resource's maximum). A value that is not a number is refused.
func offsetParams(q url.Values, maxLimit int) (offset, limit int, e *response) {
	offset, limit = 0, defaultLimit
	if vs := q["offset"]; len(vs) > 0 {
		v, err := strconv.Atoi(vs[0])
		if err != nil || v < 0 || len(vs) > 1 {
			return 0, 0, paramError("'offset' must be a non-negative integer")
		}
		offset = v
	}
	if vs := q["limit"]; len(vs) > 0 {
		v, err := strconv.Atoi(vs[0])
		if err != nil || v < 1 || len(vs) > 1 {
			return 0, 0, paramError("'limit' must be a positive integer")
		}
		limit = min(v, maxLimit)
	}
	return offset, limit, nil
}

// serveResource answers an inventory endpoint for account a.
func (s *Sim) serveResource(a *Account, r *resource, q url.Values) *response {
	offset, limit := 0, 0
	if r.maxLimit > 0 {
		var e *response
		if offset, limit, e = offsetParams(q, r.maxLimit); e != nil {
			return e
		}
	}
	f, maxPage := a.invFaults().fault(r, offset)
	if f != nil {
		return f
	}
	p := a.population()
	bp := s.newBuf()
	b := *bp
	if r.maxLimit == 0 {
		b = append(b, `{"response":`...)
		b = r.object(a, p, b)
		b = append(b, `,"stat":"OK"}`...)
		*bp = b
		return okResponse(bp, 1)
	}
	total := r.size(p)
	n := max(0, min(limit, total-offset))
	if maxPage > 0 {
		n = min(n, maxPage)
	}
	b = append(b, `{"metadata":{`...)
	if offset+n < total {
		b = append(b, `"next_offset":`...)
		b = appendInt(b, int64(offset+n))
		b = append(b, ',')
	}
	if offset > 0 {
		b = append(b, `"prev_offset":`...)
		b = appendInt(b, int64(max(0, offset-limit)))
		b = append(b, ',')
	}
	b = append(b, `"total_objects":`...)
	b = appendInt(b, int64(total))
	b = append(b, `},"response":[`...)
	for i := offset; i < offset+n; i++ {
		if i > offset {
			b = append(b, ',')
		}
		b = r.render(a, p, b, i)
	}
	b = append(b, `],"stat":"OK"}`...)
	*bp = b
	return okResponse(bp, n)
}

// inventory is an account's lazily generated population.
type inventory struct {
	mu     sync.Mutex
	cfg    *Population // nil: the simulator's default for the account
	pop    *population
	faults *invFaults // nil: the simulator's
}

func (a *Account) population() *population {
	a.inv.mu.Lock()
	defer a.inv.mu.Unlock()
	if a.inv.pop == nil {
		cfg := a.sim.popFor(a)
		if a.inv.cfg != nil {
			cfg = *a.inv.cfg
		}
		a.inv.pop = generate(cfg, a.seed^0x1417e2, a.sim.now())
	}
	return a.inv.pop
}

// SetPopulation replaces the account's inventory with one generated now
// from p.
func (a *Account) SetPopulation(p Population) {
	a.inv.mu.Lock()
	defer a.inv.mu.Unlock()
	a.inv.cfg = &p
	a.inv.pop = nil
}

// InventoryCounts returns the account's true inventory figures for the
// given inactivity threshold and instant (see InventoryCounts).
func (a *Account) InventoryCounts(inactiveAfter time.Duration, now time.Time) InventoryCounts {
	return a.population().counts(inactiveAfter, now)
}

// InventoryCounts returns the parent account's true inventory figures.
func (s *Sim) InventoryCounts(inactiveAfter time.Duration, now time.Time) InventoryCounts {
	return s.parent.InventoryCounts(inactiveAfter, now)
}

// SetPopulation replaces the parent account's inventory.
func (s *Sim) SetPopulation(p Population) { s.parent.SetPopulation(p) }

// IntegrationSecretKeys returns every integration secret_key the account
// serves, for leak checks.
func (a *Account) IntegrationSecretKeys() []string {
	p := a.population()
	out := make([]string, 0, max(0, p.cfg.Integrations))
	for j := 0; j < p.cfg.Integrations; j++ {
		out = append(out, string(integrationSecret(p, j)))
	}
	return out
}
