package mvccview

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/etcdscope/etcdscope/internal/pbwire"
)

// Revision is an MVCC revision: the main revision of a write transaction
// and the sub revision of a change within it.
type Revision struct {
	Main int64
	Sub  int64
}

// Less orders revisions.
func (r Revision) Less(o Revision) bool {
	return r.Main < o.Main || (r.Main == o.Main && r.Sub < o.Sub)
}

func (r Revision) String() string { return fmt.Sprintf("%d_%d", r.Main, r.Sub) }

// On-disk format; do not change (etcd server/storage/mvcc/revision.go).
const (
	revKeyLen       = 17 // 8-byte big-endian main, '_', 8-byte big-endian sub
	tombstoneKeyLen = 18 // plus 't'
	revSep          = '_'
	tombstoneMark   = 't'
)

// ErrBadRecord is wrapped by every error decoding a key-bucket record.
var ErrBadRecord = errors.New("mvccview: bad key-bucket record")

// DecodeRevisionKey decodes a key-bucket key: the revision and whether it
// marks a deletion.
func DecodeRevisionKey(k []byte) (Revision, bool, error) {
	if len(k) != revKeyLen && len(k) != tombstoneKeyLen {
		return Revision{}, false, fmt.Errorf("%w: key of %d bytes, want 17 or 18", ErrBadRecord, len(k))
	}
	if k[8] != revSep {
		return Revision{}, false, fmt.Errorf("%w: separator %#x, want '_'", ErrBadRecord, k[8])
	}
	r := Revision{Main: int64(binary.BigEndian.Uint64(k)), Sub: int64(binary.BigEndian.Uint64(k[9:]))}
	if r.Main < 0 || r.Sub < 0 {
		return r, false, fmt.Errorf("%w: negative revision %s", ErrBadRecord, r)
	}
	tomb := len(k) == tombstoneKeyLen
	if tomb && k[17] != tombstoneMark {
		return r, false, fmt.Errorf("%w: 18th byte %#x, want 't'", ErrBadRecord, k[17])
	}
	return r, tomb, nil
}

// AppendRevisionKey appends the key-bucket key of a revision.
func AppendRevisionKey(b []byte, r Revision, tombstone bool) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(r.Main))
	b = append(b, revSep)
	b = binary.BigEndian.AppendUint64(b, uint64(r.Sub))
	if tombstone {
		b = append(b, tombstoneMark)
	}
	return b
}

// RevisionKeyText shows a key-bucket key as etcdscope does: the revision
// main_sub, and a trailing t for a tombstone. ok is false when k is not a
// revision key.
func RevisionKeyText(k []byte) (s string, ok bool) {
	rev, tomb, err := DecodeRevisionKey(k)
	if err != nil {
		return "", false
	}
	if tomb {
		return rev.String() + "t", true
	}
	return rev.String(), true
}

// KeyText shows a key of the bucket named (a/b) in the form etcd's schema
// gives it: a key of the key bucket as its revision ([RevisionKeyText]).
// ok is false for any other key. It is a boltfmt.KeyFormatter, the one
// bolt keys, bolt page and the tui show keys with.
func KeyText(bucket string, k []byte) (s string, ok bool) {
	if bucket != KeyBucket {
		return "", false
	}
	return RevisionKeyText(k)
}

// ParseKeyText is the inverse of [KeyText]: the key of the bucket named
// that s shows, false when s is no such form.
func ParseKeyText(bucket, s string) ([]byte, bool) {
	if bucket != KeyBucket {
		return nil, false
	}
	k, err := ParseRevisionKey(s)
	return k, err == nil
}

// ParseRevisionKey is the inverse of [RevisionKeyText]: the key-bucket
// key that main_sub, or main_subt for a tombstone, names.
func ParseRevisionKey(s string) ([]byte, error) {
	text, tomb := strings.CutSuffix(s, string(tombstoneMark))
	ms, ss, ok := strings.Cut(text, string(revSep))
	if !ok {
		return nil, fmt.Errorf("revision %q: want main_sub", s)
	}
	main, err1 := strconv.ParseInt(ms, 10, 64)
	sub, err2 := strconv.ParseInt(ss, 10, 64)
	if err1 != nil || err2 != nil || main < 0 || sub < 0 {
		return nil, fmt.Errorf("revision %q: want two non-negative integers main_sub", s)
	}
	return AppendRevisionKey(nil, Revision{Main: main, Sub: sub}, tomb), nil
}

// KeyValue is an mvccpb.KeyValue. Key and Value alias the decoded bytes.
// Its JSON is etcdctl's (get -w json): the lease a number, like the other
// numbers, zero fields left out.
type KeyValue struct {
	Key            []byte `json:"key,omitempty"`
	CreateRevision int64  `json:"create_revision,omitempty"`
	ModRevision    int64  `json:"mod_revision,omitempty"`
	Version        int64  `json:"version,omitempty"`
	Value          []byte `json:"value,omitempty"`
	Lease          int64  `json:"lease,omitempty"`
}

// DecodeKeyValue decodes an mvccpb.KeyValue (proto3: key=1, create_revision=2,
// mod_revision=3, version=4, value=5, lease=6).
func DecodeKeyValue(b []byte) (KeyValue, error) {
	var kv KeyValue
	var err error
	ints := [...]*int64{2: &kv.CreateRevision, 3: &kv.ModRevision, 4: &kv.Version, 6: &kv.Lease}
	it := pbwire.Fields(b, "KeyValue", pbwire.Proto) // a loop, not pbwire.Walk: it does not escape
	for err == nil && it.Next() {
		switch f := it.Field(); f.Num {
		case 1:
			err = f.Bytes(&kv.Key)
		case 5:
			err = f.Bytes(&kv.Value)
		case 2, 3, 4, 6:
			err = f.Int64(ints[f.Num])
		}
	}
	if err = cmp.Or(err, it.Err()); err != nil {
		return kv, fmt.Errorf("%w: %w", ErrBadRecord, err)
	}
	return kv, nil
}

// AppendKeyValue appends the mvccpb.KeyValue encoding etcd writes: fields
// in number order, zero values omitted (proto3), so that HashKV over a
// rebuilt store equals etcd's.
func AppendKeyValue(b []byte, kv KeyValue) []byte {
	if len(kv.Key) > 0 {
		b = pbwire.AppendBytes(b, 1, kv.Key)
	}
	for i, v := range []int64{kv.CreateRevision, kv.ModRevision, kv.Version} {
		if v != 0 {
			b = pbwire.AppendVarint(b, protowire.Number(2+i), uint64(v))
		}
	}
	if len(kv.Value) > 0 {
		b = pbwire.AppendBytes(b, 5, kv.Value)
	}
	if kv.Lease != 0 {
		b = pbwire.AppendVarint(b, 6, uint64(kv.Lease))
	}
	return b
}
