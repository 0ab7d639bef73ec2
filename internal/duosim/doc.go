// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

// Package duosim is a simulator of Duo Security's Admin API and Accounts API.
//
// It serves the six log streams the duo receiver reads (authentication v2,
// administrator v1, telephony v2, activity v2, offline enrollment v1 and Trust
// Monitor), the inventory endpoints (users with their phones, tokens, WebAuthn
// credentials and groups; bypass codes; groups; Duo Desktop endpoints; v2
// policies and their summary; admins; v3 integrations; settings; the info
// summary), and the Accounts API's child list, with Duo's envelopes, units,
// page limits, cursors and parameter errors. It verifies every request's
// signature the way Duo does (v2 HMAC-SHA1, v2 HMAC-SHA512, v5 HMAC-SHA512,
// GET and POST). The facts it follows are in the project's shared duo/API.md
// and duo/INVENTORY.md; comments cite their sections.
//
// The verifier is written independently of the receiver's signer: this
// package imports nothing from receiver/.
//
// # Accounts
//
// The simulator has a parent account, read with its Admin API keys, and any
// number of child accounts (Config.Children, SetChildren, AddChild,
// RemoveChild). The parent's Accounts API keys list the children with POST
// /accounts/v1/account/list and read any child by adding the signed
// parameter account_id; the request is signed for the child's api_hostname
// (or the parent's, which duo_log_sync sends, unless StrictChildHost). Keys
// of the wrong application are answered 403 40301. Each child has its own
// log events and inventory, made on first use, and keeps them while off the
// list. ChildAccount.Refuse makes a child answer chosen log types 404 40401
// or 403 40301: which log types Duo serves children is not documented.
// Faults, including the rate limit, count by endpoint path across all
// accounts: whether Duo limits each child or the parent's keys is not known.
// Account.SetInventoryFaults gives one account inventory faults of its own.
//
// # Inventory
//
// Lists are offset-paged (offset, limit; default limit 100, a larger limit
// is clamped to the resource's maximum; metadata.next_offset absent on the
// last page). A Population (users and the shares unenrolled, in each status,
// inactive, with bypass codes, tokens, WebAuthn credentials and shared
// phones) is generated deterministically from the seed into compact records
// and rendered per page. InventoryCounts gives the true figures, computed
// from those records and never from the JSON. InventoryFaults answers
// chosen resources 403 40301, fails chosen pages, or serves shorter pages.
// Every integration secret_key starts with IntegrationSecretPrefix; bypass
// codes themselves are never served, as at Duo.
//
// # Authentication log filters
//
// users, groups, applications, event_types, results, reasons, factors,
// phone_numbers and tokens are read as repeated parameters, the way Duo's
// clients send lists; a value is never split on commas. Values within one
// filter are ORed, as Duo documents. Different filters are ANDed: that is
// an assumption, Duo does not say. groups takes group ids and matches the
// user's group names in the record; tokens matches auth_device.key.
//
// # Cost
//
// Events are stored compactly (32 bytes each) and their JSON is rendered
// lazily and deterministically from the simulator's seed, so a
// million-record backfill costs tens of megabytes, and every unfiltered page
// query is O(log n + page). Users cost 32 bytes each and bypass codes 24.
//
// DebugHandler serves the true counts, the stats and the child list without
// signatures; cmd/duosim mounts it under DebugPrefix.
package duosim // import "github.com/otelcol-duo/otelcol-duo/internal/duosim"
