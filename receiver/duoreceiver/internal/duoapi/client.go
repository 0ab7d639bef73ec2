// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// RetrySettings is how failed requests are retried: exponential backoff with jitter, like
// configretry.BackOffConfig. Zero durations and factors take the configretry defaults.
type RetrySettings struct {
	Enabled bool
	// InitialInterval is the first wait (default 5 s).
	InitialInterval time.Duration
	// MaxInterval caps one wait (default 30 s).
	MaxInterval time.Duration
	// MaxElapsedTime gives up once this much time passed since the first attempt; 0 means
	// no limit (until the context ends).
	MaxElapsedTime time.Duration
	// Multiplier grows the wait after each attempt (default 1.5).
	Multiplier float64
	// RandomizationFactor spreads each wait uniformly over ±factor of it (0 to 1).
	RandomizationFactor float64
}

// Observer receives hooks for the receiver's metrics. Every method must be cheap and safe
// for concurrent use.
type Observer interface {
	// Request is called after each HTTP attempt with its status (0 for a transport error)
	// and its error (nil on success). lt is "" for /admin/v1/info/summary.
	Request(lt LogType, status int, err error)
	// RateLimitWait reports time spent waiting on the request budget or backing off after
	// a 429.
	RateLimitWait(lt LogType, wait time.Duration)
	// SkippedSecond reports a v1 second stepped over because one page of 1000 rows was all
	// in it: events past the first 1000 of that second cannot be read (API.md 4.2).
	SkippedSecond(lt LogType, second int64)
	// SkippedRecords reports list elements of a page that were not JSON objects and so
	// were left out (a record Duo sent that nothing can be made of).
	SkippedRecords(lt LogType, n int)
}

// Config configures a Client.
type Config struct {
	// BaseURL is "https://<api_hostname>", or an override (simulator, proxy). A path in it
	// is prefixed to every request path, but only Duo's path is signed.
	BaseURL string
	// Host is the api_hostname, always what is signed (canonical line 3). Empty means the
	// host of BaseURL.
	Host           string
	IntegrationKey string
	SecretKey      string
	// AccountID, when set, is sent and signed as account_id on every request (Accounts API
	// child account, API.md 3.9).
	AccountID string
	// Signing is the signature scheme; "" means DefaultSigning.
	Signing Signing
	// RateLimit is the starting rate, in requests a minute per endpoint, of the adaptive
	// budget; the budget never goes above it. 0 means no budget.
	RateLimit float64
	Retry     RetrySettings
	UserAgent string
	// Observer may be nil.
	Observer Observer
	// Logger may be nil (no logging).
	Logger *zap.Logger
	// Now may be nil (time.Now). It dates and signs requests and is the "now" of the
	// 180-day check; the request budget and backoff always run on the real clock.
	Now func() time.Time
}

const (
	defaultUserAgent = "otelcol-duo"
	defaultTimeout   = 60 * time.Second
	// maxBody bounds one answer; a full page of 1000 authentication records is a few MB.
	maxBody = 64 << 20
	// retention is how far back Duo serves logs (API.md 1.6).
	retention = 180 * 24 * time.Hour
	// skewThreshold: a response Date further than this from our corrected clock moves the
	// correction. Date has one-second resolution, so smaller differences are noise.
	skewThreshold = 2 * time.Second
)

// Client reads Duo's Admin API log endpoints. It is safe for concurrent use; each log
// type has its own request budget.
type Client struct {
	hc       *http.Client
	base     *url.URL
	host     string
	ikey     string
	skey     string
	account  string
	signing  Signing
	ua       string
	retry    RetrySettings
	observer Observer
	logger   *zap.Logger
	now      func() time.Time
	budgets  map[LogType]*budget
	offset   atomic.Int64 // nanoseconds to add to now() to get Duo's clock
}

// New returns a Client for cfg that sends its requests with hc (built by confighttp, so
// proxy, TLS and timeouts apply); nil hc means a default client with a 60 s timeout.
func New(cfg Config, hc *http.Client) (*Client, error) {
	var errs []error
	base, err := url.Parse(cfg.BaseURL)
	switch {
	case err != nil:
		errs = append(errs, fmt.Errorf("invalid base URL: %w", err))
	case base.Scheme != "http" && base.Scheme != "https":
		errs = append(errs, fmt.Errorf("base URL %q must be http or https", cfg.BaseURL))
	case base.Host == "":
		errs = append(errs, fmt.Errorf("base URL %q has no host", cfg.BaseURL))
	case base.RawQuery != "" || base.Fragment != "":
		errs = append(errs, fmt.Errorf("base URL %q must not have a query or fragment", cfg.BaseURL))
	}
	host := cfg.Host
	if host == "" && err == nil {
		host = base.Hostname()
	}
	if host == "" {
		errs = append(errs, errors.New("host is required"))
	}
	if cfg.IntegrationKey == "" {
		errs = append(errs, errors.New("integration key is required"))
	}
	if cfg.SecretKey == "" {
		errs = append(errs, errors.New("secret key is required"))
	}
	if err := cfg.Signing.Validate(); err != nil {
		errs = append(errs, err)
	}
	if cfg.RateLimit < 0 {
		errs = append(errs, errors.New("rate limit must not be negative"))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if hc == nil {
		hc = &http.Client{Timeout: defaultTimeout}
	}
	c := &Client{
		hc:       hc,
		base:     base,
		host:     strings.ToLower(host),
		ikey:     cfg.IntegrationKey,
		skey:     cfg.SecretKey,
		account:  cfg.AccountID,
		signing:  cfg.Signing,
		ua:       cfg.UserAgent,
		retry:    normalizeRetry(cfg.Retry),
		observer: cfg.Observer,
		logger:   cfg.Logger,
		now:      cfg.Now,
		budgets:  make(map[LogType]*budget, len(LogTypes)+1),
	}
	if c.signing == "" {
		c.signing = DefaultSigning
	}
	if c.ua == "" {
		c.ua = defaultUserAgent
	}
	if c.logger == nil {
		c.logger = zap.NewNop()
	}
	if c.now == nil {
		c.now = time.Now
	}
	for _, lt := range append([]LogType{""}, LogTypes...) {
		c.budgets[lt] = newBudget(cfg.RateLimit, time.Now)
	}
	return c, nil
}

func normalizeRetry(r RetrySettings) RetrySettings {
	if r.InitialInterval <= 0 {
		r.InitialInterval = 5 * time.Second
	}
	if r.MaxInterval <= 0 {
		r.MaxInterval = max(30*time.Second, r.InitialInterval)
	}
	if r.Multiplier <= 0 {
		r.Multiplier = 1.5
	} else if r.Multiplier < 1 {
		r.Multiplier = 1
	}
	r.RandomizationFactor = min(max(r.RandomizationFactor, 0), 1)
	if r.MaxElapsedTime < 0 {
		r.MaxElapsedTime = 0
	}
	return r
}

// duoNow is our clock corrected by the offset learned from Duo's Date headers.
func (c *Client) duoNow() time.Time {
	return c.now().Add(time.Duration(c.offset.Load()))
}

// ClockOffset reports the correction currently added to the local clock when dating
// requests (learned from the Date header of Duo's responses).
func (c *Client) ClockOffset() time.Duration { return time.Duration(c.offset.Load()) }

// learnOffset moves the clock correction when a response's Date is more than
// skewThreshold away from our corrected clock.
func (c *Client) learnOffset(resp *http.Response) {
	d, err := http.ParseTime(resp.Header.Get("Date"))
	if err != nil {
		return
	}
	local := c.now()
	cur := time.Duration(c.offset.Load())
	skew := d.Sub(local.Add(cur))
	if skew > -skewThreshold && skew < skewThreshold {
		return
	}
	// Date truncates to the second: the server's clock is half a second later on average.
	next := d.Add(500 * time.Millisecond).Sub(local).Round(time.Second)
	if c.offset.CompareAndSwap(int64(cur), int64(next)) {
		c.logger.Warn("local clock differs from duo's, correcting request dates",
			zap.Duration("offset", next), zap.Duration("previous_offset", cur))
	}
}

// call is one logical GET: path and parameters, decoded by decode on a 200.
type call struct {
	lt     LogType
	path   string
	params map[string][]string
	decode func(body []byte) error
}

// get runs c with a fresh Date and signature per attempt, within the endpoint's budget,
// retrying as RetrySettings says; a 40105 (bad timestamp) is retried once at once, with
// the clock offset learned from that answer.
func (c *Client) get(ctx context.Context, cl call) error {
	if c.account != "" {
		cl.params["account_id"] = []string{c.account}
	}
	query := canonParams(cl.params)
	start := time.Now()
	interval := c.retry.InitialInterval
	skewRetried := false
	for attempt := 1; ; attempt++ {
		wait, err := c.budgets[cl.lt].wait(ctx)
		c.reportWait(cl.lt, wait)
		if err != nil {
			return err
		}
		status, err := c.attempt(ctx, cl, query)
		if c.observer != nil {
			c.observer.Request(cl.lt, status, err)
		}
		if err == nil {
			if b := c.budgets[cl.lt]; b != nil {
				b.accepted(b.now())
			}
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var apiErr *APIError
		isAPI := errors.As(err, &apiErr)
		if isAPI && apiErr.Code == 40105 && !skewRetried {
			skewRetried = true
			c.logger.Warn("duo rejected the request date, retrying with the learned clock offset",
				zap.String("path", cl.path), zap.Duration("offset", c.ClockOffset()))
			continue
		}
		limited := isAPI && apiErr.effectiveStatus() == http.StatusTooManyRequests
		if limited {
			msg := "rate limited by duo, slowing down"
			fields := []zap.Field{zap.String("path", cl.path)}
			if b := c.budgets[cl.lt]; b != nil {
				if !b.limited(b.now()) {
					msg = "rate limited by duo, retrying at the same rate"
				}
				fields = append(fields, zap.Float64("budget_per_minute", b.perMinute()))
			}
			c.logger.Warn(msg, fields...)
		}
		if !c.retry.Enabled || !IsRetryable(err) {
			return err
		}
		backoff := jitter(min(interval, c.retry.MaxInterval), c.retry.RandomizationFactor)
		interval = min(time.Duration(float64(interval)*c.retry.Multiplier), c.retry.MaxInterval)
		if limited && c.budgets[cl.lt] != nil {
			// The budget paces the retry of a 429 (its bucket is empty now): a backoff on
			// top would hide from it the rate at which Duo answered.
			backoff = 0
		}
		if c.retry.MaxElapsedTime > 0 && time.Since(start)+backoff > c.retry.MaxElapsedTime {
			return fmt.Errorf("giving up after %d attempts: %w", attempt, err)
		}
		c.logger.Debug("retrying duo request", zap.String("path", cl.path), zap.Int("attempt", attempt),
			zap.Int("status", status), zap.Duration("wait", backoff), zap.Error(err))
		if err := sleep(ctx, backoff); err != nil {
			return err
		}
		if limited {
			c.reportWait(cl.lt, backoff)
		}
	}
}

func (c *Client) reportWait(lt LogType, wait time.Duration) {
	if wait > 0 && c.observer != nil {
		c.observer.RateLimitWait(lt, wait)
	}
}

func jitter(d time.Duration, factor float64) time.Duration {
	if factor <= 0 {
		return d
	}
	delta := factor * float64(d)
	return time.Duration(float64(d) - delta + rand.Float64()*2*delta) //nolint:gosec // jitter, not security
}

// attempt sends one signed request and decodes a 200. It returns the HTTP status (0 when
// none came back).
func (c *Client) attempt(ctx context.Context, cl call, query string) (int, error) {
	date := c.duoNow().UTC().Format(time.RFC1123Z)
	auth, err := c.signing.authorization(c.ikey, c.skey, request{
		date: date, method: http.MethodGet, host: c.host, path: cl.path, params: cl.params,
	})
	if err != nil {
		return 0, err
	}
	u := *c.base
	u.Path = strings.TrimSuffix(c.base.Path, "/") + cl.path
	u.RawPath = ""
	u.RawQuery = query
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), http.NoBody)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Date", date)
	req.Header.Set("Authorization", auth)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.ua)
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, c.scrub(err)
	}
	defer func() { _ = resp.Body.Close() }()
	c.learnOffset(resp)
	body, err := readBody(resp)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// Whatever part of the body arrived is enough to read Duo's code and message.
		return resp.StatusCode, c.scrubAPI(parseErrorBody(resp.StatusCode, cl.path, body), auth)
	}
	if err != nil {
		if errors.Is(err, errTooLarge) {
			return resp.StatusCode, err
		}
		return resp.StatusCode, &decodeError{path: cl.path, msg: "failed to read body: " + c.scrub(err).Error()}
	}
	if err := cl.decode(body); err != nil {
		var apiErr *APIError
		if errors.As(err, &apiErr) {
			return resp.StatusCode, c.scrubAPI(apiErr, auth)
		}
		return resp.StatusCode, err
	}
	return resp.StatusCode, nil
}

var errTooLarge = fmt.Errorf("duo api: response body larger than %d bytes", maxBody)

func readBody(resp *http.Response) ([]byte, error) {
	var buf bytes.Buffer
	if n := resp.ContentLength; n > 0 && n <= maxBody {
		buf.Grow(int(n) + bytes.MinRead)
	}
	n, err := buf.ReadFrom(io.LimitReader(resp.Body, maxBody+1))
	if err == nil && n > maxBody {
		err = errTooLarge
	}
	return buf.Bytes(), err
}

// scrubAPI removes the credentials from anything Duo (or a proxy) echoed back.
func (c *Client) scrubAPI(e *APIError, auth string) *APIError {
	token := strings.TrimPrefix(auth, "Basic ")
	e.Message = redact(e.Message, c.skey, auth, token)
	e.Detail = redact(e.Detail, c.skey, auth, token)
	return e
}

// scrub makes sure a transport error cannot carry the secret key.
func (c *Client) scrub(err error) error {
	if err == nil || !strings.Contains(err.Error(), c.skey) {
		return err
	}
	return errors.New(redact(err.Error(), c.skey))
}

// Summary reads GET /admin/v1/info/summary (API.md 3.7): counts such as user_count and
// telephony_credits_remaining.
func (c *Client) Summary(ctx context.Context) (map[string]int64, error) {
	const path = "/admin/v1/info/summary"
	var out map[string]int64
	err := c.get(ctx, call{lt: "", path: path, params: map[string][]string{}, decode: func(body []byte) error {
		var err error
		out, err = decodeSummary(path, body)
		return err
	}})
	return out, err
}
