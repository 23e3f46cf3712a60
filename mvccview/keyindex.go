package mvccview

// Index is etcd's in-memory key index (generations of revisions per key),
// for writers that build a store revision by revision (replay). Readers get
// theirs from [Open].
type Index struct{ ix *index }

// NewIndex returns an empty index.
func NewIndex() *Index { return &Index{ix: newIndex()} }

// Put records a put of key at rev.
func (x *Index) Put(key string, rev Revision) {
	ki, ok := x.ix.byKey[key]
	if !ok {
		ki = &keyIndex{key: key}
		x.ix.byKey[key] = ki
	}
	ki.put(rev)
}

// Tombstone records a deletion of key at rev; false when the key is not
// live (nothing to delete).
func (x *Index) Tombstone(key string, rev Revision) bool {
	ki, ok := x.ix.byKey[key]
	if !ok || len(ki.generations) == 0 {
		return false
	}
	return ki.tombstone(rev)
}

// Get returns the revision of key live at main revision rev, the create
// revision of its generation and its version.
func (x *Index) Get(key string, rev int64) (mod, created Revision, ver int64, ok bool) {
	ki, found := x.ix.byKey[key]
	if !found {
		return
	}
	return ki.get(rev)
}

// Keep returns the revisions HashKV keeps at rev.
func (x *Index) Keep(rev int64) map[Revision]struct{} { return x.ix.keepAt(rev) }

// CompactKeep returns the revisions a physical compaction at rev keeps.
func (x *Index) CompactKeep(rev int64) map[Revision]struct{} { return x.ix.compactAt(rev) }

// Keys returns every key ever put, unsorted.
func (x *Index) Keys() []string {
	out := make([]string, 0, len(x.ix.byKey))
	for k := range x.ix.byKey {
		out = append(out, k)
	}
	return out
}

// Restore adds one key-bucket record read in revision order, as etcd's
// restoreIntoIndex does when it rebuilds the index from a db: a key's first
// record starts a generation with the record's create revision and
// version (a tombstone, a closed one).
func (x *Index) Restore(key string, rev Revision, tomb bool, kv *KeyValue) {
	x.ix.add(key, rev, tomb, kv)
}
