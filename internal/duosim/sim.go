// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duosim

import (
	"io"
	"maps"
	"net/http"
	"strconv"
	"sync"
	"time"

	"go.uber.org/zap"
)

// Defaults for Config fields left at their zero value.
const (
	DefaultHost           = "api-sim00000.duosecurity.com"
	DefaultIntegrationKey = "DISIMULATOR000000001"
	DefaultSecretKey      = "simulatorsecretkey0000000000000000000000"
	// DefaultDelay is Duo's availability delay (docs/duo-api.md §1.6).
	DefaultDelay = 2 * time.Minute
	// DefaultMaxClockSkew is the simulator's Date tolerance. Duo's is not
	// documented (docs/duo-api.md §1.4, §7).
	DefaultMaxClockSkew = 5 * time.Minute
)

// Config configures a Sim. Zero values take the defaults above.
type Config struct {
	// Host is the API hostname the simulator expects as canonical line 3
	// (docs/duo-api.md §2.1); default DefaultHost.
	Host string
	// IntegrationKey is the accepted ikey; default DefaultIntegrationKey.
	IntegrationKey string
	// SecretKey is the accepted skey; default DefaultSecretKey.
	SecretKey string
	// Seed makes the generated events and injected faults deterministic.
	Seed int64
	// Delay is the availability delay: an event becomes visible at
	// Time + Delay (docs/duo-api.md §1.6). Default DefaultDelay; negative means 0.
	Delay time.Duration
	// MaxClockSkew: a request Date further than this from the simulator's
	// clock is answered 401 40105. Default DefaultMaxClockSkew.
	MaxClockSkew time.Duration
	// ClockOffset shifts the simulator's clock: its clock is Now()+ClockOffset.
	ClockOffset time.Duration
	// Now is the time source; default time.Now.
	Now func() time.Time
	// Faults are injected into responses; SetFaults changes them later.
	Faults Faults
	// Logger gets one debug line per request; may be nil.
	Logger *zap.Logger

	// Population is the parent account's inventory; nil means
	// DefaultPopulation(). It is generated on first use.
	Population *Population
	// ChildPopulation is every child account's inventory unless
	// Account.SetPopulation says otherwise; nil means DefaultPopulation().
	ChildPopulation *Population
	// InventoryFaults are injected into the inventory endpoints;
	// SetInventoryFaults changes them later.
	InventoryFaults InventoryFaults

	// AccountsIntegrationKey and AccountsSecretKey are the parent's
	// Accounts API application keys: they sign the child list and every
	// request for a child. Defaults DefaultAccountsIntegrationKey and
	// DefaultAccountsSecretKey.
	AccountsIntegrationKey string
	AccountsSecretKey      string
	// Children is the initial child list; SetChildren changes it later.
	// New panics on an invalid list (see SetChildren).
	Children []ChildAccount
	// StrictChildHost refuses (40103) a request for a child that is
	// signed for the parent's host rather than the child's api_hostname.
	// By default both are accepted: Duo documents the child's host, and
	// duo_log_sync sends the parent's and works (docs/duo-api.md §3.9).
	StrictChildHost bool
}

// Faults describes the trouble the simulator injects.
type Faults struct {
	// P429 is the probability a request is answered 429 42901.
	P429 float64
	// RateLimit is a real per-endpoint limit in requests per minute (a token
	// bucket with a burst of 1, or 2 when RateLimit >= 2); 0 means none.
	RateLimit float64
	// P5xx is the probability of a 500, 502 or 503.
	P5xx float64
	// PSlow is the probability a response is delayed by Slow (the delay ends
	// early when the request's context does).
	PSlow float64
	Slow  time.Duration
	// PTruncate is the probability a 200 body is cut mid-JSON.
	PTruncate float64
}

// Stats counts what the simulator served.
type Stats struct {
	// Requests counts requests by URL path and HTTP status code.
	Requests map[string]map[int]int
	// Records counts records served by URL path.
	Records map[string]int
	// MaxPageSize is the largest number of records served in one response.
	MaxPageSize int
	// AccountRequests counts authenticated requests for each child, by
	// account_id.
	AccountRequests map[string]int
}

// Sim is the simulated Duo Admin API. It is safe for concurrent use.
type Sim struct {
	host   string
	seed   uint64
	delay  time.Duration
	skew   time.Duration
	offset time.Duration
	nowFn  func() time.Time
	logger *zap.Logger

	credMu sync.RWMutex
	ikey   string
	skey   string
	aikey  string
	askey  string

	strictChildHost bool
	acctMu          sync.RWMutex
	kids            children

	parent *Account

	faultMu sync.Mutex
	faults  Faults
	frng    rng
	buckets map[string]*bucket

	statMu sync.Mutex
	stats  Stats

	bufPool sync.Pool

	popParent, popChild Population
	inv                 invFaults
}

// New returns a simulator configured by cfg.
func New(cfg Config) *Sim {
	if cfg.Host == "" {
		cfg.Host = DefaultHost
	}
	if cfg.IntegrationKey == "" {
		cfg.IntegrationKey = DefaultIntegrationKey
	}
	if cfg.SecretKey == "" {
		cfg.SecretKey = DefaultSecretKey
	}
	if cfg.AccountsIntegrationKey == "" {
		cfg.AccountsIntegrationKey = DefaultAccountsIntegrationKey
	}
	if cfg.AccountsSecretKey == "" {
		cfg.AccountsSecretKey = DefaultAccountsSecretKey
	}
	if cfg.Delay == 0 {
		cfg.Delay = DefaultDelay
	}
	if cfg.Delay < 0 {
		cfg.Delay = 0
	}
	if cfg.MaxClockSkew <= 0 {
		cfg.MaxClockSkew = DefaultMaxClockSkew
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	s := &Sim{
		host:   cfg.Host,
		seed:   uint64(cfg.Seed),
		delay:  cfg.Delay,
		skew:   cfg.MaxClockSkew,
		offset: cfg.ClockOffset,
		nowFn:  cfg.Now,
		logger: cfg.Logger,
		ikey:   cfg.IntegrationKey,
		skey:   cfg.SecretKey,
		aikey:  cfg.AccountsIntegrationKey,
		askey:  cfg.AccountsSecretKey,
		kids:   children{listed: map[string]bool{}, accounts: map[string]*Account{}},

		strictChildHost: cfg.StrictChildHost,
		faults:          cfg.Faults,
		frng:            newRNG(uint64(cfg.Seed), 0xfa017),
		buckets:         make(map[string]*bucket),
		stats: Stats{
			Requests: make(map[string]map[int]int),
			Records:  make(map[string]int),

			AccountRequests: make(map[string]int),
		},
	}
	s.popParent, s.popChild = DefaultPopulation(), DefaultPopulation()
	if cfg.Population != nil {
		s.popParent = *cfg.Population
	}
	if cfg.ChildPopulation != nil {
		s.popChild = *cfg.ChildPopulation
	}
	s.SetInventoryFaults(cfg.InventoryFaults)
	s.parent = newAccount(s, "", "", cfg.Host, s.seed)
	s.parent.ensure()
	if err := s.SetChildren(cfg.Children); err != nil {
		panic(err)
	}
	s.bufPool.New = func() any { b := make([]byte, 0, 64<<10); return &b }
	return s
}

// popFor is the configured population of an account.
func (s *Sim) popFor(a *Account) Population {
	if a.id == "" {
		return s.popParent
	}
	return s.popChild
}

// now is the simulator's clock: Now() + ClockOffset.
func (s *Sim) now() time.Time { return s.nowFn().Add(s.offset) }

// SetFaults replaces the injected faults. Rate-limit buckets restart full.
func (s *Sim) SetFaults(f Faults) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.faults = f
	s.buckets = make(map[string]*bucket)
}

// SetCredentials rotates the accepted credentials. Requests signed with the
// old integration key then get 401 40102, those signed with the old secret
// key 401 40103.
func (s *Sim) SetCredentials(ikey, skey string) {
	s.credMu.Lock()
	defer s.credMu.Unlock()
	s.ikey, s.skey = ikey, skey
}

// SetAccountsCredentials rotates the parent's Accounts API keys.
func (s *Sim) SetAccountsCredentials(ikey, skey string) {
	s.credMu.Lock()
	defer s.credMu.Unlock()
	s.aikey, s.askey = ikey, skey
}

func (s *Sim) credentials() (string, string) {
	s.credMu.RLock()
	defer s.credMu.RUnlock()
	return s.ikey, s.skey
}

func (s *Sim) accountsCredentials() (string, string) {
	s.credMu.RLock()
	defer s.credMu.RUnlock()
	return s.aikey, s.askey
}

// Stats returns a copy of the counters.
func (s *Sim) Stats() Stats {
	s.statMu.Lock()
	defer s.statMu.Unlock()
	out := Stats{
		Requests:    make(map[string]map[int]int, len(s.stats.Requests)),
		Records:     maps.Clone(s.stats.Records),
		MaxPageSize: s.stats.MaxPageSize,

		AccountRequests: maps.Clone(s.stats.AccountRequests),
	}
	for k, v := range s.stats.Requests {
		out.Requests[k] = maps.Clone(v)
	}
	return out
}

func (s *Sim) countAccount(id string) {
	s.statMu.Lock()
	defer s.statMu.Unlock()
	s.stats.AccountRequests[id]++
}

func (s *Sim) count(path string, status, records int) {
	s.statMu.Lock()
	defer s.statMu.Unlock()
	m := s.stats.Requests[path]
	if m == nil {
		m = make(map[int]int)
		s.stats.Requests[path] = m
	}
	m[status]++
	if status == http.StatusOK {
		s.stats.Records[path] += records
		if records > s.stats.MaxPageSize {
			s.stats.MaxPageSize = records
		}
	}
}

// maxBody bounds what the simulator reads of a request body.
const maxBody = 1 << 20

// ServeHTTP answers one Admin API request.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := s.now()
	path := r.URL.Path
	w.Header().Set("Date", now.UTC().Format(http.TimeFormat))

	var body []byte
	var err error
	if r.Body != nil {
		body, err = io.ReadAll(io.LimitReader(r.Body, maxBody))
	}
	if err != nil {
		s.finish(w, r, errorResponse(http.StatusBadRequest, 40002, "Invalid request parameters", "unreadable request body"))
		return
	}

	acct, e := s.authenticate(r, body, now)
	if e != nil {
		s.finish(w, r, e)
		return
	}
	if acct.id != "" {
		s.countAccount(acct.id)
	}
	if f := s.injectFault(path, now); f != nil {
		s.finish(w, r, f)
		return
	}
	resp := s.route(r, now, acct)
	if !s.slow(r.Context()) {
		// The client gave up while the response was held back.
		s.count(path, 499, 0)
		s.logger.Debug("request abandoned", zap.String("method", r.Method), zap.String("path", path))
		return
	}
	s.finish(w, r, resp)
}

// response is what a handler produced, before it is written.
type response struct {
	status  int
	body    []byte
	ctype   string
	records int
	buf     *[]byte // returned to the pool after writing, if set
}

func (s *Sim) finish(w http.ResponseWriter, r *http.Request, resp *response) {
	body := resp.body
	if resp.status == http.StatusOK {
		if cut, ok := s.truncation(len(body)); ok {
			body = body[:cut]
		}
	}
	h := w.Header()
	h.Set("Content-Type", resp.ctype)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(resp.status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
	s.count(r.URL.Path, resp.status, resp.records)
	s.logger.Debug("request",
		zap.String("method", r.Method),
		zap.String("path", r.URL.Path),
		zap.Int("status", resp.status),
		zap.Int("records", resp.records))
	if resp.buf != nil && cap(*resp.buf) <= 4<<20 {
		s.bufPool.Put(resp.buf)
	}
}
