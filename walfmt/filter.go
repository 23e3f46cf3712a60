package walfmt

import (
	"bytes"
	"slices"
)

// RecordTypeNames returns the names of the record types ([RecordType.String])
// in the order a segment holds them: a crc, a metadata and a snapshot record
// first, then states and entries.
func RecordTypeNames() []string {
	return []string{CRCType.String(), MetadataType.String(), SnapshotType.String(), StateType.String(), EntryType.String()}
}

// EntryKindNames returns the names of the entry types ([EntryKind.String]).
func EntryKindNames() []string { return slices.Clone(entryKinds.names) }

// A Filter selects frames, as wal dump's flags do. Its lists hold names:
// [RecordTypeNames], [EntryKindNames], [PayloadKinds]; an empty list
// selects every name.
//
// Segment starts, zero-filled space and damage are selected only by the
// empty Filter. A record is selected only when RecordTypes is empty or
// names its type; then a record that is not an entry when RecordTypes is
// set or no entry field (the index range, EntryTypes, Requests, KeyPrefix)
// is, and an entry when it passes every entry field.
type Filter struct {
	StartIndex  uint64 // the first raft index (inclusive)
	EndIndex    uint64 // the last raft index (inclusive); 0 means no limit
	RecordTypes []string
	EntryTypes  []string
	Requests    []string // payload kinds
	KeyPrefix   string   // a key the request names starts with it
}

// selectsEntries reports whether a field that selects entries is set.
func (fl *Filter) selectsEntries() bool {
	return fl.StartIndex > 0 || fl.EndIndex > 0 || len(fl.EntryTypes) > 0 || len(fl.Requests) > 0 || fl.KeyPrefix != ""
}

// needsPayload reports whether [Filter.Match] looks at an entry's payload.
func (fl *Filter) needsPayload() bool { return len(fl.Requests) > 0 || fl.KeyPrefix != "" }

// Match reports whether the filter selects f. p caches f's entry's
// payload ([Payload]), decoded only when the filter looks at it.
func (fl *Filter) Match(f *Frame, p *Payload) bool {
	entries := fl.selectsEntries()
	if f.Kind != KindRecord {
		return !entries && len(fl.RecordTypes) == 0
	}
	if len(fl.RecordTypes) > 0 && !slices.Contains(fl.RecordTypes, f.Record.Type.String()) {
		return false
	}
	e := f.Entry
	if e == nil {
		return !entries || len(fl.RecordTypes) > 0
	}
	if e.Index < fl.StartIndex || (fl.EndIndex > 0 && e.Index > fl.EndIndex) ||
		len(fl.EntryTypes) > 0 && !slices.Contains(fl.EntryTypes, e.Type.String()) {
		return false
	}
	if !fl.needsPayload() {
		return true
	}
	var d Payload
	p = p.decode(e, &d)
	if len(fl.Requests) > 0 && !slices.Contains(fl.Requests, p.Kind) {
		return false
	}
	return fl.KeyPrefix == "" || slices.ContainsFunc(p.Keys(), func(k []byte) bool { return bytes.HasPrefix(k, []byte(fl.KeyPrefix)) })
}
