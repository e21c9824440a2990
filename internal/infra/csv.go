package infra

import (
	"bytes"
	"cmp"
	"encoding/csv"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"galenix/internal/bounds"
	"galenix/internal/errs"
)

// Columns are the inventory's CSV columns, in order. Places, zones and
// dependencies are named by their codes; addresses and dependencies are
// separated by spaces.
var Columns = []string{"code", "name", "kind", "building", "room", "line", "model", "serial", "addresses", "owner", "contract",
	"contract_ends", "isa95_level", "zone", "gmp_impact", "need", "depends_on"}

// Row is one line of an inventory's CSV file: an asset with its places,
// its zone and its dependencies named by their codes, for the store to
// resolve.
type Row struct {
	// At is the line's number in the file.
	At    int
	Asset Asset
	// Building, Room, Line and Zone are the codes the line names.
	Building, Room, Line, Zone string
	// Depends are the codes of what it depends on.
	Depends []string
	// Given are the file's columns: a column the file leaves out keeps
	// a known asset's value.
	Given map[string]bool
}

// Keep gives the asset of a known code the values of the columns the
// file leaves out (its places, zone and dependencies by id); a column
// given empty clears the value.
func (r *Row) Keep(a, old *Asset) {
	for col, keep := range map[string]func(){
		"building": func() { a.BuildingID = old.BuildingID }, "room": func() { a.RoomID = old.RoomID }, "line": func() { a.LineID = old.LineID },
		"model": func() { a.Model = old.Model }, "serial": func() { a.Serial = old.Serial }, "addresses": func() { a.Addresses = old.Addresses },
		"owner": func() { a.Owner = old.Owner }, "contract": func() { a.Contract = old.Contract },
		"contract_ends": func() { a.ContractEnds = old.ContractEnds }, "isa95_level": func() { a.Level = old.Level },
		"zone": func() { a.ZoneID = old.ZoneID }, "gmp_impact": func() { a.Impact = old.Impact }, "need": func() { a.Need = old.Need },
		"depends_on": func() { a.DependsOn = old.DependsOn },
	} {
		if !r.Given[col] {
			keep()
		}
	}
}

// MaxImportRows bounds one import.
const MaxImportRows = 20000

// ParseCSV reads an inventory's CSV file (UTF-8, comma or semicolon
// separated, a header naming at least code, name and kind): its good rows,
// and each bad line's refusal in words, naming its line, for the store to
// add those it finds resolving the codes; one bad line refuses the file.
// err refuses the file as a whole (its encoding, its header, its size).
func ParseCSV(data []byte) (rows []Row, bad errs.Lines, err error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) || bytes.IndexByte(data, 0) >= 0 {
		return nil, nil, errs.Field("file", "infra.csv_encoding")
	}
	first, _, _ := bytes.Cut(data, []byte("\n"))
	sep := ','
	if bytes.Count(first, []byte(";")) > bytes.Count(first, []byte(",")) {
		sep = ';'
	}
	rd := csv.NewReader(bytes.NewReader(data))
	rd.Comma, rd.FieldsPerRecord, rd.TrimLeadingSpace = sep, -1, true
	header, herr := rd.Read()
	if herr != nil {
		return nil, nil, errs.Field("file", "infra.csv_header", strings.Join(Columns, ", "))
	}
	col, given := map[string]int{}, map[string]bool{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		if !slices.Contains(Columns, h) {
			return nil, nil, errs.Field("file", "infra.csv_column", h, strings.Join(Columns, ", "))
		}
		col[h], given[h] = i, true
	}
	for _, need := range []string{"code", "name", "kind"} {
		if _, ok := col[need]; !ok {
			return nil, nil, errs.Field("file", "infra.csv_header", strings.Join(Columns, ", "))
		}
	}
	seen := map[string]int{}
	for n := 2; ; n++ {
		rec, rerr := rd.Read()
		if errors.Is(rerr, io.EOF) {
			break
		}
		if rerr != nil {
			bad.Add(n, errs.E(errs.Invalid, "csvimport.unreadable"))
			continue
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		if len(rows) >= MaxImportRows {
			return nil, nil, errs.Field("file", "infra.csv_long", MaxImportRows)
		}
		at := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				v := strings.TrimSpace(rec[i])
				if len(v) > 1 && v[0] == '\'' && strings.ContainsRune("=+-@", rune(v[1])) {
					v = v[1:] // written so by WriteCSV (safe)
				}
				return v
			}
			return ""
		}
		r, perr := parseRow(at, given)
		if perr != nil {
			bad.Add(n, perr)
			continue
		}
		r.At, r.Given = n, given
		if k, dup := seen[r.Asset.Code]; dup {
			bad.Add(n, errs.Field("code", "infra.csv_twice", r.Asset.Code, k))
			continue
		}
		seen[r.Asset.Code] = n
		rows = append(rows, r)
		if len(bad) >= 50 {
			break
		}
	}
	if len(rows) == 0 && len(bad) == 0 {
		return nil, nil, errs.Field("file", "infra.csv_empty")
	}
	return rows, bad, nil
}

// parseRow reads one line's values and checks what it can without the
// database: the asset's own fields.
func parseRow(at func(string) string, given map[string]bool) (Row, error) {
	a := Asset{Code: at("code"), Name: at("name"), Kind: Kind(strings.ToLower(at("kind"))), Model: at("model"), Serial: at("serial"),
		Addresses: strings.Fields(at("addresses")), Owner: at("owner"), Contract: at("contract"), ContractEnds: at("contract_ends"),
		Impact: Impact(strings.ToLower(at("gmp_impact")))}
	r := Row{Building: at("building"), Room: at("room"), Line: at("line"), Zone: at("zone"), Depends: strings.Fields(at("depends_on"))}
	for _, v := range []string{r.Building, r.Room, r.Line, r.Zone} {
		if !bounds.Text(v) || utf8.RuneCountInString(v) > 40 {
			return r, errs.Field("code", "infra.code")
		}
	}
	a.Level = a.Kind.DefaultLevel()
	if v := at("isa95_level"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return r, errs.Field("isa95_level", "infra.level")
		}
		a.Level = Level(n)
	}
	if v := at("need"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return r, errs.Field("need", "infra.need", len(r.Depends))
		}
		a.Need = n
	}
	// Placeholders stand for what the store resolves, or keeps of a known
	// asset when the file leaves the column out, so that the asset's own
	// rules can be checked here; the store checks the whole again.
	if r.Building != "" || !given["building"] {
		a.BuildingID = cmp.Or(r.Building, "kept")
	}
	if r.Room != "" {
		a.RoomID = r.Room
	}
	if r.Line != "" {
		a.LineID = r.Line
	}
	if a.Kind == Group && !given["need"] {
		a.Need = 1 // a new group needs one member; a known one keeps its own
	}
	a.DependsOn = slices.Clone(r.Depends)
	if !given["depends_on"] {
		for i := range a.Need {
			a.DependsOn = append(a.DependsOn, "kept-"+strconv.Itoa(i))
		}
	}
	if slices.Contains(r.Depends, a.Code) {
		return r, errs.Field("depends_on", "infra.depends_self", a.Code)
	}
	if err := a.Validate(); err != nil {
		return r, err
	}
	if given["depends_on"] {
		r.Depends = a.DependsOn
	}
	a.BuildingID, a.RoomID, a.LineID, a.DependsOn = "", "", "", nil
	r.Asset = a
	return r, nil
}

// WriteCSV writes the inventory in the import's format: what it writes,
// an import reads back unchanged. Assets name their places, zone and
// dependencies by their codes.
func WriteCSV(w io.Writer, assets []Asset) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(Columns); err != nil {
		return err
	}
	for _, a := range assets {
		need := ""
		if a.Kind == Group {
			need = strconv.Itoa(a.Need)
		}
		if err := cw.Write([]string{safe(a.Code), safe(a.Name), string(a.Kind), safe(a.Building), safe(a.Room), safe(a.Line), safe(a.Model),
			safe(a.Serial), strings.Join(a.Addresses, " "), safe(a.Owner), safe(a.Contract), a.ContractEnds, strconv.Itoa(int(a.Level)),
			safe(a.Zone), string(a.Impact), need, strings.Join(a.Depends, " ")}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// safe keeps a spreadsheet from reading a cell as a formula: a value
// starting with = + - or @ is written after an apostrophe.
func safe(s string) string {
	if s != "" && strings.ContainsRune("=+-@", rune(s[0])) {
		return "'" + s
	}
	return s
}
