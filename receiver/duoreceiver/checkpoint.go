// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoreceiver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/xextension/storage"

	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/duoapi"
)

const (
	// checkpointKeyPrefix starts every key this receiver writes to its storage client.
	checkpointKeyPrefix = "duo"
	// checkpointVersion is the layout of the stored value; a different version is unreadable.
	checkpointVersion = 1
)

// checkpointKey names the cursor of one log stream of one Duo account. Only what decides
// which events the stream holds is in it (API host, child account, log type): intervals,
// windows and rate limits can change without losing the cursor.
func checkpointKey(host, accountID string, lt duoapi.LogType) string {
	if accountID == "" {
		accountID = "-"
	}
	return fmt.Sprintf("%s/%s/%s/%s", checkpointKeyPrefix, host, accountID, lt)
}

// storedCheckpoint is the JSON value kept under checkpointKey.
type storedCheckpoint struct {
	Version int          `json:"version"`
	Cursor  time.Time    `json:"cursor"`
	Window  *windowState `json:"window,omitempty"`
	Seen    []storedSeen `json:"seen,omitempty"`
	// Filters is streamState.filters; absent in values saved without filters.
	Filters string `json:"filters,omitempty"`
}

type storedSeen struct {
	ID string `json:"id"`
	// T is the event time in Unix microseconds.
	T int64 `json:"t"`
}

var errCheckpointVersion = errors.New("unknown checkpoint version")

func encodeCheckpoint(st *streamState) ([]byte, error) {
	sc := storedCheckpoint{Version: checkpointVersion, Cursor: st.cursor.UTC(), Window: st.window, Filters: st.filters}
	if len(st.seen) > 0 {
		sc.Seen = make([]storedSeen, 0, len(st.seen))
		for id, t := range st.seen {
			sc.Seen = append(sc.Seen, storedSeen{ID: id, T: t.UnixMicro()})
		}
		sort.Slice(sc.Seen, func(i, j int) bool {
			if sc.Seen[i].T != sc.Seen[j].T {
				return sc.Seen[i].T < sc.Seen[j].T
			}
			return sc.Seen[i].ID < sc.Seen[j].ID
		})
	}
	return json.Marshal(sc)
}

func decodeCheckpoint(data []byte) (*streamState, error) {
	var sc storedCheckpoint
	if err := json.Unmarshal(data, &sc); err != nil {
		return nil, err
	}
	if sc.Version != checkpointVersion {
		return nil, fmt.Errorf("%w %d", errCheckpointVersion, sc.Version)
	}
	if sc.Cursor.IsZero() && sc.Window == nil {
		return nil, errors.New("checkpoint holds neither a cursor nor a window")
	}
	if sc.Window != nil && sc.Window.End.Before(sc.Window.Start) {
		return nil, errors.New("checkpoint window ends before it starts")
	}
	st := &streamState{cursor: sc.Cursor, window: sc.Window, seen: make(map[string]time.Time, len(sc.Seen)), filters: sc.Filters}
	for _, s := range sc.Seen {
		st.seen[s.ID] = time.UnixMicro(s.T).UTC()
	}
	return st, nil
}

// checkpointer reads and writes one log stream's state through a storage client.
type checkpointer struct {
	client storage.Client
	key    string
}

// load returns the stored state, nil if there is none, or an error if it is unreadable:
// a *storageFailure when the storage client failed, another error for a bad value.
func (c *checkpointer) load(ctx context.Context) (*streamState, error) {
	data, err := c.client.Get(ctx, c.key)
	if err != nil {
		return nil, &storageFailure{read: true, err: fmt.Errorf("failed to read checkpoint: %w", err)}
	}
	if data == nil {
		return nil, nil
	}
	st, err := decodeCheckpoint(data)
	if err != nil {
		return nil, fmt.Errorf("failed to decode checkpoint: %w", err)
	}
	return st, nil
}

func (c *checkpointer) save(ctx context.Context, st *streamState) error {
	data, err := encodeCheckpoint(st)
	if err != nil {
		return fmt.Errorf("failed to encode checkpoint: %w", err)
	}
	if err := c.client.Set(ctx, c.key, data); err != nil {
		return fmt.Errorf("failed to save checkpoint: %w", err)
	}
	return nil
}

// getStorageClient returns the client of the configured storage extension, or a no-op
// client (cursors in memory only) when storage is not set.
func getStorageClient(ctx context.Context, host component.Host, storageID *component.ID, receiverID component.ID) (storage.Client, error) {
	if storageID == nil {
		return storage.NewNopClient(), nil
	}
	ext, found := host.GetExtensions()[*storageID]
	if !found {
		return nil, fmt.Errorf("storage extension %q not found; add it under extensions and service::extensions", storageID)
	}
	storageExt, ok := ext.(storage.Extension)
	if !ok {
		return nil, fmt.Errorf("extension %q is not a storage extension", storageID)
	}
	client, err := storageExt.GetClient(ctx, component.KindReceiver, receiverID, "")
	if err != nil {
		return nil, fmt.Errorf("failed to get a client from storage extension %q: %w", storageID, err)
	}
	return client, nil
}
