// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

// Package duoapi is a client for the log endpoints of Duo's Admin API: request signing,
// paging, typed errors, retries and a per-endpoint adaptive request budget. It knows
// nothing of pdata or of the collector; the receiver ties it to the pipeline.
//
// What differs between endpoints (path, version, units, id and time fields, page size,
// paging style, envelope) is one row of the table in endpoint.go; the fetch loops and the
// page decoder read it.
package duoapi // import "github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/duoapi"
