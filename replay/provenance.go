package replay

import (
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/etcdscope/etcdscope/boltfmt"
	"github.com/etcdscope/etcdscope/mvccview"
)

// ProvenanceFile is the name, at the root of a data dir RunDataDir writes,
// of the file that maps each main revision to the WAL entry that produced
// it. etcd ignores it.
const ProvenanceFile = "etcdscope-provenance.db"

var provBucket = []byte("revisions")

// WriteProvenance writes the map as a bbolt file: key the main revision
// (8 bytes big-endian), value index, term, offset (8 bytes each) and the
// segment name.
func WriteProvenance(path string, ps []Provenance) error {
	return writeProvenance(path, func(f func(Provenance) error) error {
		for _, p := range ps {
			if err := f(p); err != nil {
				return err
			}
		}
		return nil
	})
}

// writeProvenance writes what each hands out, committing every
// provBatch revisions so that memory stays bounded.
func writeProvenance(path string, each func(func(Provenance) error) error) (err error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{NoFreelistSync: true})
	if err != nil {
		return err
	}
	defer func() {
		if cerr := db.Close(); err == nil {
			err = cerr
		}
	}()
	tx, err := db.Begin(true)
	if err != nil {
		return err
	}
	defer func() {
		if tx != nil {
			tx.Rollback()
		}
	}()
	b, err := tx.CreateBucket(provBucket)
	if err != nil {
		return err
	}
	n := 0
	err = each(func(p Provenance) error {
		if n++; n%provBatch == 0 {
			if err := tx.Commit(); err != nil {
				tx = nil
				return err
			}
			if tx, err = db.Begin(true); err != nil {
				return err
			}
			b = tx.Bucket(provBucket)
		}
		b.FillPercent = 1 // revisions come in order
		v := binary.BigEndian.AppendUint64(make([]byte, 0, 24+len(p.Segment)), p.Index)
		v = binary.BigEndian.AppendUint64(v, p.Term)
		v = binary.BigEndian.AppendUint64(v, uint64(p.Offset))
		v = append(v, p.Segment...)
		return b.Put(binary.BigEndian.AppendUint64(nil, uint64(p.Revision)), v)
	})
	if err != nil {
		return err
	}
	err = tx.Commit()
	tx = nil
	return err
}

const provBatch = 100_000

// ProvenanceLookup answers, one revision at a time, from the file
// WriteProvenance wrote: each lookup reads one page per tree level, so
// memory stays bounded whatever the file's size. It reads through
// boltfmt: read-only, no lock.
type ProvenanceLookup struct {
	db *boltfmt.DB
}

// String is the entry as etcdscope prints it: its raft index and term,
// and where it is in the WAL.
func (p Position) String() string {
	return fmt.Sprintf("raft index %d term %d, %s:%#x", p.Index, p.Term, p.Segment, p.Offset)
}

// OpenProvenance opens the file for lookups; a missing file gives
// os.ErrNotExist.
func OpenProvenance(path string) (*ProvenanceLookup, error) {
	db, err := boltfmt.Open(path, boltfmt.Options{})
	if err != nil {
		return nil, err
	}
	return &ProvenanceLookup{db: db}, nil
}

// Lookup returns the entry that produced main revision rev.
func (p *ProvenanceLookup) Lookup(rev int64) (Position, bool) {
	f, err := p.db.Get([]string{string(provBucket)}, binary.BigEndian.AppendUint64(nil, uint64(rev)))
	if err != nil {
		return Position{}, false
	}
	v := f.Element.Value
	if len(v) < 24 {
		return Position{}, false
	}
	return Position{Index: binary.BigEndian.Uint64(v), Term: binary.BigEndian.Uint64(v[8:]),
		Offset: int64(binary.BigEndian.Uint64(v[16:])), Segment: string(v[24:])}, true
}

// Annotate sets the Source of each record of h to the entry that
// produced its revision, where the file knows it.
func (p *ProvenanceLookup) Annotate(h *mvccview.History) {
	for i, r := range h.Records {
		if pos, ok := p.Lookup(r.Rev.Main); ok {
			h.Records[i].Source = pos
		}
	}
}

// Close closes the file.
func (p *ProvenanceLookup) Close() error { return p.db.Close() }
