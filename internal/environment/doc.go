// Package environment holds the rules of environmental monitoring: the
// sensors of the clean rooms, cold rooms, equipment and lines, their
// limits, the intake of their readings, the alarms those raise, the
// batches an excursion concerns, and the compaction and roll-ups of the
// readings kept. It holds types and pure rules only — no SQL, no HTTP, no
// clock: every rule is given the time it decides at, so that the store,
// the intake and the pages built on it decide the same way on every node
// and a test replays any series.
//
// The pieces, in the order a reading meets them:
//
//   - Sensor (sensor.go): what it measures (Kind), where it is placed
//     (Place, PlaceID) and mounted (Location), its calibration; FlagsAt
//     flags a reading taken after the calibration fell due or after the
//     sensor was moved from where it was calibrated.
//   - Limits (limits.go): alert and action limits, low and high, at rest
//     and in operation; the delay before a level rises, the deadband
//     before it falls, an N-of-M rule for particle counts, the silence
//     and gap delays. DefaultLimits proposes the EU GMP Annex 1 (2022)
//     Table 5 maxima of a room's grade; RoomLimits the room's own targets.
//   - RoomStateAt (state.go): a room is in operation while a batch is in
//     progress on a line standing in it — the batch record decides.
//   - Intake.Check (intake.go) refuses a reading with one counted reason
//     (Refusal); Tracker (tracker.go) follows a sensor's sequence numbers:
//     duplicates, late and out-of-order readings, gaps and their filling.
//   - Machine (machine.go): the alarm state machine, normal → alert →
//     action and back, producing Alarm records (alarm.go) whose messages
//     are coded texts; silence and data-gap alarms through Tick; Replay
//     evaluates a whole series afresh when late readings fill a gap.
//   - BatchesConcerned (state.go): the batches in progress in a room or on
//     a line during an action-level excursion.
//   - EncodeBlock and DecodeBlock (block.go): the lossless, canonical
//     compaction of old readings, and BlockHash, what the audit trail
//     keeps of a block.
//   - Roll and Merge (rollup.go): the 1-minute and 1-hour roll-ups plots
//     read.
//
// Readings do not go through the audit trail one by one; the store seals
// each committed batch of them by its digest, and each compacted block by
// its BlockHash.
package environment
