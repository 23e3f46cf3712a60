package inspect

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/etcdscope/etcdscope/boltfmt"
	"github.com/etcdscope/etcdscope/finding"
	"github.com/etcdscope/etcdscope/internal/datadir"
	"github.com/etcdscope/etcdscope/internal/textfmt"
	"github.com/etcdscope/etcdscope/mvccview"
	"github.com/etcdscope/etcdscope/snapfmt"
	"github.com/etcdscope/etcdscope/walfmt"
)

// Options configure [Member]. The zero value checks everything and
// predicts what the etcd version that wrote the member does on start.
type Options struct {
	// EtcdVersion is the etcd minor version ("3.6") whose start the
	// verdict predicts; empty for the one that wrote the member.
	EtcdVersion string
}

// Report is what [Member] finds: a summary of the member, then the
// findings. Its JSON is CONTRACT.md's findings document (findings,
// summary) plus the summary's fields.
type Report struct {
	Path    string          `json:"path"`                 // as given
	Member  string          `json:"member_id,omitempty"`  // hex, from the WAL's metadata
	Cluster string          `json:"cluster_id,omitempty"` // hex, from the WAL's metadata
	WAL     *walfmt.Summary `json:"wal,omitempty"`        // nil when the member has no WAL
	Snap    SnapInventory   `json:"snap"`
	DB      *DBSummary      `json:"db,omitempty"` // nil when the db is missing or not bbolt
	// Checked names what was read: wal, snap, db, mvcc, cross-checks.
	Checked []string `json:"checked"`
	// Verdict is what real etcd does when it starts on the member.
	Verdict *Verdict `json:"verdict"`
	finding.Report
}

// DBSummary is what the check of member/snap/db found.
type DBSummary struct {
	File     string `json:"file"`
	Bytes    int64  `json:"bytes"`
	PageSize int    `json:"page_size"`
	HWM      uint64 `json:"hwm"`
	MetaUsed int    `json:"meta_used"`
	Why      string `json:"why"` // why bbolt would use that meta
	Tree     int    `json:"tree_pages"`
	Free     int    `json:"free_pages"`
	Buckets  int    `json:"buckets"`
	Keys     int    `json:"key_bucket_records"`

	Revision        int64  `json:"revision"`
	CompactRevision int64  `json:"compact_revision"`
	ConsistentIndex uint64 `json:"consistent_index"`
	Term            uint64 `json:"term"`
	StorageVersion  string `json:"storage_version,omitempty"`
	ClusterVersion  string `json:"cluster_version,omitempty"` // the cluster bucket's
}

// SnapInventory lists the files of member/snap by kind.
type SnapInventory struct {
	Dir     string   `json:"dir,omitempty"`
	Snaps   []string `json:"snaps"`    // *.snap, sorted
	SnapDBs []string `json:"snap_dbs"` // *.snap.db, sorted
	DB      string   `json:"db,omitempty"`
	DBBytes int64    `json:"db_bytes"`
	Other   []string `json:"other"`
}

// ErrNotMember is wrapped by [Member]'s error when the path holds no
// member (no member/wal or member/snap below it).
var ErrNotMember = errors.New("not an etcd data dir or member dir")

// Member checks the member at path, an etcd --data-dir or a member dir:
// the WAL, the snap files, the db and its MVCC records, and the
// cross-checks etcd's boot depends on. Damage is reported as findings;
// the error is for a member that cannot be read at all.
func Member(path string, opts Options) (*Report, error) {
	l, err := datadir.Resolve(path)
	if err != nil {
		return nil, err
	}
	if l.MemberDir == "" {
		return nil, &datadir.Error{Path: path, Err: ErrNotMember, Hint: "give the directory passed to etcd as --data-dir (it holds member/wal and member/snap)"}
	}
	rep := &Report{Path: path, Report: finding.Report{Findings: []finding.Finding{}}, Checked: []string{}}
	facts := &walFacts{}
	if err := rep.checkWAL(l, facts); err != nil {
		return nil, err
	}
	if rep.Snap, err = inventorySnap(l); err != nil {
		return nil, err
	}
	var sd *snapfmt.Dir
	if l.SnapDir != "" {
		if sd, err = snapfmt.ReadDir(l.SnapDir, snapfmt.Options{}); err != nil {
			return nil, err
		}
		rep.Merge(Snap(sd, l.Rel))
		rep.Checked = append(rep.Checked, "snap")
	}
	var (
		st *mvccview.Store
		df *dbFacts
	)
	switch {
	case l.DB != "":
		if st, df, err = rep.checkDB(l); err != nil {
			return nil, err
		}
	case l.SnapDir != "" || l.WALDir != "":
		rep.Add(finding.Finding{Severity: finding.Error, Code: "db-missing", File: l.Rel(filepath.Join(l.MemberDir, "snap", "db")),
			Message: "the member has no db: etcd 3.6 and later refuse to start; 3.5 starts from the newest .snap.db or empty, with only what the WAL holds after it (repair rebuild replays the WAL into a new member)"})
	}
	crossCheck(&rep.Report, l.Rel, rep.WAL, facts, sd, l.DB, st)
	if st != nil && rep.WAL != nil {
		rep.Checked = append(rep.Checked, "cross-checks")
	}
	if err := rep.predict(l, opts, facts, sd, df); err != nil {
		return nil, err
	}
	return rep, nil
}

// predict sets the verdict: what etcd of the version asked for (or that
// wrote the member) does when it starts on it.
func (rep *Report) predict(l datadir.Layout, opts Options, facts *walFacts, sd *snapfmt.Dir, df *dbFacts) error {
	storage, cluster := "", facts.clusterVersion
	if rep.DB != nil {
		storage = rep.DB.StorageVersion
		if rep.DB.ClusterVersion != "" {
			cluster = rep.DB.ClusterVersion
		}
	}
	v, from := memberVersion(storage, cluster)
	if opts.EtcdVersion != "" {
		v, from = majorMinor(strings.TrimPrefix(opts.EtcdVersion, "v")), "--etcd-version"
	}
	m := memberFacts{rel: l.Rel, sd: sd, db: df}
	if l.DB != "" {
		m.dbName = l.Rel(l.DB)
	}
	if l.WALDir != "" {
		files, err := walfmt.OpenPath(l.WALDir)
		if err != nil {
			return err
		}
		defer files.Close()
		m.segs = files.Segments
	}
	b := predict(v, m)
	b.verdict.VersionFrom = from
	b.apply(&rep.Report)
	rep.Verdict = &b.verdict
	return nil
}

// checkWAL reads every record of the member's WAL, noting the facts the
// cross-checks need; a member without one gets a wal-missing finding.
func (rep *Report) checkWAL(l datadir.Layout, facts *walFacts) error {
	if l.WALDir == "" {
		rep.Add(finding.Finding{Severity: finding.Error, Code: "wal-missing", File: l.Rel(filepath.Join(l.MemberDir, "wal")),
			Message: "the member has no wal directory; etcd cannot start without its WAL"})
		return nil
	}
	segs, sum, err := summarize(l.WALDir, facts.visit)
	if err != nil {
		return err
	}
	rep.WAL = sum
	rep.Merge(WAL(segs, sum.Problems, l.Rel))
	rep.Checked = append(rep.Checked, "wal")
	if sum.Metadata != nil {
		rep.Member = fmt.Sprintf("%x", sum.Metadata.NodeID)
		rep.Cluster = fmt.Sprintf("%x", sum.Metadata.ClusterID)
	}
	return nil
}

// checkDB checks member/snap/db as bolt check does and reads its MVCC
// view, which it returns for the cross-checks (nil when the file is not
// bbolt).
func (rep *Report) checkDB(l datadir.Layout) (*mvccview.Store, *dbFacts, error) {
	db, err := boltfmt.Open(l.DB, boltfmt.Options{})
	if err != nil {
		rep.Add(finding.Finding{Severity: finding.Error, Code: "bolt-meta-invalid", File: l.Rel(l.DB), Offset: finding.Ptr(int64(0)),
			Message: fmt.Sprintf("the db cannot be read as a bbolt file: %v", err)})
		return nil, &dbFacts{openErr: "invalid database"}, nil
	}
	defer db.Close()
	walk, err := db.Walk(boltfmt.WalkOptions{})
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", l.DB, err)
	}
	df := newDBFacts(db, walk)
	rep.Merge(Bolt(l.DB, walk.Problems, l.Rel))
	d := &DBSummary{File: l.Rel(l.DB), Bytes: db.Size(), PageSize: db.PageSize, HWM: uint64(walk.HWM), MetaUsed: walk.MetaUsed,
		Why: db.Why, Tree: walk.Tree, Free: walk.Free, Buckets: len(walk.Buckets) - 1}
	for _, b := range walk.Buckets {
		if b.Name() == mvccview.KeyBucket {
			d.Keys = b.Keys
		}
	}
	rep.DB = d
	rep.Checked = append(rep.Checked, "db")
	st, err := mvccview.Open(&mvccview.BoltSource{DB: db})
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", l.DB, err)
	}
	for _, br := range st.BadRecords {
		rep.Add(finding.Finding{Severity: finding.Error, Code: "mvcc-bad-record", File: l.Rel(l.DB),
			Message: fmt.Sprintf("key-bucket record %s: %v", textfmt.Quote(br.Key), br.Err)})
	}
	d.Revision, d.CompactRevision, d.ConsistentIndex, d.Term = st.CurrentRev, st.CompactRev, st.Meta.ConsistentIndex, st.Meta.Term
	d.StorageVersion = st.Meta.StorageVersion
	if c, err := st.Cluster(); err == nil {
		d.ClusterVersion = c.ClusterVersion
	}
	df.ci, df.readable = st.Meta.ConsistentIndex, db.Active >= 0
	rep.Checked = append(rep.Checked, "mvcc")
	return st, df, nil
}

// inventorySnap lists member/snap.
func inventorySnap(l datadir.Layout) (SnapInventory, error) {
	inv := SnapInventory{Snaps: []string{}, SnapDBs: []string{}, Other: []string{}}
	if l.SnapDir == "" {
		return inv, nil
	}
	inv.Dir = l.Rel(l.SnapDir)
	ents, err := os.ReadDir(l.SnapDir)
	if err != nil {
		return inv, &datadir.Error{Path: l.SnapDir, Err: err, Hint: "check the directory's permissions"}
	}
	for _, e := range ents {
		n := e.Name()
		switch {
		case n == "db":
			inv.DB = l.Rel(filepath.Join(l.SnapDir, n))
			if st, err := os.Stat(filepath.Join(l.SnapDir, n)); err == nil {
				inv.DBBytes = st.Size()
			}
		case strings.HasSuffix(n, ".snap"):
			inv.Snaps = append(inv.Snaps, n)
		case strings.HasSuffix(n, ".snap.db"):
			inv.SnapDBs = append(inv.SnapDBs, n)
		default:
			inv.Other = append(inv.Other, n)
		}
	}
	sort.Strings(inv.Snaps)
	sort.Strings(inv.SnapDBs)
	return inv, nil
}
