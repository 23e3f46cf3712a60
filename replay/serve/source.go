package serve

import (
	"bytes"

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

// Get looks every key up with one cursor: bbolt's Bucket.Get makes a new
// cursor per key.
func (s *boltSource) Get(bucket string, keys [][]byte, fn func(i int, v []byte) error) error {
	return s.db.View(func(tx *bolt.Tx) error {
		var c *bolt.Cursor
		if b := tx.Bucket([]byte(bucket)); b != nil {
			c = b.Cursor()
		}
		for i, k := range keys {
			var v []byte
			if c != nil {
				if ck, cv := c.Seek(k); bytes.Equal(ck, k) {
					v = cv
				}
			}
			if err := fn(i, v); err != nil {
				return err
			}
		}
		return nil
	})
}
