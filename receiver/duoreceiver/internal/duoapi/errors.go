// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoapi

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// ErrWindowTooOld is returned by Fetch for a window that starts more than 180 days before
// Duo's clock: Duo answers such a request with 400 40002 "mintime must be within the past
// 180 days" (docs/duo-api.md §1.6, §6.4). The receiver clamps its windows before asking.
var ErrWindowTooOld = errors.New("duo api: window starts more than 180 days ago")

// APIError is an error answer from Duo (docs/duo-api.md §1.4), or an HTTP error status from
// something in between (a proxy) whose body is not Duo's JSON.
type APIError struct {
	// Status is the HTTP status code.
	Status int
	// Code is Duo's five-digit code (40103, 42901, ...); 0 when the body had none.
	Code int
	// Message is Duo's message, or the HTTP status text when the body is not Duo's JSON.
	Message string
	// Detail is Duo's optional message_detail.
	Detail string
	// Path is the request path, without the query string.
	Path string
	// Method is the request's method; "" means GET, what every request but the child
	// account list sends.
	Method string
}

// Error renders the error as "duo api: <method> <path>: <status> <code> <message>[: <detail>]".
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("duo api: ")
	b.WriteString(methodOr(e.Method))
	b.WriteByte(' ')
	b.WriteString(e.Path)
	b.WriteString(": ")
	b.WriteString(strconv.Itoa(e.Status))
	if e.Code != 0 {
		b.WriteByte(' ')
		b.WriteString(strconv.Itoa(e.Code))
	}
	if e.Message != "" {
		b.WriteByte(' ')
		b.WriteString(e.Message)
	}
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	return b.String()
}

// effectiveStatus is the HTTP status, or for a 200 carrying stat FAIL the status encoded in
// the first three digits of Duo's code (docs/duo-api.md §1.4).
func (e *APIError) effectiveStatus() int {
	if e.Status >= 200 && e.Status < 300 && e.Code >= 10000 && e.Code < 60000 {
		return e.Code / 100
	}
	return e.Status
}

// StatusOf is the HTTP status Duo meant by err (effectiveStatus): for a 200 carrying stat
// FAIL, the one its code encodes. 0 when err is not Duo's answer.
func StatusOf(err error) int {
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		return 0
	}
	return apiErr.effectiveStatus()
}

// decodeError is a body that could not be decoded: truncated, not JSON, or not the
// envelope Duo sends. Retrying may help (a connection cut mid-body).
type decodeError struct {
	path   string
	msg    string
	method string // "" means GET
}

func (e *decodeError) Error() string {
	return "duo api: " + methodOr(e.method) + " " + e.path + ": failed to decode response: " + e.msg
}

func methodOr(m string) string {
	if m == "" {
		return http.MethodGet
	}
	return m
}

// errNoProgress is returned when Duo hands back the cursor it was just sent, which would
// otherwise page forever.
var errNoProgress = errors.New("duo api: paging cursor did not advance")

// IsRetryable reports whether a later identical request may succeed: 429, 5xx, timeouts,
// transport errors and truncated or undecodable bodies are retryable; Duo's 4xx answers
// (400, 401, 403, 404), a cancelled context and the client's own validation errors are not.
func IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		s := apiErr.effectiveStatus()
		return s == http.StatusTooManyRequests || s >= 500
	}
	if errors.Is(err, context.Canceled) {
		return false
	}
	var de *decodeError
	if errors.As(err, &de) {
		return true
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var ue *url.Error
	return errors.As(err, &ue)
}

// IsCredentialsError reports whether Duo rejected the credentials or their permissions:
// HTTP 401 (bad integration key, signature or Date) or 403 (wrong integration type or
// missing permission), docs/duo-api.md §1.4.
func IsCredentialsError(err error) bool {
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	s := apiErr.effectiveStatus()
	return s == http.StatusUnauthorized || s == http.StatusForbidden
}

// parseErrorBody builds the APIError for a non-2xx answer. Duo's code may be an int or a
// string (docs/duo-api.md §1.4); a body that is not Duo's JSON falls back to the HTTP status.
func parseErrorBody(status int, path string, body []byte) *APIError {
	e := &APIError{Status: status, Path: path}
	if env, err := decodeEnvelope(body); err == nil {
		e.Code = env.code
		e.Message = env.message
		e.Detail = env.detail
	}
	if e.Message == "" && e.Code == 0 {
		e.Message = http.StatusText(status)
	}
	return e
}

// redact removes every occurrence of the given secrets from s.
func redact(s string, secrets ...string) string {
	for _, secret := range secrets {
		if secret != "" && strings.Contains(s, secret) {
			s = strings.ReplaceAll(s, secret, "[REDACTED]")
		}
	}
	return s
}
