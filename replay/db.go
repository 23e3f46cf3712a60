package replay

import (
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/etcdscope/etcdscope/mvccview"
)

// etcd's buckets (server/storage/schema/bucket.go). On-disk format; do not change.
var buckets = []string{"key", "meta", "lease", "alarm", "auth", "authUsers", "authRoles", "members", "members_removed", "cluster"}

// writer batches writes into bbolt transactions, as etcd's backend does
// (server/storage/backend: a commit every 10,000 operations).
type writer struct {
	db      *bolt.DB
	tx      *bolt.Tx
	pending int
}

const batchOps = 10000

func openWriter(path string) (*writer, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return nil, err
	}
	w := &writer{db: db}
	if err := w.begin(); err != nil {
		db.Close()
		return nil, err
	}
	for _, b := range buckets {
		if _, err := w.tx.CreateBucketIfNotExists([]byte(b)); err != nil {
			w.abort()
			return nil, err
		}
	}
	return w, nil
}

func (w *writer) begin() error {
	tx, err := w.db.Begin(true)
	if err != nil {
		return err
	}
	w.tx, w.pending = tx, 0
	return nil
}

func (w *writer) abort() {
	if w.tx != nil {
		w.tx.Rollback()
	}
	w.db.Close()
}

func (w *writer) put(bucket string, k, v []byte) error {
	w.pending++
	return w.tx.Bucket([]byte(bucket)).Put(k, v)
}

func (w *writer) del(bucket string, k []byte) error {
	w.pending++
	return w.tx.Bucket([]byte(bucket)).Delete(k)
}

// maybeCommit commits once the batch is full.
func (w *writer) maybeCommit() error {
	if w.pending < batchOps {
		return nil
	}
	if err := w.tx.Commit(); err != nil {
		return err
	}
	return w.begin()
}

// close commits what is left and closes the db.
func (w *writer) close() error {
	err := w.tx.Commit()
	w.tx = nil
	if cerr := w.db.Close(); err == nil {
		err = cerr
	}
	return err
}

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// putRevision writes a key-bucket record.
func (w *writer) putRevision(rev mvccview.Revision, tomb bool, kv mvccview.KeyValue) error {
	return w.put("key", mvccview.AppendRevisionKey(nil, rev, tomb), mvccview.AppendKeyValue(nil, kv))
}

// setIndex writes meta/consistent_index and meta/term, as etcd's backend
// hooks do on every commit.
func (w *writer) setIndex(index, term uint64) error {
	if err := w.put("meta", []byte("consistent_index"), u64(index)); err != nil {
		return err
	}
	if term == 0 {
		return nil
	}
	return w.put("meta", []byte("term"), u64(term))
}

func (w *writer) compactMark(name string, rev int64) error {
	return w.put("meta", []byte(name), mvccview.AppendRevisionKey(nil, mvccview.Revision{Main: rev}, false))
}

// deleteRevisions removes key-bucket records with main revision at or
// below rev that keep does not hold, as etcd's physical compaction.
func (w *writer) deleteRevisions(rev int64, keep map[mvccview.Revision]struct{}) (int, error) {
	c := w.tx.Bucket([]byte("key")).Cursor()
	var doomed [][]byte
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		r, _, err := mvccview.DecodeRevisionKey(k)
		if err != nil {
			return 0, fmt.Errorf("compacting: %w", err)
		}
		if r.Main > rev {
			break
		}
		if _, ok := keep[r]; !ok {
			doomed = append(doomed, append([]byte(nil), k...))
		}
	}
	for _, k := range doomed {
		if err := w.del("key", k); err != nil {
			return 0, err
		}
	}
	return len(doomed), nil
}
