package boltfmt

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
)

// Info is what a db's meta pages say, as bolt info shows it.
type Info struct {
	Size              int64   `json:"size"`
	PageSize          int     `json:"page_size"`
	Metas             [2]Meta `json:"metas"`
	Active            int     `json:"active_meta"` // -1 when neither meta is valid
	Why               string  `json:"why"`
	HWM               PageID  `json:"hwm"`
	FilePages         PageID  `json:"file_pages"`
	FreelistPersisted bool    `json:"freelist_persisted"`
}

// Info returns what the db's meta pages say.
func (db *DB) Info() *Info {
	return &Info{Size: db.Size(), PageSize: db.PageSize, Metas: db.Metas, Active: db.Active, Why: db.Why, HWM: db.HWM(),
		FilePages: db.FilePages(), FreelistPersisted: db.Meta().Freelist != NoFreelist}
}

// MarshalJSON writes the meta as bolt info does: the verdict, then the
// fields that choose it and name its tree. (A meta page's layout gives
// every field, in their on-disk order: [PageLayout.MarshalJSON].)
func (m Meta) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Valid    bool   `json:"valid"`
		Problem  string `json:"problem,omitempty"`
		TxID     uint64 `json:"txid"`
		Root     PageID `json:"root"`
		Freelist string `json:"freelist"`
		HWM      PageID `json:"hwm"`
		PageSize uint32 `json:"page_size"`
		Checksum string `json:"checksum"`
		Computed string `json:"computed_checksum"`
	}{m.Valid(), errorText(m.Problem), m.TxID, m.Root, freelistText(m.Freelist), m.HWM, m.PageSize,
		fmt.Sprintf("%016x", m.Checksum), fmt.Sprintf("%016x", m.Computed)})
}

// Describe writes the info as bolt info prints it: [Info.DescribeHeader],
// then a line a meta.
func (i *Info) Describe(w io.Writer, file string) {
	i.DescribeHeader(w, file)
	_, rows := i.Rows()
	for _, r := range rows {
		fmt.Fprintf(w, "meta %-10s valid=%-5s txid=%s root=%s freelist=%s hwm=%s page_size=%s checksum=%s", r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7])
		if r[8] != "" {
			fmt.Fprintf(w, " problem: %s", r[8])
		}
		fmt.Fprintln(w)
	}
}

// DescribeHeader writes what bolt info prints above the metas: the file,
// named file, with its sizes, and why the active meta is the one.
func (i *Info) DescribeHeader(w io.Writer, file string) {
	fmt.Fprintf(w, "file: %s, %d bytes (%d pages of %d bytes), high-water mark %d\n", file, i.Size, i.FilePages, i.PageSize, i.HWM)
	fmt.Fprintf(w, "meta: %s\n", i.Why)
}

// Rows are the table of the metas bolt info prints, a row a meta.
func (i *Info) Rows() (hdr []string, rows [][]string) {
	hdr = []string{"META", "VALID", "TXID", "ROOT", "FREELIST", "HWM", "PAGE SIZE", "CHECKSUM", "PROBLEM"}
	for n, m := range i.Metas {
		name := strconv.Itoa(n)
		if n == i.Active {
			name += " (active)"
		}
		rows = append(rows, []string{name, strconv.FormatBool(m.Valid()), strconv.FormatUint(m.TxID, 10), strconv.FormatUint(uint64(m.Root), 10),
			freelistText(m.Freelist), strconv.FormatUint(uint64(m.HWM), 10), strconv.FormatUint(uint64(m.PageSize), 10), fmt.Sprintf("%016x", m.Checksum), errorText(m.Problem)})
	}
	return hdr, rows
}
