// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoreceiver

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/receiver"
	"go.uber.org/zap"

	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/duoapi"
)

// accountListCheck is the health source of the Accounts API child list.
const accountListCheck duoapi.LogType = "account_list"

// accountLister lists a parent's child accounts (duoapi.Client.ListAccounts).
type accountLister interface {
	ListAccounts(ctx context.Context) ([]duoapi.Account, error)
}

// childClients is what reading children needs: the parent's list, a client per child,
// and the release of what they share.
type childClients struct {
	list   accountLister
	client func(ref accountRef) (duoAPI, error)
	close  func()
}

// childFactory builds the child clients in Start; tests inject fakes.
type childFactory func(ctx context.Context, host component.Host) (childClients, error)

// accountSet is the set of child accounts being read: it lists the children (at start,
// then every refresh_interval), keeps those include and exclude let through, starts a
// runner for each child that appears and stops the runner of each that leaves. Its
// state is touched only by the goroutine of run.
type accountSet struct {
	r       *duoLogsReceiver
	cfg     *AccountsConfig
	clients childClients
	health  *health
	logger  *zap.Logger
	running map[string]*accountRunner
	// hosts caches each child's api_hostname as first listed: Duo staff say it never
	// changes (docs/duo-inventory.md §2).
	hosts map[string]string
	// relist asks run to read the list again before the next refresh.
	relist chan struct{}
	// listedOnce: the first list is logged even when it starts nothing.
	listedOnce bool
	// onApply, when set (tests), is called after every change of the set with the ids
	// being read.
	onApply func(ids []string)
}

func newAccountSet(r *duoLogsReceiver, clients childClients) *accountSet {
	return &accountSet{
		r:       r,
		cfg:     &r.cfg.Accounts,
		clients: clients,
		health:  r.health,
		logger:  r.logger,
		running: map[string]*accountRunner{},
		hosts:   map[string]string{},
		relist:  make(chan struct{}, 1),
		onApply: r.onAccounts,
	}
}

// nudge asks for the list to be read again soon. A child refusing a log type may instead
// have left the parent: what Duo answers for an account_id that is no longer a child is
// not documented, and 403 40301 is the likely answer. Reading the list then stops its
// runner rather than leaving it until the next refresh. Safe from any goroutine; nudges
// coalesce.
func (s *accountSet) nudge() {
	select {
	case s.relist <- struct{}{}:
	default:
	}
}

// run reads the children until ctx ends, then stops every runner.
func (s *accountSet) run(ctx context.Context) {
	defer s.stopAll()
	if !s.cfg.Discover {
		refs := s.fixedRefs(ctx)
		s.apply(ctx, refs, len(refs))
		<-ctx.Done()
		return
	}
	ticker := time.NewTicker(s.cfg.RefreshInterval)
	defer ticker.Stop()
	for {
		s.refresh(ctx)
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		case <-s.relist:
		}
	}
}

// fixedRefs names the children of accounts.ids. Duo documents a child's own api_hostname
// as the route of its requests (docs/duo-api.md §3.9); the parent's list, read once here,
// gives it, and it never changes. A child the list does not name, or a list that fails,
// is read through the parent's host, the route duo_log_sync uses.
func (s *accountSet) fixedRefs(ctx context.Context) []accountRef {
	listed := map[string]duoapi.Account{}
	if s.clients.list != nil { // tests may give no list: every id then goes to the parent's host
		accounts, err := s.clients.list.ListAccounts(ctx)
		switch {
		case duoapi.IsCredentialsError(err):
			// Keys that may not list the children may not read them either: an Admin
			// API application's get 403 40301, which would otherwise look like each
			// child refusing each log type.
			err = s.listError(err)
			s.logger.Error("failed to list the child accounts; reading accounts.ids through the parent's api_hostname",
				zap.Error(err))
			s.health.failed(accountListCheck, err)
		case err != nil:
			s.logger.Warn("failed to list the child accounts to learn their hostnames; reading accounts.ids through the parent's api_hostname",
				zap.String("api_hostname", s.r.cfg.host()), zap.Error(err))
		}
		for _, a := range accounts {
			listed[a.ID] = a
		}
	}
	refs := make([]accountRef, 0, len(s.cfg.IDs))
	for _, id := range s.cfg.IDs {
		ref := accountRef{id: id, host: s.r.cfg.host()}
		if a, ok := listed[id]; ok && a.APIHostname != "" {
			ref.name, ref.host = a.Name, strings.ToLower(a.APIHostname)
		} else if len(listed) > 0 {
			s.logger.Warn("accounts.ids names an account the parent does not list; reading it through the parent's api_hostname",
				zap.String("account_id", id))
		}
		refs = append(refs, ref)
	}
	return refs
}

// listError names the fix for a list the credentials may not read.
func (s *accountSet) listError(err error) error {
	return fmt.Errorf("listing the child accounts needs the parent's Accounts API application keys in integration_key and secret_key, and the parent's api_hostname %q: %w", s.r.cfg.host(), err)
}

// refresh lists the children and applies the list. A failed list keeps the children
// being read as they are.
func (s *accountSet) refresh(ctx context.Context) {
	listed, err := s.clients.list.ListAccounts(ctx)
	if ctx.Err() != nil {
		return
	}
	if err != nil {
		if duoapi.IsCredentialsError(err) {
			err = s.listError(err)
		}
		s.logger.Error("failed to list the child accounts; the children being read go on, listing again at the next refresh",
			zap.Int("children_read", len(s.running)), zap.Error(err))
		s.health.failed(accountListCheck, err)
		return
	}
	s.health.succeeded(accountListCheck)
	refs := make([]accountRef, 0, len(listed))
	for _, a := range listed {
		if !s.cfg.selects(a.ID, a.Name) {
			continue
		}
		host, ok := s.hosts[a.ID]
		if !ok {
			host = strings.ToLower(a.APIHostname)
			s.hosts[a.ID] = host
		}
		refs = append(refs, accountRef{id: a.ID, name: a.Name, host: host})
	}
	s.apply(ctx, refs, len(listed))
}

// apply makes the running set the children in refs: those gone stop (their cursors stay
// in storage), those new start from their stored cursor or initial_lookback.
func (s *accountSet) apply(ctx context.Context, refs []accountRef, listed int) {
	want := make(map[string]bool, len(refs))
	for _, ref := range refs {
		want[ref.id] = true
	}
	renamed := make(map[string]bool)
	for _, ref := range refs {
		if run, ok := s.running[ref.id]; ok && run.ref.name != ref.name {
			renamed[ref.id] = true // restarted below, so that its records carry the new name
		}
	}
	stopped, started := 0, 0
	for id, run := range s.running {
		if want[id] && !renamed[id] {
			continue
		}
		run.stop()
		run.health.forget()
		delete(s.running, id)
		if renamed[id] {
			run.logger.Info("child account was renamed; reading it again under its new name from its cursors")
			continue
		}
		stopped++
		run.logger.Info("child account is no longer read (left the list or excluded); its cursors are kept")
	}
	for _, ref := range refs {
		if ctx.Err() != nil {
			return // shutting down
		}
		if _, ok := s.running[ref.id]; ok {
			continue
		}
		api, err := s.clients.client(ref)
		if err != nil {
			s.logger.Error("cannot build the client of a child account; skipping it until the next refresh",
				zap.String("account_id", ref.id), zap.Error(err))
			continue
		}
		run := s.r.newAccountRunner(ref, api, s.health.forAccount(ref.label()), s.nudge)
		run.start(ctx)
		s.running[ref.id] = run
		started++
	}
	if stopped > 0 || started > 0 || !s.listedOnce {
		s.listedOnce = true
		s.logger.Info("child accounts updated", zap.Int("listed", listed), zap.Int("read", len(s.running)),
			zap.Int("left_out", listed-len(refs)), zap.Int("started", started), zap.Int("stopped", stopped))
	}
	if s.onApply != nil {
		ids := make([]string, 0, len(s.running))
		for id := range s.running {
			ids = append(ids, id)
		}
		s.onApply(ids)
	}
}

// stopAll stops every runner: all are told first, then each is waited for.
func (s *accountSet) stopAll() {
	for _, run := range s.running {
		run.cancel()
	}
	for id, run := range s.running {
		run.stop()
		delete(s.running, id)
	}
}

// newChildClients builds what reading children needs: one HTTP client (confighttp: TLS,
// proxy, timeout) shared by all, the parent's client for the list, and a constructor of
// each child's client. A child's requests are signed for the child's api_hostname with
// account_id, and go there, or to endpoint when it is set (a proxy or the simulator, which
// serves every child at one address). Every client waits on the one parent-wide cap.
func newChildClients(ctx context.Context, host component.Host, cfg *Config, set receiver.Settings, obs duoapi.Observer, now func() time.Time) (childClients, error) {
	hc, err := cfg.ToClient(ctx, host.GetExtensions(), set.TelemetrySettings)
	if err != nil {
		return childClients{}, fmt.Errorf("failed to create HTTP client: %w", err)
	}
	base := apiConfig(cfg, set, obs, now)
	base.Shared = duoapi.NewSharedLimit(cfg.Accounts.MaxRequestsPerMinute)
	out := childClients{close: hc.CloseIdleConnections}
	parent := base
	parent.AccountID, parent.Params = "", nil
	c, err := duoapi.New(parent, hc)
	if err != nil {
		hc.CloseIdleConnections()
		return childClients{}, err
	}
	out.list = c
	out.client = func(ref accountRef) (duoAPI, error) {
		cc := base
		cc.Host, cc.AccountID = ref.host, ref.id
		if cfg.Endpoint == "" {
			cc.BaseURL = "https://" + ref.host
		}
		cc.Logger = set.Logger.With(zap.String("account_id", ref.id))
		return duoapi.New(cc, hc)
	}
	return out, nil
}
