package mvccview

import "sort"

// keyIndex is one user key's history as etcd's in-memory index keeps it
// (server/storage/mvcc/key_index.go): generations, each a run of revisions
// from a create to the tombstone that closes it, the last one open.
type keyIndex struct {
	key         string
	modified    Revision
	generations []generation
}

type generation struct {
	ver     int64
	created Revision
	revs    []Revision
}

func (g *generation) empty() bool { return g == nil || len(g.revs) == 0 }

// put appends a revision to the open generation.
func (ki *keyIndex) put(rev Revision) {
	if len(ki.generations) == 0 {
		ki.generations = append(ki.generations, generation{})
	}
	g := &ki.generations[len(ki.generations)-1]
	if len(g.revs) == 0 {
		g.created = rev
	}
	g.revs = append(g.revs, rev)
	g.ver++
	ki.modified = rev
}

// restore starts a key's index from the first record the scan meets.
func (ki *keyIndex) restore(created, modified Revision, ver int64) {
	ki.modified = modified
	ki.generations = append(ki.generations, generation{created: created, ver: ver, revs: []Revision{modified}})
}

// restoreTombstone starts a key's index from a tombstone.
func (ki *keyIndex) restoreTombstone(rev Revision) {
	ki.restore(Revision{}, rev, 1)
	ki.generations = append(ki.generations, generation{})
}

// tombstone closes the open generation; false when it is empty (etcd
// logs and ignores that).
func (ki *keyIndex) tombstone(rev Revision) bool {
	if ki.generations[len(ki.generations)-1].empty() {
		return false
	}
	ki.put(rev)
	ki.generations = append(ki.generations, generation{})
	return true
}

func (ki *keyIndex) isEmpty() bool {
	return len(ki.generations) == 1 && ki.generations[0].empty()
}

// findGeneration returns the generation live at main revision rev, or nil
// when the key did not exist at rev.
func (ki *keyIndex) findGeneration(rev int64) *generation {
	last := len(ki.generations) - 1
	for cg := last; cg >= 0; cg-- {
		g := &ki.generations[cg]
		if len(g.revs) == 0 {
			continue
		}
		if cg != last && g.revs[len(g.revs)-1].Main <= rev {
			return nil // closed by a tombstone at or before rev
		}
		if g.revs[0].Main <= rev {
			return g
		}
	}
	return nil
}

// get returns the revision of the key live at rev, its generation's create
// revision and its version.
func (ki *keyIndex) get(rev int64) (mod, created Revision, ver int64, ok bool) {
	if ki.isEmpty() {
		return
	}
	g := ki.findGeneration(rev)
	if g.empty() {
		return
	}
	for n := len(g.revs) - 1; n >= 0; n-- {
		if g.revs[n].Main <= rev {
			return g.revs[n], g.created, g.ver - int64(len(g.revs)-n-1), true
		}
	}
	return
}

// keep adds to avail the revision of the key that HashKV keeps at rev
// (etcd key_index.go keep): the newest revision at or below rev in the
// generation live at rev, unless it is the tombstone that closes a
// generation.
func (ki *keyIndex) keep(rev int64, avail map[Revision]struct{}) {
	ki.available(rev, avail, true)
}

// available implements etcd's doCompact: the newest revision at or below
// rev in the first generation not closed before rev. A physical compaction
// keeps it even when it is a closing tombstone; HashKV's keep drops that.
func (ki *keyIndex) available(rev int64, avail map[Revision]struct{}, dropClosingTombstone bool) {
	if ki.isEmpty() {
		return
	}
	gi := 0
	for gi < len(ki.generations)-1 {
		g := &ki.generations[gi]
		if g.revs[len(g.revs)-1].Main >= rev {
			break
		}
		gi++
	}
	g := &ki.generations[gi]
	ri := -1
	for n := len(g.revs) - 1; n >= 0; n-- {
		if g.revs[n].Main <= rev {
			avail[g.revs[n]] = struct{}{}
			ri = n
			break
		}
	}
	if dropClosingTombstone && !g.empty() && ri == len(g.revs)-1 && gi != len(ki.generations)-1 {
		delete(avail, g.revs[ri])
	}
}

// index is the whole key index, with keys sorted for ranges.
type index struct {
	byKey map[string]*keyIndex
	keys  []string // sorted
}

func newIndex() *index { return &index{byKey: map[string]*keyIndex{}} }

// add applies one key-bucket record in revision order, as etcd's
// restoreIntoIndex does.
func (ix *index) add(key string, rev Revision, tomb bool, kv *KeyValue) {
	ki, ok := ix.byKey[key]
	if !ok {
		ki = &keyIndex{key: key}
		if tomb {
			ki.restoreTombstone(rev)
		} else {
			ki.restore(Revision{Main: kv.CreateRevision}, rev, kv.Version)
		}
		ix.byKey[key] = ki
		return
	}
	if tomb {
		ki.tombstone(rev)
		return
	}
	ki.put(rev)
}

func (ix *index) sortKeys() {
	ix.keys = make([]string, 0, len(ix.byKey))
	for k := range ix.byKey {
		ix.keys = append(ix.keys, k)
	}
	sort.Strings(ix.keys)
}

// between returns the sorted keys in [key, end): end nil means key alone,
// end empty means every key from key on.
func (ix *index) between(key, end []byte) []string {
	if end == nil {
		if _, ok := ix.byKey[string(key)]; ok {
			return []string{string(key)}
		}
		return nil
	}
	i := sort.SearchStrings(ix.keys, string(key))
	j := len(ix.keys)
	if len(end) > 0 {
		j = sort.SearchStrings(ix.keys, string(end))
	}
	if i >= j {
		return nil
	}
	return ix.keys[i:j]
}

// compactAt is etcd's treeIndex.Compact: the revisions a physical
// compaction at rev keeps.
func (ix *index) compactAt(rev int64) map[Revision]struct{} {
	avail := map[Revision]struct{}{}
	for _, ki := range ix.byKey {
		ki.available(rev, avail, false)
	}
	return avail
}

// keepAt is etcd's treeIndex.Keep: the revisions HashKV keeps at rev.
func (ix *index) keepAt(rev int64) map[Revision]struct{} {
	avail := map[Revision]struct{}{}
	for _, ki := range ix.byKey {
		ki.keep(rev, avail)
	}
	return avail
}
