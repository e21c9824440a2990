package app

import "galenix/internal/store"

// wireQuality subscribes the quality unit's reactions to what the other
// contexts do, each in the transaction of the command that did it: a
// sampling step of the batch record done takes the laboratory's sample;
// QA's signature (meaning approved) approves a specification in review and
// closes an OOS investigation.
func wireQuality(db *store.DB) {
	lab := db.Lab()
	db.On(store.StepDone, store.EntityBatchStep, lab.SampleTaken)
	db.On(store.SignatureGiven, store.EntitySpec, lab.SpecSigned)
	db.On(store.SignatureGiven, store.EntityInvestigation, lab.OOSSigned)
}
