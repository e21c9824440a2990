package store

// ExecRaw runs one raw statement on the write pool, outside the audited
// write path. Only tests have it: they use it to show that the database
// itself refuses what the application must never do.
func (db *DB) ExecRaw(q string, args ...any) error {
	_, err := db.write.Exec(db.rebind(q), args...)
	return err
}

// CountRows returns the number of rows in a table.
func (db *DB) CountRows(table string) (int, error) {
	var n int
	err := db.read.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n)
	return n, err
}
