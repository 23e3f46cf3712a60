package replay

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strconv"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/etcdscope/etcdscope/mvccview"
	"github.com/etcdscope/etcdscope/snapfmt"
	"github.com/etcdscope/etcdscope/walfmt"
)

// Member is the one member of a restored data dir.
type Member struct {
	ID        uint64
	ClusterID uint64
	Name      string
	PeerURLs  []string
}

// memberJSON is etcd's membership.Member JSON (raft attributes and name;
// client URLs are published by the member when it starts).
type memberJSON struct {
	ID       uint64   `json:"id"`
	PeerURLs []string `json:"peerURLs"`
	Name     string   `json:"name,omitempty"`
}

// WriteDataDir lays out a new data dir at dir around the db at dbPath (which
// it moves into dir/member/snap/db and adjusts), the way `etcdutl snapshot
// restore` lays one out for a single member (etcdutl/snapshot/v3_snapshot.go
// saveWALAndSnap, updateCIndex): a WAL holding one AddNode conf change at
// index 1, the hard state and a snapshot record at index 1, a .snap with the
// membership in v2 store form, and a db whose members buckets hold only
// that member and whose consistent index and term are 1. The member and
// cluster ids are kept from the source, so the result stays traceable to
// its evidence. dir must not exist.
func WriteDataDir(dir, dbPath string, m Member) error {
	if _, err := os.Stat(dir); err == nil {
		return fmt.Errorf("replay: %s exists; give a new path", dir)
	}
	walDir := filepath.Join(dir, "member", "wal")
	snapDir := filepath.Join(dir, "member", "snap")
	for _, d := range []string{walDir, snapDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	ctx, err := json.Marshal(memberJSON{ID: m.ID, PeerURLs: m.PeerURLs, Name: m.Name})
	if err != nil {
		return err
	}
	confState := fmt.Sprintf(`{"voters":[%d],"auto_leave":false}`, m.ID)
	if err := restoreDB(dbPath, m.ID, ctx, confState); err != nil {
		return err
	}
	if err := os.Rename(dbPath, filepath.Join(snapDir, "db")); err != nil {
		return err
	}
	if err := writeWAL(filepath.Join(walDir, walfmt.SegmentName(0, 0)), m, ctx); err != nil {
		return err
	}
	return writeSnap(filepath.Join(snapDir, snapfmt.SnapName(1, 1)), m)
}

// restoreDB rewrites membership and the consistent index of the db.
func restoreDB(path string, id uint64, ctx []byte, confState string) error {
	db, err := bolt.Open(path, 0o600, &bolt.Options{NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return err
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range []string{mvccview.MembersBucket, mvccview.MembersRemovedBucket} {
			if err := tx.DeleteBucket([]byte(name)); err != nil && !errors.Is(err, berrors.ErrBucketNotFound) {
				return err
			}
			if _, err := tx.CreateBucket([]byte(name)); err != nil {
				return err
			}
		}
		if err := tx.Bucket([]byte(mvccview.MembersBucket)).Put(mvccview.MemberKey(id), ctx); err != nil {
			return err
		}
		meta := tx.Bucket([]byte(mvccview.MetaBucket))
		if err := meta.Put([]byte(mvccview.MetaConsistentIndex), u64(1)); err != nil {
			return err
		}
		if err := meta.Put([]byte(mvccview.MetaTerm), u64(1)); err != nil {
			return err
		}
		return meta.Put([]byte(mvccview.MetaConfState), []byte(confState))
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	return err
}

func writeWAL(path string, m Member, ctx []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	w, err := walfmt.NewWriter(f, 0)
	if err == nil {
		err = w.Write(walfmt.MetadataType, walfmt.AppendMetadata(nil, walfmt.Metadata{NodeID: m.ID, ClusterID: m.ClusterID}))
	}
	if err == nil {
		err = w.Write(walfmt.SnapshotType, walfmt.AppendSnapshot(nil, walfmt.Snapshot{}))
	}
	if err == nil {
		// raftpb.ConfChange{ID: 0, Type: AddNode, NodeID, Context}, as gogo writes it.
		var cc []byte
		cc = protowire.AppendTag(cc, 1, protowire.VarintType)
		cc = protowire.AppendVarint(cc, 0)
		cc = protowire.AppendTag(cc, 2, protowire.VarintType)
		cc = protowire.AppendVarint(cc, uint64(walfmt.ConfChangeAddNode))
		cc = protowire.AppendTag(cc, 3, protowire.VarintType)
		cc = protowire.AppendVarint(cc, m.ID)
		cc = protowire.AppendTag(cc, 4, protowire.BytesType)
		cc = protowire.AppendBytes(cc, ctx)
		err = w.Write(walfmt.EntryType, walfmt.AppendEntry(nil, walfmt.Entry{Term: 1, Index: 1, Type: walfmt.EntryConfChange, Data: cc}))
	}
	if err == nil {
		err = w.Write(walfmt.StateType, walfmt.AppendHardState(nil, walfmt.HardState{Term: 1, Vote: m.ID, Commit: 1}))
	}
	if err == nil {
		err = w.Write(walfmt.SnapshotType, walfmt.AppendSnapshot(nil, walfmt.Snapshot{Index: 1, Term: 1, ConfState: &walfmt.ConfState{Voters: []uint64{m.ID}}}))
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// v2node is a node of the v2 store JSON (server/etcdserver/api/v2store
// store.go, node.go, event_history.go): what etcd's Recovery unmarshals.
type v2node struct {
	Path          string             `json:"Path"`
	CreatedIndex  uint64             `json:"CreatedIndex"`
	ModifiedIndex uint64             `json:"ModifiedIndex"`
	ExpireTime    string             `json:"ExpireTime"`
	Value         string             `json:"Value"`
	Children      map[string]*v2node `json:"Children"`
}

func v2dir(path string, idx uint64, children map[string]*v2node) *v2node {
	if children == nil {
		children = map[string]*v2node{}
	}
	return &v2node{Path: path, CreatedIndex: idx, ModifiedIndex: idx, ExpireTime: "0001-01-01T00:00:00Z", Children: children}
}

// membershipStore is the v2 store etcdutl writes into a restored .snap:
// /0/members/<id>/raftAttributes, and the empty /1 key space.
func membershipStore(m Member) ([]byte, error) {
	id := strconv.FormatUint(m.ID, 16)
	ra, err := json.Marshal(struct {
		PeerURLs []string `json:"peerURLs"`
	}{m.PeerURLs})
	if err != nil {
		return nil, err
	}
	leaf := &v2node{Path: "/0/members/" + id + "/raftAttributes", CreatedIndex: 1, ModifiedIndex: 1, ExpireTime: "0001-01-01T00:00:00Z", Value: string(ra)}
	root := v2dir("/", 0, map[string]*v2node{
		"0": v2dir("/0", 0, map[string]*v2node{
			"members": v2dir("/0/members", 1, map[string]*v2node{
				id: v2dir("/0/members/"+id, 1, map[string]*v2node{"raftAttributes": leaf}),
			}),
		}),
		"1": v2dir("/1", 0, nil),
	})
	const capacity = 1000 // the event history's ring
	store := map[string]any{
		"Root": root,
		"WatcherHub": map[string]any{"EventHistory": map[string]any{
			"Queue":      map[string]any{"Events": make([]any, capacity), "Size": 0, "Front": 0, "Back": 0, "Capacity": capacity},
			"StartIndex": 0, "LastIndex": 0,
		}},
		"CurrentIndex":   1,
		"Stats":          map[string]any{},
		"CurrentVersion": 2,
	}
	return json.Marshal(store)
}

func writeSnap(path string, m Member) error {
	data, err := membershipStore(m)
	if err != nil {
		return err
	}
	raw := snapfmt.AppendSnapshot(nil, snapfmt.Snapshot{Data: data, Metadata: snapfmt.Metadata{Index: 1, Term: 1, ConfState: snapfmt.ConfState{Voters: []uint64{m.ID}}}})
	body := snapfmt.AppendEnvelope(nil, crc32.Checksum(raw, crc32.MakeTable(crc32.Castagnoli)), raw)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o666)
	if err != nil {
		return err
	}
	_, err = f.Write(body)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
