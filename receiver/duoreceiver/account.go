// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoreceiver

import (
	"context"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/duoapi"
)

// accountRef names one account the receiver reads: the single account, or one child of a
// parent read through the Accounts API.
type accountRef struct {
	// id is the child's account_id; "" for an account read with its own Admin API keys.
	id string
	// name is the child's name from the Accounts API list; "" when not known.
	name string
	// host is the API hostname the account's requests are signed for.
	host string
}

// label names the account in messages and status: its id and, when known, its name.
func (a accountRef) label() string {
	if a.name == "" {
		return a.id
	}
	return a.id + " (" + a.name + ")"
}

// accountRunner reads one account: its API client, one poller per enabled log type, their
// cursors and their status. Start creates one for a single account and one per child; a
// child's runner is stopped when the child leaves the list or is excluded.
type accountRunner struct {
	ref     accountRef
	api     duoAPI
	pollers []*poller
	// inventory takes the account's inventory snapshots; nil when nothing consumes them.
	inventory *snapshotter
	health    *health
	logger    *zap.Logger
	cancel    context.CancelFunc
	wg        sync.WaitGroup
}

// newAccountRunner builds the runner of one account and its pollers; nothing runs yet.
// onRefusal, when set, is called when the account refuses a log type (refusal.go).
func (r *duoLogsReceiver) newAccountRunner(ref accountRef, api duoAPI, h *health, onRefusal func()) *accountRunner {
	logger := r.logger
	if ref.id != "" {
		logger = logger.With(zap.String("account_id", ref.id))
		if ref.name != "" {
			logger = logger.With(zap.String("account_name", ref.name))
		}
	}
	a := &accountRunner{ref: ref, api: api, health: h, logger: logger}
	res := r.resource
	res.APIHost, res.AccountID, res.AccountName = ref.host, ref.id, ref.name
	deps := pollerDeps{
		api:       api,
		duoNow:    func() time.Time { return r.now().Add(api.ClockOffset()) },
		localNow:  r.now,
		next:      r.next,
		obsrecv:   r.obsrecv,
		tel:       r.telemetry,
		health:    h,
		resource:  res,
		jsonBody:  r.cfg.Body == BodyJSON,
		apiHost:   ref.host,
		storage:   storageName(r.cfg.StorageID),
		onPoll:    r.onPoll,
		onRefusal: onRefusal,
	}
	for _, lt := range duoapi.LogTypes {
		ltc := r.cfg.Logs.byType(lt)
		if !ltc.Enabled || r.next == nil {
			continue
		}
		a.pollers = append(a.pollers, &poller{
			deps:     deps,
			lt:       lt,
			interval: ltc.PullInterval,
			settings: newStreamSettings(r.cfg, lt),
			logger:   logger.With(zap.String("log_type", string(lt))),
			// Keyed by the configured api_hostname, not the child's: the account_id names the
			// child, so account_id, accounts.ids and accounts.discover share its cursors.
			cp:      &checkpointer{client: r.storage, key: checkpointKey(r.cfg.host(), ref.id, lt)},
			filters: ltc.Filters.fingerprint(),
		})
	}
	a.inventory = r.newSnapshotter(api, h, res, logger)
	return a
}

// start loads every cursor and starts the pollers and the inventory snapshots under a
// context of their own, derived from parent, so that stop ends them together.
func (a *accountRunner) start(parent context.Context) {
	ctx, cancel := context.WithCancel(parent)
	a.cancel = cancel
	for _, p := range a.pollers {
		if err := p.load(ctx); err != nil && ctx.Err() == nil {
			_ = p.report(err) // logged and in the status; poll loads again
		}
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			p.run(ctx)
		}()
	}
	if a.inventory != nil {
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			a.inventory.run(ctx)
		}()
	}
}

// stop ends the pollers (a page being delivered is saved first) and waits for them. The
// cursors stay in storage: started again, the account resumes where it stopped.
func (a *accountRunner) stop() {
	if a.cancel != nil {
		a.cancel()
	}
	a.wg.Wait()
}
