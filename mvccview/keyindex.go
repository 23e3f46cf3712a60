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

// Compact compacts the index at rev as etcd's treeIndex.Compact does and
// returns the key-bucket records the compaction deletes (revision and
// whether it is a tombstone): per key, everything at or below rev but the
// newest revision of the generation live at rev; generations closed before
// rev and keys left empty disappear.
func (x *Index) Compact(rev int64) []DeletedRevision {
	var out []DeletedRevision
	for key, ki := range x.ix.byKey {
		if ki.isEmpty() {
			delete(x.ix.byKey, key)
			continue
		}
		avail := map[Revision]struct{}{}
		ki.available(rev, avail, false)
		gi := 0
		for gi < len(ki.generations)-1 && ki.generations[gi].revs[len(ki.generations[gi].revs)-1].Main < rev {
			gi++
		}
		for g := 0; g <= gi; g++ {
			gen := &ki.generations[g]
			closed := g < len(ki.generations)-1
			keepFrom := len(gen.revs)
			for i, r := range gen.revs {
				if r.Main > rev {
					keepFrom = min(keepFrom, i)
					continue
				}
				if _, ok := avail[r]; ok {
					keepFrom = min(keepFrom, i)
					continue
				}
				out = append(out, DeletedRevision{Rev: r, Tombstone: closed && i == len(gen.revs)-1})
			}
			if g == gi {
				gen.revs = gen.revs[keepFrom:]
			}
		}
		ki.generations = ki.generations[gi:]
		if ki.isEmpty() {
			delete(x.ix.byKey, key)
		}
	}
	return out
}

// DeletedRevision is a key-bucket record a compaction removes.
type DeletedRevision struct {
	Rev       Revision
	Tombstone bool
}
