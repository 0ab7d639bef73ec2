// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

// Package duosim is a simulator of Duo Security's Admin API log endpoints.
//
// It serves the six log streams the duo receiver reads (authentication v2,
// administrator v1, telephony v2, activity v2, offline enrollment v1 and Trust
// Monitor) plus /admin/v1/info/summary, with Duo's envelopes, units, page
// limits, cursors and parameter errors, and it verifies every request's
// signature the way Duo does (v2 HMAC-SHA1, v2 HMAC-SHA512, v5 HMAC-SHA512).
// The facts it follows are in the project's shared duo/API.md; comments cite
// its sections.
//
// The verifier is written independently of the receiver's signer: this
// package imports nothing from receiver/.
//
// Events are stored compactly (32 bytes each) and their JSON is rendered
// lazily and deterministically from the simulator's seed, so a
// million-record backfill costs tens of megabytes, and every page query is
// O(log n + page).
package duosim // import "github.com/otelcol-duo/otelcol-duo/internal/duosim"
