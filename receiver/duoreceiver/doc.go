// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

//go:generate ../../bin/mdatagen metadata.yaml

// Package duoreceiver pulls Duo Security's Admin API log streams (authentication,
// administrator, telephony, activity, offline enrollment, Trust Monitor) and emits them as
// OTLP logs, with a durable per-stream cursor kept in the collector's storage extension.
package duoreceiver // import "github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver"
