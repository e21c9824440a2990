package environment

import "time"

// BatchReport is the environment of the room where a batch was made, over
// the time it was made: each sensor's readings summarized against its
// limits, and the alarms of the period. It names no person: a client
// laboratory receives it with its batch when its quality agreement says
// so.
type BatchReport struct {
	BatchID  string    `json:"batch_id"`
	Lot      string    `json:"lot"`
	RoomCode string    `json:"room_code"`
	RoomName string    `json:"room_name"`
	Grade    string    `json:"grade"`
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	Sensors  []SensorSummary
	Alarms   []Alarm
}

// SensorSummary is a sensor's readings of a period summarized: their
// count, least, greatest and mean value, with the sensor's limits.
type SensorSummary struct {
	Sensor   Sensor
	Limits   *Limits
	Count    int64
	Min, Max float64
	Mean     float64
}

// Blank removes from the report's alarms who acknowledged them and why:
// what a client laboratory reads.
func (r *BatchReport) Blank() {
	for i := range r.Alarms {
		a := &r.Alarms[i]
		a.AckBy, a.AckComment, a.AckSignatureID = "", "", ""
	}
}
