// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoreceiver

import (
	"errors"
	"reflect"
	"time"

	"go.uber.org/zap"

	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/duoapi"
)

const (
	// defaultInventoryInterval: other tools read Duo's inventory once a day
	// (docs/duo-inventory.md §1.7); an hour keeps the posture gauges fresh at a cost of a
	// few hundred requests for a large account.
	defaultInventoryInterval = time.Hour
	// minRecommendedInventoryInterval: a snapshot of a large account takes minutes of
	// requests; shorter intervals mostly re-read what has not changed.
	minRecommendedInventoryInterval = 5 * time.Minute
	defaultInactiveAfter            = 720 * time.Hour
	// inventoryRateLimit is the one figure known for Duo's object lists: 200 requests a
	// minute (Duo staff, 2019, docs/duo-inventory.md §1.7). The budget adapts on 429s.
	inventoryRateLimit = 200.0
)

var (
	errInventoryInterval = errors.New("inventory.interval: must be positive, e.g. 1h")
	errInactiveAfter     = errors.New("inventory.inactive_after: must be positive, e.g. 720h")
)

// InventoryConfig configures the inventory snapshots: posture metrics (in a metrics
// pipeline) and entity logs (entity_logs). A receiver in no metrics pipeline and without
// entity_logs reads no inventory.
type InventoryConfig struct {
	// Interval is the time between two snapshots.
	Interval time.Duration `mapstructure:"interval"`
	// InactiveAfter: a user whose last login is older, or who never logged in, counts in
	// duo.users.inactive.
	InactiveAfter time.Duration `mapstructure:"inactive_after"`
	// EntityLogs sends one log record per object per snapshot into the logs pipeline.
	EntityLogs bool `mapstructure:"entity_logs"`
	// Resources turns each inventory resource on or off.
	Resources InventoryResources `mapstructure:"resources"`
}

// InventoryResources holds one switch per inventory resource; the key is the resource's
// name (duoapi.Resources). policies also reads the policy summary.
type InventoryResources struct {
	Users        ResourceConfig `mapstructure:"users"`
	BypassCodes  ResourceConfig `mapstructure:"bypass_codes"`
	Groups       ResourceConfig `mapstructure:"groups"`
	Endpoints    ResourceConfig `mapstructure:"endpoints"`
	Policies     ResourceConfig `mapstructure:"policies"`
	Summary      ResourceConfig `mapstructure:"summary"`
	Admins       ResourceConfig `mapstructure:"admins"`
	Integrations ResourceConfig `mapstructure:"integrations"`
	Settings     ResourceConfig `mapstructure:"settings"`
}

// ResourceConfig switches one inventory resource.
type ResourceConfig struct {
	Enabled bool `mapstructure:"enabled"`
}

// defaultInventory: what needs "Grant read resource" and "Grant read information" is on;
// admins, integrations and settings need permissions a read-only application seldom has.
func defaultInventory() InventoryConfig {
	on, off := ResourceConfig{Enabled: true}, ResourceConfig{}
	return InventoryConfig{
		Interval:      defaultInventoryInterval,
		InactiveAfter: defaultInactiveAfter,
		Resources: InventoryResources{
			Users: on, BypassCodes: on, Groups: on, Endpoints: on, Policies: on, Summary: on,
			Admins: off, Integrations: off, Settings: off,
		},
	}
}

// inventoryResourceField ties each configurable resource to its field of
// InventoryResources by the field's key, once, as logsConfigField does for log types.
// Not every resource has a field: the policy summary goes with policies.
var inventoryResourceField = fieldIndex(reflect.TypeFor[InventoryResources](), duoapi.Resources, "duoapi resource")

// enabled reports whether resource r is read. The policy summary goes with policies.
func (ir *InventoryResources) enabled(r duoapi.Resource) bool {
	if r == duoapi.PoliciesSummary {
		r = duoapi.Policies
	}
	i, ok := inventoryResourceField[r]
	if !ok {
		return false
	}
	return reflect.ValueOf(ir).Elem().Field(i).Interface().(ResourceConfig).Enabled
}

// anyEnabled reports whether at least one inventory resource is read.
func (ic *InventoryConfig) anyEnabled() bool {
	for _, r := range duoapi.Resources {
		if ic.Resources.enabled(r) {
			return true
		}
	}
	return false
}

func (ic *InventoryConfig) validate() []error {
	var errs []error
	if ic.Interval <= 0 {
		errs = append(errs, errInventoryInterval)
	}
	if ic.InactiveAfter <= 0 {
		errs = append(errs, errInactiveAfter)
	}
	return errs
}

func (ic *InventoryConfig) warn(logger *zap.Logger) {
	if ic.Interval > 0 && ic.Interval < minRecommendedInventoryInterval {
		logger.Warn("inventory.interval is under 5 minutes; each snapshot pages through every user and code",
			zap.Duration("interval", ic.Interval))
	}
}
