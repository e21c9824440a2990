package store

import (
	"testing"
	"time"

	"galenix/internal/environment"
	"galenix/internal/production"
	"galenix/internal/quality"
	"galenix/internal/site"
)

// TestRowsNameTheirColumns: the row of every entity written through
// create and update names exactly its table's columns, so that a value
// never lands in another column and none is forgotten.
func TestRowsNameTheirColumns(t *testing.T) {
	rows := map[string]struct {
		t table
		r row
	}{
		"building":  {buildingTable, buildingRow(&site.Building{})},
		"room":      {roomTable, roomRow(&site.Room{})},
		"line":      {lineTable, lineRow(&site.Line{})},
		"equipment": {equipmentTable, equipmentRow(&site.Equipment{})},
		"shift":     {shiftTable, shiftRow(&site.Shift{})},
		"team":      {teamTable, teamRow(&site.Team{})},
		"person":    {personTable, personRow(&site.Person{})},
		"product":   {productTable, productRow(&production.Product{})},
		"master":    {masterTable, masterRow(&production.Master{})},
		"order":     {orderTable, orderRow(&production.Order{}, time.Now())},
		// The laboratory's.
		"spec":      {specTable, specRow(&quality.Spec{})},
		"sample":    {sampleTable, sampleRow(&quality.Sample{})},
		"result":    {resultTable, resultRow(&quality.Result{})},
		"oos":       {oosTable, oosRow(&quality.Investigation{})},
		"deviation": {devTable, deviationRow(&quality.Deviation{})},
		"action":    {actionTable, actionRow("", "", 1, &quality.Action{})},
		// Environmental monitoring's.
		"environment_sensor": {sensorTable, sensorRow(&environment.Sensor{})},
		"environment_limits": {limitsTable, mustRow(limitsRow(&environment.Limits{}))},
	}
	for name, c := range rows {
		if _, err := c.t.values(c.r); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	// A row that misses a column, or names one the table has not, is
	// refused.
	r := buildingRow(&site.Building{})
	delete(r, "role")
	if _, err := buildingTable.values(r); err == nil {
		t.Error("a row without a column was accepted")
	}
	r["rôle"] = "offices"
	if _, err := buildingTable.values(r); err == nil {
		t.Error("a row with a stranger column was accepted")
	}
}

func mustRow(r row, err error) row {
	if err != nil {
		panic(err)
	}
	return r
}
