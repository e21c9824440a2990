package demo

import (
	"context"
	"net"

	"galenix/internal/identity"
	"galenix/internal/infra"
	"galenix/internal/store"
)

// selfNode is the demo's galenix node the running server stands for.
const selfNode = "B90-GNX-1"

// SuperviseSelf gives the demo's first galenix node an HTTP check of the
// running server's own /healthz at addr (the address it listens on): the
// demo's one piece of infrastructure that really answers, so that its
// supervision shows a state that is true. Nothing else of the demo's
// network exists; its other assets stay unsupervised. A check already
// there is moved to the address of this run. Served over TLS, the check
// is a TLS handshake reading its certificate's end instead.
func SuperviseSelf(ctx context.Context, db *store.DB, addr string, tls bool) error {
	ctx = identity.WithActor(ctx, identity.System)
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	kind, target := infra.CheckHTTP, "http://"+net.JoinHostPort(host, port)+"/healthz"
	if tls {
		kind, target = infra.CheckTLS, net.JoinHostPort(host, port)
	}
	svc := db.Infra()
	as, err := svc.Assets(ctx, infra.Filter{Q: selfNode})
	if err != nil {
		return err
	}
	var node *infra.Asset
	for i := range as {
		if as[i].Code == selfNode {
			node = &as[i]
		}
	}
	if node == nil {
		return nil // not the demo's infrastructure
	}
	checks, err := svc.Checks(ctx, node.ID)
	if err != nil {
		return err
	}
	if len(checks) > 0 {
		c := checks[0]
		if c.Kind == kind && c.Target == target {
			return nil
		}
		c.Kind, c.Target, c.Version = kind, target, 0
		return svc.UpdateCheck(ctx, &c, "Démonstration : l'adresse du serveur de cette exécution")
	}
	return svc.CreateCheck(ctx, &infra.Check{AssetID: node.ID, Kind: kind, Target: target, Every: 15})
}
