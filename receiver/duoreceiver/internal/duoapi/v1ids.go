// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoapi

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"
)

// v1IDs numbers identical records of the same second within one page: a v1 record's id is
// the hash of its compacted content plus its occurrence number, so true twins stay separate
// events (docs/duo-api.md §3.2, §4.2). A re-query from the boundary second returns that
// second's records again from the first, so the numbering is stable across pages.
type v1IDs struct {
	seen map[v1Key]int
	buf  []byte // the record compacted, which is hashed
}

// v1Key is a record's second and content hash: the group its occurrence number counts in.
type v1Key struct {
	sec int64
	sum [16]byte
}

// id returns the id of the record of compacted content compact and time t.
func (v *v1IDs) id(compact []byte, t time.Time) string {
	full := sha256.Sum256(compact)
	k := v1Key{sec: t.Unix(), sum: [16]byte(full[:16])}
	if v.seen == nil {
		v.seen = make(map[v1Key]int)
	}
	n := v.seen[k]
	v.seen[k] = n + 1
	// One allocation: the hex of the hash, '#', the occurrence number.
	var b [32 + 1 + 20]byte
	id := hex.AppendEncode(b[:0], k.sum[:])
	id = append(id, '#')
	id = strconv.AppendInt(id, int64(n), 10)
	return string(id)
}
