package app

import "galenix/internal/store"

// wireQuality subscribes the quality unit's reactions to what the other
// contexts do, each in the transaction of the command that did it: a
// sampling step of the batch record done takes the laboratory's sample.
// (Its reactions to signatures on its own records, a specification's
// approval or an investigation's closure, are the store's: store.Open.)
func wireQuality(db *store.DB) {
	db.On(store.StepDone, store.EntityBatchStep, db.Lab().SampleTaken)
}
