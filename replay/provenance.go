package replay

import (
	"encoding/binary"
	"errors"
	"os"

	bolt "go.etcd.io/bbolt"
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

// ReadProvenance reads the file WriteProvenance wrote, read-only and
// without a lock held for long; a missing file gives os.ErrNotExist.
func ReadProvenance(path string) (map[int64]Position, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	db, err := bolt.Open(path, 0o400, &bolt.Options{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	out := map[int64]Position{}
	err = db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(provBucket)
		if b == nil {
			return errors.New("replay: not a provenance file")
		}
		return b.ForEach(func(k, v []byte) error {
			if len(k) != 8 || len(v) < 24 {
				return nil
			}
			out[int64(binary.BigEndian.Uint64(k))] = Position{
				Index: binary.BigEndian.Uint64(v), Term: binary.BigEndian.Uint64(v[8:]),
				Offset: int64(binary.BigEndian.Uint64(v[16:])), Segment: string(v[24:]),
			}
			return nil
		})
	})
	return out, err
}
