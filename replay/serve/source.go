package serve

import (
	bolt "go.etcd.io/bbolt"

	"github.com/etcdscope/etcdscope/mvccview"
)

// boltSource is mvccview's read-only bbolt adapter: ranges and watches
// read only the records they need, in read transactions that run
// concurrently.
type boltSource struct{ db *bolt.DB }

var (
	_ mvccview.Source = (*boltSource)(nil)
	_ mvccview.Getter = (*boltSource)(nil)
	_ mvccview.Seeker = (*boltSource)(nil)
)

func (s *boltSource) ForEach(bucket string, fn func(k, v []byte) error) error {
	return s.ForEachFrom(bucket, nil, fn)
}

func (s *boltSource) ForEachFrom(bucket string, start []byte, fn func(k, v []byte) error) error {
	return s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucket))
		if b == nil {
			return nil
		}
		c := b.Cursor()
		k, v := c.First()
		if start != nil {
			k, v = c.Seek(start)
		}
		for ; k != nil; k, v = c.Next() {
			if err := fn(k, v); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *boltSource) Get(bucket string, keys [][]byte, fn func(i int, v []byte) error) error {
	return s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucket))
		for i, k := range keys {
			var v []byte
			if b != nil {
				v = b.Get(k)
			}
			if err := fn(i, v); err != nil {
				return err
			}
		}
		return nil
	})
}
