// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoreceiver

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receiverhelper"
	"go.uber.org/zap"

	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/duoapi"
	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/mapping"
	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/metadata"
)

// logFetcher is the part of the Duo API client the receiver uses; tests inject fakes.
type logFetcher interface {
	Fetch(ctx context.Context, lt duoapi.LogType, w duoapi.Window, fn func(duoapi.Page) error) error
}

// fetcherFactory builds the API client in Start. The returned func releases it.
type fetcherFactory func(ctx context.Context, host component.Host, r *duoLogsReceiver) (logFetcher, func(), error)

// duoLogsReceiver runs one poller per enabled log type.
type duoLogsReceiver struct {
	cfg       *Config
	set       receiver.Settings
	logger    *zap.Logger
	next      consumer.Logs
	obsrecv   *receiverhelper.ObsReport
	telemetry *receiverTelemetry
	resource  mapping.Resource

	now        func() time.Time
	newFetcher fetcherFactory
	// onPoll, when set (tests), is called after every completed poll.
	onPoll func(duoapi.LogType, error)

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
	return &duoLogsReceiver{
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
		now:        time.Now,
		newFetcher: newDuoAPIFetcher,
	}, nil
}

// Start builds the API client and the storage client, loads every cursor and starts the
// pollers. API trouble never fails Start: the pollers report it and keep trying.
func (r *duoLogsReceiver) Start(ctx context.Context, host component.Host) error {
	r.cfg.warn(r.logger)
	r.health = &health{host: host, failing: map[duoapi.LogType]bool{}}

	fetcher, closeClient, err := r.newFetcher(ctx, host, r)
	if err != nil {
		return fmt.Errorf("failed to create the Duo API client: %w", err)
	}
	r.closeClient = closeClient
	r.storage, err = getStorageClient(ctx, host, r.cfg.StorageID, r.set.ID)
	if err != nil {
		return errors.Join(err, r.Shutdown(ctx))
	}

	pollCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	r.cancel = cancel
	for _, lt := range duoapi.LogTypes {
		ltc := r.cfg.Logs.byType(lt)
		if !ltc.Enabled {
			continue
		}
		p := &poller{
			r:       r,
			lt:      lt,
			cfg:     *ltc,
			fetcher: fetcher,
			logger:  r.logger.With(zap.String("log_type", string(lt))),
			cp:      &checkpointer{client: r.storage, key: checkpointKey(r.cfg.host(), r.cfg.AccountID, lt)},
		}
		p.load(pollCtx)
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			p.run(pollCtx)
		}()
	}
	return nil
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

// health turns the pollers' outcomes into component status events: a recoverable error
// when a pull fails, back to OK once every failing log type has pulled successfully.
type health struct {
	host    component.Host
	mu      sync.Mutex
	failing map[duoapi.LogType]bool
}

func (h *health) failed(lt duoapi.LogType, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.failing[lt] = true
	componentstatus.ReportStatus(h.host, componentstatus.NewRecoverableErrorEvent(err))
}

func (h *health) succeeded(lt duoapi.LogType) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.failing[lt] {
		return
	}
	delete(h.failing, lt)
	if len(h.failing) == 0 {
		componentstatus.ReportStatus(h.host, componentstatus.NewEvent(componentstatus.StatusOK))
	}
}
