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

	pop                      duosim.Population
	childUsers               int
	children, childBackfill  int
	childLive                float64
	childRefuse              string
	childRefuseEvery         int
	childRefuseCode          int
	accountsIKey, accountsSK string
	strictChildHost, debug   bool
}

const usageHead = `Usage: duosim [flags]

Runs a simulated Duo Admin API that verifies request signatures the way Duo
does: the six log endpoints, the inventory endpoints (users, bypass codes,
groups, endpoints, policies, admins, integrations, settings, info summary),
and the Accounts API with child accounts (POST /accounts/v1/account/list,
then any endpoint with the signed parameter account_id).

Run it without make, from the repository root:

  go run ./cmd/duosim -backfill 1000 -live 1
  go run ./cmd/duosim -users 50000 -share-bypass-codes 0.4 -bypass-codes-per-user 1
  go run ./cmd/duosim -children 20 -child-backfill 500 -child-refuse telephony -child-refuse-every 5
  go build -o bin/duosim ./cmd/duosim && bin/duosim -help

Sign requests for -host with -ikey/-skey (the Admin API application), or
with -accounts-ikey/-accounts-skey (the Accounts API application) for the
child list and for any request carrying account_id; send them to the
address printed on start. A child's requests are signed for its
api_hostname (or, unless -strict-child-host, the parent's host).

Unsigned debug endpoints (with -debug, the default):
  GET    /_duosim/stats                              requests and records served
  GET    /_duosim/counts?account_id=&inactive_after=720h&now=<RFC 3339>
                                                     true inventory counts
  GET    /_duosim/children                           the child list
  PUT    /_duosim/children  (JSON array)             replace the child list
  POST   /_duosim/children  (JSON object)            add or update one child
  DELETE /_duosim/children?account_id=ID             take a child off the list

Flags:`

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("duosim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), usageHead)
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

	d := duosim.DefaultPopulation()
	p := &o.pop
	fs.IntVar(&p.Users, "users", d.Users, "inventory: users of the parent account")
	fs.Float64Var(&p.ShareUnenrolled, "share-unenrolled", d.ShareUnenrolled, "inventory: share of users not enrolled (no phone, token or WebAuthn)")
	fs.Float64Var(&p.ShareBypass, "share-bypass", d.ShareBypass, "inventory: share of users in status bypass")
	fs.Float64Var(&p.ShareLockedOut, "share-locked-out", d.ShareLockedOut, "inventory: share of users in status \"locked out\"")
	fs.Float64Var(&p.ShareDisabled, "share-disabled", d.ShareDisabled, "inventory: share of users in status disabled")
	fs.Float64Var(&p.SharePendingDeletion, "share-pending-deletion", d.SharePendingDeletion, "inventory: share of users in status \"pending deletion\"")
	fs.Float64Var(&p.ShareInactive, "share-inactive", d.ShareInactive, "inventory: share of users whose last_login is older than -inactive-after, or null")
	fs.Float64Var(&p.ShareNeverLoggedIn, "share-never-logged-in", d.ShareNeverLoggedIn, "inventory: share of the inactive users with last_login null")
	fs.DurationVar(&p.InactiveAfter, "inactive-after", d.InactiveAfter, "inventory: age of last_login that makes a user inactive")
	fs.Float64Var(&p.ShareBypassCodes, "share-bypass-codes", d.ShareBypassCodes, "inventory: share of users with bypass codes")
	fs.IntVar(&p.BypassCodesPerUser, "bypass-codes-per-user", d.BypassCodesPerUser, "inventory: most bypass codes one user has (each has 1 to this many)")
	fs.IntVar(&p.PhonesMin, "phones-min", d.PhonesMin, "inventory: fewest phones of an enrolled user")
	fs.IntVar(&p.PhonesMax, "phones-max", d.PhonesMax, "inventory: most phones of an enrolled user")
	fs.Float64Var(&p.ShareTokens, "share-tokens", d.ShareTokens, "inventory: share of enrolled users with hardware tokens")
	fs.Float64Var(&p.ShareWebAuthn, "share-webauthn", d.ShareWebAuthn, "inventory: share of enrolled users with WebAuthn credentials")
	fs.Float64Var(&p.ShareSharedPhone, "share-shared-phone", d.ShareSharedPhone, "inventory: share of enrolled users who also carry an earlier user's phone")
	fs.IntVar(&p.Groups, "groups", d.Groups, "inventory: groups")
	fs.IntVar(&p.Endpoints, "endpoints", d.Endpoints, "inventory: Duo Desktop endpoints")
	fs.IntVar(&p.Admins, "admins", d.Admins, "inventory: administrators")
	fs.IntVar(&p.Integrations, "integrations", d.Integrations, "inventory: integrations (each secret_key starts with "+duosim.IntegrationSecretPrefix+")")
	fs.IntVar(&p.Policies, "policies", d.Policies, "inventory: policies (the first is the global policy)")
	fs.IntVar(&p.TelephonyCredits, "telephony-credits", d.TelephonyCredits, "inventory: telephony_credits_remaining")

	fs.IntVar(&o.children, "children", 0, "accounts: child accounts listed by the Accounts API")
	fs.IntVar(&o.childUsers, "child-users", d.Users, "accounts: users of each child (other inventory flags as for the parent)")
	fs.IntVar(&o.childBackfill, "child-backfill", 0, "accounts: events per log type per child over the last -span")
	fs.Float64Var(&o.childLive, "child-live", 0, "accounts: live events per second per log type per child (0 = none)")
	fs.StringVar(&o.childRefuse, "child-refuse", "", "accounts: comma-separated log types that refusing children do not serve (e.g. telephony,activity,trust_monitor)")
	fs.IntVar(&o.childRefuseEvery, "child-refuse-every", 1, "accounts: every Nth child (the 1st, the N+1th, ...) refuses the -child-refuse types")
	fs.IntVar(&o.childRefuseCode, "child-refuse-code", 40301, "accounts: the refusal, 40301 (403 Access forbidden) or 40401 (404 Resource not found)")
	fs.StringVar(&o.accountsIKey, "accounts-ikey", duosim.DefaultAccountsIntegrationKey, "accounts: the parent's Accounts API integration key")
	fs.StringVar(&o.accountsSK, "accounts-skey", duosim.DefaultAccountsSecretKey, "accounts: the parent's Accounts API secret key (a simulator key)")
	fs.BoolVar(&o.strictChildHost, "strict-child-host", false, "accounts: refuse a child request signed for the parent's host instead of the child's")
	fs.BoolVar(&o.debug, "debug", true, "serve the unsigned debug endpoints under "+duosim.DebugPrefix)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if o.childRefuseCode != 40301 && o.childRefuseCode != 40401 {
		return nil, fmt.Errorf("-child-refuse-code %d: use 40301 or 40401", o.childRefuseCode)
	}
	if o.childRefuseEvery < 1 {
		return nil, fmt.Errorf("-child-refuse-every %d: must be at least 1", o.childRefuseEvery)
	}
	return o, nil
}

// childList makes the -children children, the refusing ones marked.
func (o *options) childList() ([]duosim.ChildAccount, error) {
	var refuse []string
	if o.childRefuse != "" {
		saved := o.types
		o.types = o.childRefuse
		lts, err := o.logTypes()
		o.types = saved
		if err != nil {
			return nil, fmt.Errorf("-child-refuse: %w", err)
		}
		refuse = lts
	}
	cs := duosim.ChildAccounts(o.seed, 0, o.children)
	for i := range cs {
		if len(refuse) > 0 && i%o.childRefuseEvery == 0 {
			cs[i].Refuse = map[string]int{}
			for _, lt := range refuse {
				cs[i].Refuse[lt] = o.childRefuseCode
			}
		}
	}
	return cs, nil
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

	kids, err := o.childList()
	if err != nil {
		return err
	}
	childPop := o.pop
	childPop.Users = o.childUsers

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
		Logger:                 logger,
		Population:             &o.pop,
		ChildPopulation:        &childPop,
		AccountsIntegrationKey: o.accountsIKey,
		AccountsSecretKey:      o.accountsSK,
		Children:               kids,
		StrictChildHost:        o.strictChildHost,
	})
	now := time.Now().Add(o.offset)
	if o.backfill > 0 {
		for _, lt := range types {
			sim.Backfill(lt, o.backfill, now.Add(-o.span), now)
		}
	}
	if o.childBackfill > 0 {
		for _, c := range kids {
			for _, lt := range types {
				sim.Account(c.AccountID).Backfill(lt, o.childBackfill, now.Add(-o.span), now)
			}
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if o.live > 0 && len(types) > 0 {
		sim.StartLive(ctx, o.live, types...)
	}
	if o.childLive > 0 && len(types) > 0 {
		for _, c := range kids {
			sim.Account(c.AccountID).StartLive(ctx, o.childLive, types...)
		}
	}

	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return err
	}
	var handler http.Handler = sim
	if o.debug {
		mux := http.NewServeMux()
		mux.Handle(duosim.DebugPrefix, sim.DebugHandler())
		mux.Handle("/", sim)
		handler = mux
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "duosim: Duo Admin API simulator on http://%s\n", ln.Addr())
	fmt.Fprintf(stdout, "  api_hostname:    %s (sign as this host; send requests to the address above)\n", o.host)
	fmt.Fprintf(stdout, "  integration_key: %s\n", o.ikey)
	fmt.Fprintf(stdout, "  secret_key:      %s (simulator key)\n", o.skey)
	fmt.Fprintf(stdout, "  log types:       %s; backfill %d each over %s; live %g/s each\n", strings.Join(types, ","), o.backfill, o.span, o.live)
	fmt.Fprintf(stdout, "  inventory:       %d users, %d groups, %d endpoints, %d admins, %d integrations, %d policies\n",
		o.pop.Users, o.pop.Groups, o.pop.Endpoints, o.pop.Admins, o.pop.Integrations, o.pop.Policies)
	if len(kids) > 0 {
		fmt.Fprintf(stdout, "  accounts API:    %d children (%d users, backfill %d and live %g/s per log type each); accounts_ikey %s, accounts_skey %s\n",
			len(kids), o.childUsers, o.childBackfill, o.childLive, o.accountsIKey, o.accountsSK)
	}
	if o.debug {
		fmt.Fprintf(stdout, "  debug:           http://%s%scounts, stats, children (unsigned)\n", ln.Addr(), duosim.DebugPrefix)
	}

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
