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

// duoLogsReceiver runs the start-up check and one poller per enabled log type.
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
	// onPoll, when set (tests), is called after every completed poll.
	onPoll func(duoapi.LogType, error)
	// onSnapshot, when set (tests), is called after every inventory snapshot.
	onSnapshot func(outcome string, err error)

	storage     storage.Client
	closeClient func()
	health      *health
	cancel      context.CancelFunc
	wg          sync.WaitGroup
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
	client, err := duoapi.New(duoapi.Config{
		BaseURL:            cfg.baseURL(),
		Host:               cfg.host(),
		IntegrationKey:     cfg.IntegrationKey,
		SecretKey:          string(cfg.SecretKey),
		AccountID:          cfg.AccountID,
		RateLimit:          cfg.RateLimit,
		InventoryRateLimit: inventoryRateLimit,
		Retry:              cfg.BackOffConfig,
		UserAgent:          userAgent(set.BuildInfo),
		Observer:           obs,
		Logger:             set.Logger,
		Now:                now,
	}, hc)
	if err != nil {
		hc.CloseIdleConnections()
		return nil, nil, err
	}
	return client, hc.CloseIdleConnections, nil
}

// userAgent names the distribution; "" leaves the client's default.
func userAgent(info component.BuildInfo) string {
	if info.Command == "" {
		return ""
	}
	return fmt.Sprintf("%s/%s duoreceiver", info.Command, info.Version)
}

// Start builds the API client and the storage client, loads every cursor, starts the
// pollers and the account check. API trouble never fails Start: the pollers report it and
// keep trying.
func (r *duoLogsReceiver) Start(ctx context.Context, host component.Host) error {
	r.cfg.warn(r.logger)
	r.health = newHealth(host)

	api, closeClient, err := r.newAPI(ctx, host)
	if err != nil {
		return fmt.Errorf("failed to create the Duo API client: %w", err)
	}
	r.closeClient = closeClient
	r.storage, err = getStorageClient(ctx, host, r.cfg.StorageID, r.set.ID)
	if err != nil {
		return errors.Join(err, r.Shutdown(ctx))
	}

	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	r.cancel = cancel
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.checkAccount(runCtx, api)
	}()

	deps := pollerDeps{
		api:      api,
		duoNow:   func() time.Time { return r.now().Add(api.ClockOffset()) },
		localNow: r.now,
		next:     r.next,
		obsrecv:  r.obsrecv,
		tel:      r.telemetry,
		health:   r.health,
		resource: r.resource,
		jsonBody: r.cfg.Body == BodyJSON,
		apiHost:  r.cfg.host(),
		storage:  storageName(r.cfg.StorageID),
		onPoll:   r.onPoll,
	}
	if err := r.startInventory(runCtx, api); err != nil {
		return errors.Join(err, r.Shutdown(ctx))
	}
	for _, lt := range duoapi.LogTypes {
		ltc := r.cfg.Logs.byType(lt)
		if !ltc.Enabled || r.next == nil {
			continue
		}
		p := &poller{
			deps:     deps,
			lt:       lt,
			interval: ltc.PullInterval,
			settings: newStreamSettings(r.cfg, lt),
			logger:   r.logger.With(zap.String("log_type", string(lt))),
			cp:       &checkpointer{client: r.storage, key: checkpointKey(r.cfg.host(), r.cfg.AccountID, lt)},
		}
		if err := p.load(runCtx); err != nil {
			_ = p.report(err) // logged and in the status; poll loads again
		}
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			p.run(runCtx)
		}()
	}
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
