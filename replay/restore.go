package replay

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/etcdscope/etcdscope/boltfmt"
	"github.com/etcdscope/etcdscope/internal/textfmt"
	"github.com/etcdscope/etcdscope/mvccview"
	"github.com/etcdscope/etcdscope/snapfmt"
	"github.com/etcdscope/etcdscope/walfmt"
)

// Member is the one member of a restored data dir, or a member of a
// [Snapshot]'s membership.
type Member struct {
	ID        uint64
	ClusterID uint64
	Name      string
	PeerURLs  []string
	// ClientURLs are the member's published attributes (a .snap's v2 store
	// holds them with its name); nil when it has not published any.
	ClientURLs []string
	IsLearner  bool
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
	_, err = WriteSnap(snapDir, &Snapshot{Index: 1, Term: 1, ConfState: walfmt.ConfState{Voters: []uint64{m.ID}}, Members: []Member{m}})
	return err
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

// A Snapshot is a member's raft snapshot at the index its db holds, as
// etcd takes one: the index and term of the last entry the db applied, the
// conf state, and the membership a .snap carries in v2 store form.
type Snapshot struct {
	Index, Term uint64
	ConfState   walfmt.ConfState
	// Members are in id order; Removed are the ids of removed members.
	Members        []Member
	Removed        []uint64
	ClusterVersion string // "" when the db has none
}

// DBSnapshot reads the snapshot of the db at path, page by page with
// boltfmt (no bbolt, no lock): the meta bucket's consistent_index, term and
// confState (or, for a db without one, the voters and learners of the
// members bucket), the members and members_removed buckets and the
// cluster version. A db without a term (etcd 3.4 wrote it) is an error.
func DBSnapshot(path string) (*Snapshot, error) {
	db, err := boltfmt.Open(path, boltfmt.Options{})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	src := &mvccview.BoltSource{DB: db}
	meta, err := mvccview.ReadMeta(src)
	if err != nil {
		return nil, err
	}
	if meta.ConsistentIndex == 0 || meta.Term == 0 {
		return nil, fmt.Errorf("replay: %s: meta holds consistent_index %d, term %d; a snapshot needs both", path, meta.ConsistentIndex, meta.Term)
	}
	s := &Snapshot{Index: meta.ConsistentIndex, Term: meta.Term}
	if err := s.readMembers(src); err != nil {
		return nil, err
	}
	if cs, err := meta.DecodeConfState(); err == nil {
		s.ConfState = cs
	} else {
		for _, m := range s.Members {
			if m.IsLearner {
				s.ConfState.Learners = append(s.ConfState.Learners, m.ID)
			} else {
				s.ConfState.Voters = append(s.ConfState.Voters, m.ID)
			}
		}
	}
	c, err := mvccview.ReadCluster(src)
	if err != nil {
		return nil, err
	}
	s.ClusterVersion = c.ClusterVersion
	return s, nil
}

// readMembers reads the members buckets; a record that does not decode is
// an error, as it is to etcd.
func (s *Snapshot) readMembers(src mvccview.Source) error {
	err := src.ForEach(mvccview.MembersBucket, func(k, v []byte) error {
		dm, err := mvccview.DecodeMember(k, v)
		if err != nil {
			return fmt.Errorf("replay: member %s: %w", textfmt.Bare(k), err)
		}
		id, err := mvccview.ParseMemberKey(k)
		if err != nil {
			return fmt.Errorf("replay: member key %s: %w", textfmt.Bare(k), err)
		}
		s.Members = append(s.Members, Member{ID: id, Name: dm.Name, PeerURLs: dm.PeerURLs, ClientURLs: dm.ClientURLs, IsLearner: dm.IsLearner})
		return nil
	})
	if err != nil {
		return err
	}
	err = src.ForEach(mvccview.MembersRemovedBucket, func(k, _ []byte) error {
		id, err := mvccview.ParseMemberKey(k)
		if err != nil {
			return fmt.Errorf("replay: removed member key %s: %w", textfmt.Bare(k), err)
		}
		s.Removed = append(s.Removed, id)
		return nil
	})
	slices.SortFunc(s.Members, func(a, b Member) int { return cmp.Compare(a.ID, b.ID) })
	slices.Sort(s.Removed)
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

const permanent = "0001-01-01T00:00:00Z"

func v2dir(path string, idx uint64, children map[string]*v2node) *v2node {
	if children == nil {
		children = map[string]*v2node{}
	}
	return &v2node{Path: path, CreatedIndex: idx, ModifiedIndex: idx, ExpireTime: permanent, Children: children}
}

func v2leaf(path string, idx uint64, value string) *v2node {
	return &v2node{Path: path, CreatedIndex: idx, ModifiedIndex: idx, ExpireTime: permanent, Value: value}
}

// v2Store builds the v2 store etcd writes into a .snap, as a scratch store
// that etcd fills from its membership (3.6's
// GetMembershipInfoInV2Format; etcdutl's restore): under /0,
// members/<id>/raftAttributes and, for a member that published them,
// members/<id>/attributes, removed_members/<id> and version; /1 empty.
// Each write takes the next index of the store, as in etcd.
type v2Store struct {
	index uint64
	zero  map[string]*v2node // the children of /0
}

func (st *v2Store) next() uint64 { st.index++; return st.index }

// dir is /0/name, made by the write at idx when it is not there yet.
func (st *v2Store) dir(name string, idx uint64) *v2node {
	if st.zero[name] == nil {
		st.zero[name] = v2dir("/0/"+name, idx, nil)
	}
	return st.zero[name]
}

func (st *v2Store) member(m Member) error {
	id := strconv.FormatUint(m.ID, 16)
	ra, err := json.Marshal(struct {
		PeerURLs  []string `json:"peerURLs"`
		IsLearner bool     `json:"isLearner,omitempty"`
	}{m.PeerURLs, m.IsLearner})
	if err != nil {
		return err
	}
	idx := st.next()
	p := "/0/members/" + id
	node := v2dir(p, idx, map[string]*v2node{"raftAttributes": v2leaf(p+"/raftAttributes", idx, string(ra))})
	st.dir("members", idx).Children[id] = node
	if m.ClientURLs != nil {
		attrs, err := json.Marshal(struct {
			Name       string   `json:"name,omitempty"`
			ClientURLs []string `json:"clientURLs,omitempty"`
		}{m.Name, m.ClientURLs})
		if err != nil {
			return err
		}
		node.Children["attributes"] = v2leaf(p+"/attributes", st.next(), string(attrs))
	}
	return nil
}

// membershipStore is the v2 store of s's membership, as JSON.
func membershipStore(s *Snapshot) ([]byte, error) {
	st := &v2Store{zero: map[string]*v2node{}}
	for _, m := range s.Members {
		if err := st.member(m); err != nil {
			return nil, err
		}
	}
	for _, id := range s.Removed {
		idx := st.next()
		hex := strconv.FormatUint(id, 16)
		st.dir("removed_members", idx).Children[hex] = v2leaf("/0/removed_members/"+hex, idx, "")
	}
	if s.ClusterVersion != "" {
		st.zero["version"] = v2leaf("/0/version", st.next(), s.ClusterVersion)
	}
	root := v2dir("/", 0, map[string]*v2node{"0": v2dir("/0", 0, st.zero), "1": v2dir("/1", 0, nil)})
	const capacity = 1000 // the event history's ring
	store := map[string]any{
		"Root": root,
		"WatcherHub": map[string]any{"EventHistory": map[string]any{
			"Queue":      map[string]any{"Events": make([]any, capacity), "Size": 0, "Front": 0, "Back": 0, "Capacity": capacity},
			"StartIndex": 0, "LastIndex": 0,
		}},
		"CurrentIndex":   st.index,
		"Stats":          map[string]any{},
		"CurrentVersion": 2,
	}
	return json.Marshal(store)
}

// WriteSnap writes into snapDir the .snap of s that etcd 3.5 and 3.6 load
// at boot (3.7 reads none): named term-index as etcd names it, its data
// the membership in v2 store form, its metadata s's index, term and conf
// state. It returns the file's name; a file of that name is an error.
func WriteSnap(snapDir string, s *Snapshot) (string, error) {
	data, err := membershipStore(s)
	if err != nil {
		return "", err
	}
	raw := snapfmt.AppendSnapshot(nil, snapfmt.Snapshot{Data: data, Metadata: snapfmt.Metadata{Index: s.Index, Term: s.Term, ConfState: s.ConfState}})
	body := snapfmt.AppendEnvelope(nil, crc32.Checksum(raw, crc32.MakeTable(crc32.Castagnoli)), raw)
	name := snapfmt.SnapName(s.Term, s.Index)
	f, err := os.OpenFile(filepath.Join(snapDir, name), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o666)
	if err != nil {
		return "", err
	}
	_, err = f.Write(body)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return name, err
}
