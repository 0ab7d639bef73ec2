// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoreceiver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receiverhelper"
	"go.uber.org/zap"

	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/duoapi"
	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/mapping"
	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/metadata"
)

// duoAPI is the part of the Duo API client the receiver uses; tests inject fakes.
type duoAPI interface {
	Fetch(ctx context.Context, lt duoapi.LogType, w duoapi.Window, fn func(duoapi.Page) error) error
	// Summary reads the account's counts (/admin/v1/info/summary).
	Summary(ctx context.Context) (map[string]int64, error)
	// ClockOffset is how far Duo's clock is ahead of the local one.
	ClockOffset() time.Duration
}

// apiFactory builds the API client in Start. The returned func releases it.
type apiFactory func(ctx context.Context, host component.Host) (duoAPI, func(), error)

// duoLogsReceiver runs the start-up check and, for each account it reads, one poller per
// enabled log type and the inventory snapshots.
type duoLogsReceiver struct {
	cfg    *Config
	set    receiver.Settings
	logger *zap.Logger
	next   consumer.Logs // nil when the receiver is in no logs pipeline
	// nextMetrics is nil when the receiver is in no metrics pipeline.
	nextMetrics consumer.Metrics
	obsrecv     *receiverhelper.ObsReport
	telemetry   *receiverTelemetry
	resource    mapping.Resource

	now    func() time.Time
	newAPI apiFactory
	// newChildren builds the clients of the child accounts (accounts settings).
	newChildren childFactory
	// onPoll, when set (tests), is called after every completed poll.
	onPoll func(duoapi.LogType, error)
	// onAccounts, when set (tests), is called with the child accounts read after every
	// change of that set.
	onAccounts func(ids []string)
	// onSnapshot, when set (tests), is called after every inventory snapshot.
	onSnapshot func(outcome string, err error)

	storage     storage.Client
	closeClient func()
	health      *health
	// single reads the one account when no accounts settings are given.
	single *accountRunner
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newDuoLogsReceiver(set receiver.Settings, cfg *Config, next consumer.Logs) (*duoLogsReceiver, error) {
	obsrecv, err := receiverhelper.NewObsReport(receiverhelper.ObsReportSettings{
		ReceiverID:             set.ID,
		Transport:              "http",
		ReceiverCreateSettings: set,
	})
	if err != nil {
		return nil, err
	}
	tel, err := newReceiverTelemetry(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	r := &duoLogsReceiver{
		cfg:       cfg,
		set:       set,
		logger:    set.Logger,
		next:      next,
		obsrecv:   obsrecv,
		telemetry: tel,
		resource: mapping.Resource{
			APIHost:      cfg.host(),
			AccountID:    cfg.AccountID,
			ScopeName:    metadata.ScopeName,
			ScopeVersion: set.BuildInfo.Version,
		},
		now: time.Now,
	}
	r.newAPI = func(ctx context.Context, host component.Host) (duoAPI, func(), error) {
		return newAPIClient(ctx, host, cfg, set, tel, r.now)
	}
	r.newChildren = func(ctx context.Context, host component.Host) (childClients, error) {
		return newChildClients(ctx, host, cfg, set, tel, r.now)
	}
	return r, nil
}

// newAPIClient builds the Duo API client: the HTTP client comes from confighttp (TLS,
// proxy, timeout, auth extensions), the signing host is always api_hostname, requests go
// to endpoint when it is set.
func newAPIClient(ctx context.Context, host component.Host, cfg *Config, set receiver.Settings, obs duoapi.Observer, now func() time.Time) (duoAPI, func(), error) {
	hc, err := cfg.ToClient(ctx, host.GetExtensions(), set.TelemetrySettings)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to create HTTP client: %w", err)
	}
	client, err := duoapi.New(apiConfig(cfg, set, obs, now), hc)
	if err != nil {
		hc.CloseIdleConnections()
		return nil, nil, err
	}
	return client, hc.CloseIdleConnections, nil
}

// apiConfig is the API client configuration of the configured account.
func apiConfig(cfg *Config, set receiver.Settings, obs duoapi.Observer, now func() time.Time) duoapi.Config {
	return duoapi.Config{
		BaseURL:        cfg.baseURL(),
		Host:           cfg.host(),
		IntegrationKey: cfg.IntegrationKey,
		SecretKey:      string(cfg.SecretKey),
		AccountID:      cfg.AccountID,
		Params:         cfg.filterParams(),
		RateLimit:      cfg.RateLimit,
		// Duo limits its object lists apart from the log endpoints.
		InventoryRateLimit: inventoryRateLimit,
		Retry:              cfg.BackOffConfig,
		UserAgent:          userAgent(set.BuildInfo),
		Observer:           obs,
		Logger:             set.Logger,
		Now:                now,
	}
}

// userAgent names the distribution; "" leaves the client's default.
func userAgent(info component.BuildInfo) string {
	if info.Command == "" {
		return ""
	}
	return fmt.Sprintf("%s/%s duoreceiver", info.Command, info.Version)
}

// Start builds the API client and the storage client, loads every cursor, starts the
// pollers and the account check; with accounts settings it starts the set of child
// accounts instead, each child with its own runner. API trouble never fails Start: the
// pollers report it and keep trying.
func (r *duoLogsReceiver) Start(ctx context.Context, host component.Host) error {
	r.cfg.warn(r.logger)
	r.warnInventory()
	r.health = newHealth(host)

	var err error
	r.storage, err = getStorageClient(ctx, host, r.cfg.StorageID, r.set.ID)
	if err != nil {
		return errors.Join(err, r.Shutdown(ctx))
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	r.cancel = cancel
	if r.cfg.Accounts.enabled() {
		return r.startChildren(ctx, runCtx, host)
	}

	api, closeClient, err := r.newAPI(ctx, host)
	if err != nil {
		return errors.Join(fmt.Errorf("failed to create the Duo API client: %w", err), r.Shutdown(ctx))
	}
	r.closeClient = closeClient
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.checkAccount(runCtx, api)
	}()

	r.single = r.newAccountRunner(accountRef{id: r.cfg.AccountID, host: r.cfg.host()}, api, r.health, nil)
	r.single.start(runCtx)
	return nil
}

// startChildren starts reading the child accounts: the account set runs in its own
// goroutine, listing the children (or taking accounts.ids) and running one runner each.
func (r *duoLogsReceiver) startChildren(ctx, runCtx context.Context, host component.Host) error {
	clients, err := r.newChildren(ctx, host)
	if err != nil {
		return errors.Join(fmt.Errorf("failed to create the Duo API clients of the child accounts: %w", err), r.Shutdown(ctx))
	}
	r.closeClient = clients.close
	set := newAccountSet(r, clients)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		set.run(runCtx)
	}()
	return nil
}

// checkAccount reads the account summary once, so that rejected credentials show at
// start rather than at the first pull of each log type, and the log tells which account
// the keys open. It needs "Grant read information", which reading logs does not.
func (r *duoLogsReceiver) checkAccount(ctx context.Context, api duoAPI) {
	counts, err := api.Summary(ctx)
	if ctx.Err() != nil {
		return // shutting down
	}
	host := zap.String("api_hostname", r.cfg.host())
	switch status := duoStatus(err); {
	case err == nil:
		r.logger.Info("duo accepted the credentials", host,
			zap.Int64("user_count", counts["user_count"]), zap.Int64("integration_count", counts["integration_count"]))
	case status == http.StatusUnauthorized:
		err = credentialsError("the start-up check", r.cfg.host(), err)
		r.logger.Error("duo rejected the credentials; check integration_key, secret_key and api_hostname", host, zap.Error(err))
		r.health.failed(startupCheck, err)
	case status == http.StatusForbidden:
		r.logger.Info(`start-up check skipped: the Admin API application lacks "Grant read information"; reading logs needs only "Grant read log"`, host)
	default:
		r.logger.Warn("start-up check failed; the pulls will tell whether duo can be reached", host, zap.Error(err))
	}
}

func storageName(id *component.ID) string {
	if id == nil {
		return ""
	}
	return id.String()
}

// Shutdown stops the pollers (in the middle of a page if need be: the cursor stays at what
// was delivered), waits for them and closes the clients. Safe without Start.
func (r *duoLogsReceiver) Shutdown(ctx context.Context) error {
	if r.cancel != nil {
		r.cancel()
	}
	if r.single != nil {
		r.single.stop()
	}
	r.wg.Wait()
	var err error
	if r.storage != nil {
		err = r.storage.Close(ctx)
		r.storage = nil
	}
	if r.closeClient != nil {
		r.closeClient()
		r.closeClient = nil
	}
	r.telemetry.shutdown()
	return err
}
