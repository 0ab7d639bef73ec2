// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoreceiver

import (
	"bytes"
	"context"
	"fmt"
	"sync"

	"go.opentelemetry.io/collector/extension/xextension/storage"
)

// memoryStorage keeps the cursors when no storage extension is configured. A runner that
// stops and starts again within the receiver's life (a child renamed, or left out of the
// list for a while) must resume from its cursor: with storage's no-op client it would start
// over from initial_lookback, re-reading what was delivered or, behind a backlog longer
// than initial_lookback, skipping what was not. Nothing survives the process.
type memoryStorage struct {
	mu sync.Mutex
	m  map[string][]byte
}

var _ storage.Client = (*memoryStorage)(nil)

func newMemoryStorage() *memoryStorage { return &memoryStorage{m: map[string][]byte{}} }

func (s *memoryStorage) Get(_ context.Context, key string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.m[key]), nil
}

func (s *memoryStorage) Set(_ context.Context, key string, value []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[key] = bytes.Clone(value)
	return nil
}

func (s *memoryStorage) Delete(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
	return nil
}

func (s *memoryStorage) Batch(ctx context.Context, ops ...*storage.Operation) error {
	for _, op := range ops {
		var err error
		switch op.Type {
		case storage.Get:
			op.Value, err = s.Get(ctx, op.Key)
		case storage.Set:
			err = s.Set(ctx, op.Key, op.Value)
		case storage.Delete:
			err = s.Delete(ctx, op.Key)
		default:
			err = fmt.Errorf("unknown storage operation %d", op.Type)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *memoryStorage) Close(context.Context) error { return nil }
