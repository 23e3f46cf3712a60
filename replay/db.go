package replay

import (
	"encoding/binary"

	bolt "go.etcd.io/bbolt"

	"github.com/etcdscope/etcdscope/mvccview"
)

// writer writes into bbolt in batches of operations, as etcd's backend
// does (server/storage/backend: a commit every 10,000 operations), on a
// goroutine of its own: the replay never reads back what it writes (its
// state is in memory), so applying and writing run on two cores. Batches
// are applied in order; an error is reported by close.
type writer struct {
	db      *bolt.DB
	batch   []op
	pending int
	// arena holds the keys and values of the open batch: they must stay
	// valid until the batch is written, and one chunk beats a slice each.
	arena  []byte
	ch     chan []op
	done   chan error
	closed bool
}

type op struct {
	bucket string
	k, v   []byte
	del    bool
}

const arenaChunk = 4 << 20

// alloc returns n bytes from the batch's arena (empty, capacity n).
func (w *writer) alloc(n int) []byte {
	if cap(w.arena)-len(w.arena) < n {
		w.arena = make([]byte, 0, max(arenaChunk, n))
	}
	b := w.arena[len(w.arena) : len(w.arena) : len(w.arena)+n]
	w.arena = w.arena[:len(w.arena)+n]
	return b
}

// etcd's batch; measured best here too (bbolt inserts into unsplit dirty
// nodes, which grows quadratic with the batch).
const batchOps = 10000

func openWriter(path string) (*writer, error) {
	// Batches are not synced one by one: the output is only used once it is
	// complete, and close syncs it once (and RunDataDir renames it into place).
	db, err := bolt.Open(path, 0o600, &bolt.Options{NoFreelistSync: true, FreelistType: bolt.FreelistMapType, NoSync: true})
	if err != nil {
		return nil, err
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range mvccview.Buckets() {
			if _, err := tx.CreateBucketIfNotExists([]byte(b)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	w := &writer{db: db, ch: make(chan []op, 2), done: make(chan error, 1)}
	go w.consume()
	return w, nil
}

// consume writes batches in order until the channel closes.
func (w *writer) consume() {
	var err error
	for batch := range w.ch {
		if err != nil {
			continue // drain after a failure
		}
		err = w.db.Update(func(tx *bolt.Tx) error {
			bs := map[string]*bolt.Bucket{}
			for _, o := range batch {
				b := bs[o.bucket]
				if b == nil {
					b = tx.Bucket([]byte(o.bucket))
					bs[o.bucket] = b
				}
				var err error
				if o.del {
					err = b.Delete(o.k)
				} else {
					err = b.Put(o.k, o.v)
				}
				if err != nil {
					return err
				}
			}
			return nil
		})
	}
	w.done <- err
}

func (w *writer) put(bucket string, k, v []byte) error {
	w.pending++
	w.batch = append(w.batch, op{bucket: bucket, k: k, v: v})
	return nil
}

func (w *writer) del(bucket string, k []byte) error {
	w.pending++
	w.batch = append(w.batch, op{bucket: bucket, k: k, del: true})
	return nil
}

func (w *writer) flush() {
	if len(w.batch) > 0 {
		w.ch <- w.batch
	}
	w.batch, w.pending, w.arena = make([]op, 0, batchOps), 0, nil
}

// maybeCommit hands the batch to the writing goroutine once it is full.
func (w *writer) maybeCommit() error {
	if w.pending >= batchOps {
		w.flush()
	}
	return nil
}

// close writes what is left, syncs and closes the db, and reports the
// first write error.
func (w *writer) close() error {
	w.flush()
	close(w.ch)
	w.closed = true
	err := <-w.done
	if err == nil {
		err = w.db.Sync()
	}
	if cerr := w.db.Close(); err == nil {
		err = cerr
	}
	return err
}

// abort stops writing and closes the db (the caller removes the file).
func (w *writer) abort() {
	if w.closed {
		return
	}
	close(w.ch)
	w.closed = true
	<-w.done
	w.db.Close()
}

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// putRevision writes a key-bucket record.
func (w *writer) putRevision(rev mvccview.Revision, tomb bool, kv mvccview.KeyValue) error {
	k := mvccview.AppendRevisionKey(w.alloc(18), rev, tomb)
	v := mvccview.AppendKeyValue(w.alloc(len(kv.Key)+len(kv.Value)+48), kv)
	return w.put(mvccview.KeyBucket, k, v)
}

// setIndex writes meta/consistent_index and meta/term, as etcd's backend
// hooks do on every commit.
func (w *writer) setIndex(index, term uint64) error {
	if err := w.put(mvccview.MetaBucket, []byte(mvccview.MetaConsistentIndex), u64(index)); err != nil {
		return err
	}
	if term == 0 {
		return nil
	}
	return w.put(mvccview.MetaBucket, []byte(mvccview.MetaTerm), u64(term))
}

func (w *writer) compactMark(name string, rev int64) error {
	return w.put(mvccview.MetaBucket, []byte(name), mvccview.AppendRevisionKey(nil, mvccview.Revision{Main: rev}, false))
}
