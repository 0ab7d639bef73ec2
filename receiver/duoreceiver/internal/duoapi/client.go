// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/config/configretry"
	"go.uber.org/zap"
)

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
	// in it: events past the first 1000 of that second cannot be read (docs/duo-api.md §4.2).
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
	// child account, docs/duo-api.md §3.9).
	AccountID string
	// Params are extra parameters sent and signed on every request of a log type: Duo's
	// server-side filters (docs/duo-inventory.md §3.1). A list is sent as a repeated key.
	Params map[LogType]map[string][]string
	// Signing is the signature scheme; "" means DefaultSigning.
	Signing Signing
	// RateLimit is the starting rate, in requests a minute per endpoint, of the adaptive
	// budget; the budget never goes above it. 0 means no budget.
	RateLimit float64
	// InventoryRateLimit is the same for each inventory endpoint, which Duo limits apart
	// from the log endpoints (docs/duo-inventory.md §1.7). 0 means no budget.
	InventoryRateLimit float64
	// Shared, when set, caps the requests of this client together with every other client
	// given the same SharedLimit, after this client's own budget.
	Shared *SharedLimit
	// Retry is how failed requests are retried (429, 5xx, transport errors), taken as
	// configured: the defaults are configretry's, set by the receiver's config.
	Retry configretry.BackOffConfig
	// UserAgent may be empty ("otelcol-duo").
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
	// DefaultTimeout bounds one HTTP request; a 1000-record page is well under 1 MB.
	DefaultTimeout = 30 * time.Second
	// maxBody bounds one answer; a full page of 1000 authentication records is a few MB.
	maxBody = 64 << 20
	// retention is how far back Duo serves logs (docs/duo-api.md §1.6).
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
	params   map[LogType]map[string][]string
	shared   *SharedLimit
	signing  Signing
	ua       string
	retry    configretry.BackOffConfig
	observer Observer
	logger   *zap.Logger
	now      func() time.Time
	budgets  map[LogType]*budget
	offset   atomic.Int64 // nanoseconds to add to now() to get Duo's clock
	// bodySizes holds, per log stream, the size of the last response body read: the
	// buffer size to start from when a response does not say its length (chunked or
	// compressed). A full page is about a megabyte, which a buffer grown from nothing
	// reaches by doubling, allocating and copying about twice that.
	bodySizes map[LogType]*atomic.Int64
}

// New returns a Client for cfg that sends its requests with hc (built by confighttp, so
// proxy, TLS and timeouts apply); nil hc means a default client with DefaultTimeout.
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
	if cfg.RateLimit < 0 || cfg.InventoryRateLimit < 0 {
		errs = append(errs, errors.New("rate limit must not be negative"))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if hc == nil {
		hc = &http.Client{Timeout: DefaultTimeout}
	}
	c := &Client{
		hc:        hc,
		base:      base,
		host:      strings.ToLower(host),
		ikey:      cfg.IntegrationKey,
		skey:      cfg.SecretKey,
		account:   cfg.AccountID,
		params:    cloneParams(cfg.Params),
		shared:    cfg.Shared,
		signing:   cfg.Signing,
		ua:        cfg.UserAgent,
		retry:     cfg.Retry,
		observer:  cfg.Observer,
		logger:    cfg.Logger,
		now:       cfg.Now,
		budgets:   make(map[LogType]*budget, len(LogTypes)+1),
		bodySizes: make(map[LogType]*atomic.Int64, len(LogTypes)),
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
	for _, lt := range LogTypes {
		c.bodySizes[lt] = new(atomic.Int64)
	}
	for i := range inventoryEndpoints {
		c.budgets[inventoryEndpoints[i].key()] = newBudget(cfg.InventoryRateLimit, time.Now)
	}
	return c, nil
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

// call is one logical request: path and parameters, decoded by decode on a 200. It is a
// GET unless post is set.
type call struct {
	lt     LogType
	path   string
	params map[string][]string
	decode func(body []byte) error
	// post sends the call as a POST (the Accounts API's child list) with this body and
	// content type; the parameters are then in the body, not the query.
	post *postBody
}

// postBody is the body of a POST and how it is signed.
type postBody struct {
	body        []byte
	contentType string
	// signParams: line 5 carries the parameters (v2 form body); else it is empty (v5
	// JSON body, whose bytes line 6 binds).
	signParams bool
}

// attempt sends one signed request and decodes a 200. It returns the HTTP status (0 when
// none came back).
func (c *Client) attempt(ctx context.Context, cl call, query string) (int, error) {
	date := c.duoNow().UTC().Format(time.RFC1123Z)
	signed := request{date: date, method: http.MethodGet, host: c.host, path: cl.path, params: cl.params}
	var reqBody io.Reader = http.NoBody
	if cl.post != nil {
		signed.method, signed.body, query = http.MethodPost, cl.post.body, ""
		if !cl.post.signParams {
			signed.params = nil
		}
		reqBody = bytes.NewReader(cl.post.body)
	}
	auth, err := c.signing.authorization(c.ikey, c.skey, signed)
	if err != nil {
		return 0, err
	}
	u := *c.base
	u.Path = strings.TrimSuffix(c.base.Path, "/") + cl.path
	u.RawPath = ""
	u.RawQuery = query
	req, err := http.NewRequestWithContext(ctx, signed.method, u.String(), reqBody)
	if err != nil {
		return 0, err
	}
	if cl.post != nil {
		req.Header.Set("Content-Type", cl.post.contentType)
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
	body, err := readBody(resp, c.bodySizes[cl.lt])
	defer releaseBody(body)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// Whatever part of the body arrived is enough to read Duo's code and message.
		return resp.StatusCode, c.scrubAPI(parseErrorBody(resp.StatusCode, cl.path, body), auth, signed.method)
	}
	if err != nil {
		if errors.Is(err, errTooLarge) {
			return resp.StatusCode, err
		}
		return resp.StatusCode, &decodeError{path: cl.path, method: signed.method, msg: "failed to read body: " + c.scrub(err).Error()}
	}
	if err := cl.decode(body); err != nil {
		var apiErr *APIError
		if errors.As(err, &apiErr) {
			return resp.StatusCode, c.scrubAPI(apiErr, auth, signed.method)
		}
		var de *decodeError
		if errors.As(err, &de) {
			de.method = signed.method
		}
		return resp.StatusCode, err
	}
	return resp.StatusCode, nil
}

var errTooLarge = fmt.Errorf("duo api: response body larger than %d bytes", maxBody)

// readBody reads a response body of at most maxBody bytes, into a buffer of the size the
// response announces or else of the last size read (lastSize, which it updates; nil for
// requests that read no log stream). Pages differ in size by a few percent: the slack
// keeps a page a little larger than the last from doubling the buffer.
func readBody(resp *http.Response, lastSize *atomic.Int64) ([]byte, error) {
	var buf bytes.Buffer
	select {
	case b := <-bodyBuffers:
		buf = *bytes.NewBuffer(b)
	default:
	}
	if n := resp.ContentLength; n > 0 && n <= maxBody {
		buf.Grow(int(n) + bytes.MinRead)
	} else if lastSize != nil {
		if n := lastSize.Load(); n > 0 && n <= maxBody {
			buf.Grow(int(n) + int(n)/16 + bytes.MinRead)
		}
	}
	n, err := buf.ReadFrom(io.LimitReader(resp.Body, maxBody+1))
	if err == nil && n > maxBody {
		err = errTooLarge
	}
	if err == nil && lastSize != nil {
		lastSize.Store(n)
	}
	return buf.Bytes(), err
}

// bodyBuffers keeps read buffers for the next responses. Nothing decoded from a body
// aliases it (a page's records are substrings of the page's own text), so a body's
// buffer is free once decode has returned. A sync.Pool would drop them at every garbage
// collection, which comes every few pages.
var bodyBuffers = make(chan []byte, 4)

// maxPooledBody bounds each buffer kept: several full pages, not the 64 MiB limit.
const maxPooledBody = 8 << 20

func releaseBody(b []byte) {
	if cap(b) > maxPooledBody {
		return
	}
	select {
	case bodyBuffers <- b[:0]:
	default:
	}
}

// scrubAPI removes the credentials from anything Duo (or a proxy) echoed back, and notes
// the method the request was sent with.
func (c *Client) scrubAPI(e *APIError, auth, method string) *APIError {
	if method != http.MethodGet {
		e.Method = method
	}
	token := strings.TrimPrefix(auth, "Basic ")
	e.Message = redact(e.Message, c.skey, auth, token)
	e.Detail = redact(e.Detail, c.skey, auth, token)
	return e
}

// scrub makes sure a transport error carries neither the secret key nor the request's
// query (the window, filter values, account_id), since it reaches the logs and the
// health status; the error keeps its type, so it is retried as before.
func (c *Client) scrub(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil && (u.RawQuery != "" || u.User != nil) {
			u.RawQuery, u.User = "", nil
			ue.URL = u.String()
		}
	}
	if err == nil || !strings.Contains(err.Error(), c.skey) {
		return err
	}
	return errors.New(redact(err.Error(), c.skey))
}

// Summary reads GET /admin/v1/info/summary (docs/duo-api.md §3.7): counts such as user_count and
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

func cloneParams(in map[LogType]map[string][]string) map[LogType]map[string][]string {
	if len(in) == 0 {
		return nil
	}
	out := make(map[LogType]map[string][]string, len(in))
	for lt, ps := range in {
		m := make(map[string][]string, len(ps))
		for k, vs := range ps {
			m[k] = append([]string(nil), vs...)
		}
		out[lt] = m
	}
	return out
}
