// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

// Command duosim runs the Duo Admin API simulator (internal/duosim) as an
// HTTP server, for the demo, the end-to-end tests and the benchmarks.
package main // import "github.com/otelcol-duo/otelcol-duo/cmd/duosim"

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/otelcol-duo/otelcol-duo/internal/duosim"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "duosim:", err)
		os.Exit(1)
	}
}

type options struct {
	listen, host, ikey, skey, types     string
	seed                                int64
	backfill                            int
	span, delay, slow, offset, skew     time.Duration
	live, p429, rate, p5xx, pSlow, pCut float64
	verbose                             bool
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("duosim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: duosim [flags]\n\nRuns a simulated Duo Admin API (log endpoints, /admin/v1/info/summary) that\nverifies request signatures the way Duo does. Flags:")
		fs.PrintDefaults()
	}
	fs.StringVar(&o.listen, "listen", "127.0.0.1:8089", "host:port to listen on")
	fs.StringVar(&o.host, "host", duosim.DefaultHost, "API hostname clients must sign as canonical line 3")
	fs.StringVar(&o.ikey, "ikey", duosim.DefaultIntegrationKey, "accepted integration key")
	fs.StringVar(&o.skey, "skey", duosim.DefaultSecretKey, "accepted secret key (a simulator key, printed on start)")
	fs.Int64Var(&o.seed, "seed", 1, "seed for generated events and injected faults")
	fs.IntVar(&o.backfill, "backfill", 0, "events to generate per log type over the last -span before serving")
	fs.DurationVar(&o.span, "span", 24*time.Hour, "time span the -backfill events are spread over, ending now")
	fs.Float64Var(&o.live, "live", 0, "live events per second per log type (0 = none)")
	fs.StringVar(&o.types, "types", strings.Join(duosim.LogTypes(), ","), "comma-separated log types to generate events for")
	fs.DurationVar(&o.delay, "delay", duosim.DefaultDelay, "availability delay: events are visible this long after their time")
	fs.Float64Var(&o.p429, "p429", 0, "probability a request is answered 429 42901")
	fs.Float64Var(&o.rate, "rate-limit", 0, "per-endpoint rate limit in requests per minute (0 = none)")
	fs.Float64Var(&o.p5xx, "p5xx", 0, "probability a request is answered 500, 502 or 503")
	fs.DurationVar(&o.slow, "slow", 0, "delay applied to slow responses (see -p-slow)")
	fs.Float64Var(&o.pSlow, "p-slow", 0, "probability a response is delayed by -slow")
	fs.Float64Var(&o.pCut, "p-truncate", 0, "probability a 200 body is cut mid-JSON")
	fs.DurationVar(&o.offset, "clock-offset", 0, "offset of the simulator's clock from this machine's")
	fs.DurationVar(&o.skew, "max-skew", duosim.DefaultMaxClockSkew, "largest accepted distance of a request Date from the simulator's clock")
	fs.BoolVar(&o.verbose, "v", false, "log every request (method, path, status, records)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	return o, nil
}

func (o *options) logTypes() ([]string, error) {
	known := map[string]bool{}
	for _, lt := range duosim.LogTypes() {
		known[lt] = true
	}
	var out []string
	for _, lt := range strings.Split(o.types, ",") {
		lt = strings.TrimSpace(lt)
		if lt == "" {
			continue
		}
		if !known[lt] {
			return nil, fmt.Errorf("unknown log type %q in -types (known: %s)", lt, strings.Join(duosim.LogTypes(), ", "))
		}
		out = append(out, lt)
	}
	return out, nil
}

func newLogger(verbose bool) (*zap.Logger, error) {
	cfg := zap.NewDevelopmentConfig()
	cfg.DisableStacktrace = true
	cfg.DisableCaller = true
	cfg.Level = zap.NewAtomicLevelAt(zapcore.InfoLevel)
	if verbose {
		cfg.Level = zap.NewAtomicLevelAt(zapcore.DebugLevel)
	}
	return cfg.Build()
}

func run(args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	types, err := o.logTypes()
	if err != nil {
		return err
	}
	logger, err := newLogger(o.verbose)
	if err != nil {
		return err
	}
	defer func() { _ = logger.Sync() }()

	delay := o.delay
	if delay == 0 {
		delay = -1 // Config treats 0 as "default"; negative means no delay
	}
	sim := duosim.New(duosim.Config{
		Host:           o.host,
		IntegrationKey: o.ikey,
		SecretKey:      o.skey,
		Seed:           o.seed,
		Delay:          delay,
		MaxClockSkew:   o.skew,
		ClockOffset:    o.offset,
		Faults: duosim.Faults{
			P429: o.p429, RateLimit: o.rate, P5xx: o.p5xx,
			PSlow: o.pSlow, Slow: o.slow, PTruncate: o.pCut,
		},
		Logger: logger,
	})
	now := time.Now().Add(o.offset)
	if o.backfill > 0 {
		for _, lt := range types {
			sim.Backfill(lt, o.backfill, now.Add(-o.span), now)
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if o.live > 0 && len(types) > 0 {
		sim.StartLive(ctx, o.live, types...)
	}

	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "duosim: Duo Admin API simulator on http://%s\n", ln.Addr())
	fmt.Fprintf(stdout, "  api_hostname:    %s (sign as this host; send requests to the address above)\n", o.host)
	fmt.Fprintf(stdout, "  integration_key: %s\n", o.ikey)
	fmt.Fprintf(stdout, "  secret_key:      %s (simulator key)\n", o.skey)
	fmt.Fprintf(stdout, "  log types:       %s; backfill %d each over %s; live %g/s each\n", strings.Join(types, ","), o.backfill, o.span, o.live)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
