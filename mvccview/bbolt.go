package mvccview

import (
	"bytes"

	bolt "go.etcd.io/bbolt"
)

// BBoltSource reads buckets through go.etcd.io/bbolt, from a db the caller
// opened: each call in a read transaction of its own, so that calls run
// concurrently, and ranges and watches read only the records they need.
// bbolt maps the file and, even read-only, takes a shared lock on it: give
// it a private copy of evidence, never a live member's db. Unlike
// [BoltSource] it does not tolerate damage (bbolt may panic on a damaged
// page).
type BBoltSource struct{ DB *bolt.DB }

var (
	_ Source = (*BBoltSource)(nil)
	_ Getter = (*BBoltSource)(nil)
	_ Seeker = (*BBoltSource)(nil)
)

// ForEach calls fn for every record of the named top-level bucket, none
// when there is no such bucket.
func (s *BBoltSource) ForEach(bucket string, fn func(k, v []byte) error) error {
	return s.ForEachFrom(bucket, nil, fn)
}

// ForEachFrom is ForEach from the first key at or after start.
func (s *BBoltSource) ForEachFrom(bucket string, start []byte, fn func(k, v []byte) error) error {
	return s.DB.View(func(tx *bolt.Tx) error {
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
func (s *BBoltSource) Get(bucket string, keys [][]byte, fn func(i int, v []byte) error) error {
	return s.DB.View(func(tx *bolt.Tx) error {
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
