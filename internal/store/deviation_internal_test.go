package store

import (
	"context"
	"testing"

	"galenix/internal/identity"
	"galenix/internal/quality"
)

// TestBatchDeviations: a batch's deviations are those it opened and those
// whose assessment names it; a batch id that no impact names finds none.
func TestBatchDeviations(t *testing.T) {
	db, err := Open(context.Background(), Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := identity.WithActor(context.Background(), identity.System)
	const (
		client = "0195f1a2-0000-7000-8000-0000000c1100"
		b1     = "0195f1a2-0000-7000-8000-0000000b0001"
		b2     = "0195f1a2-0000-7000-8000-0000000b0002"
	)
	err = db.Write(ctx, "test.seed", "", func(tx *Tx) error {
		if _, err := tx.exec(`INSERT INTO clients (id, code, name) VALUES (?, 'C', 'Client')`, client); err != nil {
			return err
		}
		// Without batches (no foreign key to satisfy): one impacting b1,
		// one impacting b2 only.
		for i, impacts := range []string{`[{"batch_id":"` + b1 + `","lot":"L1"}]`, `[{"batch_id":"` + b2 + `","lot":"L2"}]`} {
			d := &quality.Deviation{ClientID: client, Code: "DEV-T" + string(rune('1'+i)), State: quality.DeviationOpen, Source: quality.SourceManual,
				Title: "Test", Impacts: []quality.Impact{}}
			d.ID = NewID()
			if err := createClientRecord(tx, devTable, d.ID, client, d, deviationRow(d)); err != nil {
				return err
			}
			if _, err := tx.exec(`UPDATE deviations SET impacts = ? WHERE id = ?`, impacts, d.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Read(ctx, func(tx *Tx) error {
		got, err := tx.batchDeviations(b1)
		if err != nil {
			return err
		}
		if len(got) != 1 || got[0].Code != "DEV-T1" || got[0].Impacts[0].Lot != "L1" {
			t.Errorf("deviations of b1: %+v", got)
		}
		none, err := tx.batchDeviations("0195f1a2-0000-7000-8000-0000000b0003")
		if err != nil || len(none) != 0 {
			t.Errorf("deviations of a batch no one names: %+v %v", none, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
