package infra

import (
	"context"
	"time"
)

// Filter narrows the inventory: one building, one kind, a text found in a
// code, a name, a model, a serial or an address.
type Filter struct {
	BuildingID string
	Kind       Kind
	Q          string
}

// Imported counts what an import created and changed.
type Imported struct {
	Created int `json:"created"`
	Updated int `json:"updated"`
}

// Service keeps the infrastructure, in the acting person's rights (MayView,
// MayEdit).
type Service interface {
	Assets(ctx context.Context, f Filter) ([]Asset, error)
	Asset(ctx context.Context, id string) (*Asset, error)
	CreateAsset(ctx context.Context, a *Asset) error
	UpdateAsset(ctx context.Context, a *Asset, reason string) error
	// DeleteAsset removes an asset nothing depends on any more.
	DeleteAsset(ctx context.Context, id, reason string) error
	// Import creates or changes the assets of a CSV file, all or none.
	Import(ctx context.Context, data []byte, reason string) (Imported, error)
	// Graph is the whole dependency graph, each asset with its state.
	Graph(ctx context.Context) (*Graph, error)
	// Analysis finds the single points of failure of the site, its rooms
	// and its buildings.
	Analysis(ctx context.Context) (*Analysis, error)
	// WhatIf is what shutting the scope down would stop.
	WhatIf(ctx context.Context, s Scope) (*Impacted, error)
	// Live is what the assets found down now stop.
	Live(ctx context.Context) (*Impacted, error)

	Zones(ctx context.Context) ([]Zone, error)
	CreateZone(ctx context.Context, z *Zone) error
	UpdateZone(ctx context.Context, z *Zone, reason string) error
	Conduits(ctx context.Context) ([]Conduit, error)
	CreateConduit(ctx context.Context, c *Conduit) error
	UpdateConduit(ctx context.Context, c *Conduit, reason string) error
	Flows(ctx context.Context) ([]Flow, error)
	CreateFlow(ctx context.Context, f *Flow) error
	DeleteFlow(ctx context.Context, id, reason string) error
	// Findings confronts the declared flows with the conduits.
	Findings(ctx context.Context) ([]Finding, error)

	Checks(ctx context.Context, assetID string) ([]Check, error)
	CreateCheck(ctx context.Context, c *Check) error
	UpdateCheck(ctx context.Context, c *Check, reason string) error
	DeleteCheck(ctx context.Context, id, reason string) error
	// Due lists the checks to run at now (the leading node's).
	Due(ctx context.Context, now time.Time) ([]Check, error)
	// Record writes checks' results; a change of state is an event.
	Record(ctx context.Context, results map[string]Result, at time.Time) (changed int, err error)
	// Events lists the state changes, the newest first, of one asset if
	// named.
	Events(ctx context.Context, assetID string, limit int) ([]Event, error)

	Plans(ctx context.Context) ([]Plan, error)
	Plan(ctx context.Context, id string) (*Plan, error)
	// DraftPlan records a planned shutdown with what its what-if finds.
	DraftPlan(ctx context.Context, p *Plan) error
}
