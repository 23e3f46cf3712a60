package inspect

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/etcdscope/etcdscope/snapfmt"
	"github.com/etcdscope/etcdscope/walfmt"
)

// Outcome is what real etcd does when it starts on a member.
type Outcome string

// The outcomes, from best to worst.
const (
	// Starts: etcd starts and serves what the files hold.
	Starts Outcome = "starts"
	// SelfRepairs: etcd starts after changing files itself (truncating a
	// torn tail, zero-filling garbage, renaming a bad .snap, falling back
	// to the other meta), losing nothing acknowledged.
	SelfRepairs Outcome = "self-repairs"
	// ServesWrongData: etcd starts and serves state its own log
	// contradicts.
	ServesWrongData Outcome = "serves-wrong-data"
	// Damages: etcd writes over data on start, then fails or serves
	// errors.
	Damages Outcome = "damages"
	// Refuses: etcd exits or panics on start.
	Refuses Outcome = "refuses"
)

func (o Outcome) rank() int {
	return strings.Index("starts self-repairs serves-wrong-data damages refuses", string(o))
}

// Verdict is what real etcd of EtcdVersion does when started on the
// member, as inspect predicts it from etcd's boot sequence
// (etcd-formats.md 6.1): open the db, read every WAL segment for its
// snapshot records, load the newest .snap they name, read the WAL from
// it (repairing a torn tail), then hand raft the log.
type Verdict struct {
	Outcome     Outcome `json:"outcome"`
	EtcdVersion string  `json:"etcd_version"` // major.minor
	// VersionFrom says where EtcdVersion came from: "db storage version",
	// "wal cluster version", "--etcd-version" or "default".
	VersionFrom string `json:"version_from"`
	// Message is what etcd prints when it refuses, or what goes wrong;
	// for starts and self-repairs a sentence saying so.
	Message string `json:"message"`
	// Changes lists what etcd changes in the member's files on start,
	// beyond appending to its log and committing to its db.
	Changes []string `json:"changes"`
}

// SupportedVersions are the etcd minor versions whose boot inspect
// models.
var SupportedVersions = []string{"3.5", "3.6", "3.7"}

// memberVersion is the etcd minor version that wrote the member: the
// db's storage version (3.6 and later write it), else the cluster version
// (the db's cluster bucket, else the one the WAL last set), else 3.5.
func memberVersion(storage, cluster string) (v, from string) {
	switch {
	case storage != "":
		return majorMinor(storage), "db storage version"
	case cluster != "":
		return majorMinor(cluster), "cluster version"
	}
	return "3.5", "default"
}

// boot is the state of the simulated start.
type boot struct {
	v       string
	rel     func(string) string
	verdict Verdict
	// actions are what etcd does about a place in a file, keyed by the
	// file's name in findings; see actionAt.
	actions map[string][]placeAction
	// fatal is set once etcd has stopped: later steps do not run.
	fatal bool
}

// placeAction is what etcd does with bytes of a file from offset From on
// (a WAL segment), or with one page (a db).
type placeAction struct {
	from   int64 // -1: the whole file
	page   int64 // -1: no page
	what   string
	benign bool // etcd deals with it without losing anything acknowledged
}

func (b *boot) act(file string, from, page int64, benign bool, format string, args ...any) {
	if b.actions == nil {
		b.actions = map[string][]placeAction{}
	}
	b.actions[file] = append(b.actions[file], placeAction{from: from, page: page, what: fmt.Sprintf(format, args...), benign: benign})
}

// change notes a change etcd makes to the files.
func (b *boot) change(format string, args ...any) {
	b.verdict.Changes = append(b.verdict.Changes, fmt.Sprintf(format, args...))
	b.worsen(SelfRepairs, "")
}

// worsen raises the outcome to o, keeping the first message of the worst.
func (b *boot) worsen(o Outcome, msg string) {
	if o.rank() > b.verdict.Outcome.rank() {
		b.verdict.Outcome, b.verdict.Message = o, msg
	}
}

// refuse stops the start: etcd exits with msg.
func (b *boot) refuse(msg string) {
	b.worsen(Refuses, msg)
	b.fatal = true
}

// bootDB is what etcd's backend does with the db when it opens it (bbolt
// Open in write mode, the freelist read, the MVCC restore's full scan of
// the key and lease buckets).
func (b *boot) bootDB(dbName string, db *dbFacts) {
	if db == nil {
		return
	}
	if db.openErr != "" {
		b.act(dbName, -1, -1, false, "etcd refuses to start: failed to open database: %s", db.openErr)
		b.refuse("failed to open database: " + db.openErr)
		return
	}
	b.metas(dbName, db)
	for _, p := range db.pages {
		switch {
		case b.fatal:
			return
		case p.kind == pageFreelist:
			b.act(dbName, -1, int64(p.id), false, "bbolt panics reading the freelist: invalid freelist page: %d, page type is %s", p.id, p.typ)
			b.refuse(fmt.Sprintf("invalid freelist page: %d, page type is %s", p.id, p.typ))
		case p.kind == pageFreeBeyond:
			msg := fmt.Sprintf("pgid (%d) above high water mark (%d)", p.self, p.hwm)
			b.act(dbName, -1, int64(p.id), false, "bbolt hands out page %d, which the freelist lists, at etcd's first commit and panics: %s", p.self, msg)
			b.refuse(msg)
		case p.kind == pageInUseFree:
			b.act(dbName, -1, int64(p.id), false, "the freelist lists in-use page %d: etcd's first commits reuse it, writing over live data", p.id)
			then := "etcd 3.6 and later then panic reading it back (e.g. invalid revision length)"
			if b.v < "3.6" {
				then = "etcd 3.5 serves on, and the db fails bbolt's check and the next start"
			}
			b.worsen(Damages, fmt.Sprintf("the freelist lists page %d, which the tree uses: etcd's first commit at start writes over it; %s", p.id, then))
		case p.kind == pageTree:
			msg := fmt.Sprintf("Page expected to be: %d, but self identifies as %d", p.id, p.self)
			if p.self == p.id {
				msg = fmt.Sprintf("invalid page type: %d: %x", p.id, p.flags)
			}
			b.act(dbName, -1, int64(p.id), false, "bbolt panics when etcd reads the bucket at start: %s", msg)
			b.refuse(msg)
		}
	}
}

// metas: bbolt uses the valid meta with the higher txid. Whether the
// broken one was older or newer shows in its txid when that survived.
func (b *boot) metas(dbName string, db *dbFacts) {
	for i, m := range db.metas {
		if m.Valid() {
			continue
		}
		other := db.metas[1-i]
		var what string
		switch {
		case m.TxID == other.TxID+1:
			what = fmt.Sprintf("drops the db's last transaction (txid %d, meta %d of %s): bbolt opens meta %d, txid %d, and etcd applies the WAL's entries past its consistent_index again", m.TxID, i, dbName, 1-i, other.TxID)
		case m.TxID+1 == other.TxID:
			what = fmt.Sprintf("rewrites the broken meta %d of %s at its first commit; bbolt opens meta %d, txid %d, the newest", i, dbName, 1-i, other.TxID)
		default:
			what = fmt.Sprintf("rewrites the broken meta %d of %s at its first commit; bbolt opens meta %d, txid %d (if the broken meta was newer, etcd applies the WAL's entries past that state's consistent_index again)", i, dbName, 1-i, other.TxID)
		}
		b.act(dbName, -1, int64(i), true, "etcd %s", what)
		b.change("%s", what)
	}
}

// snapChoice is the .snap etcd loads at start, renaming the ones it cannot
// read; etcd 3.7 builds its snapshot from the WAL's record instead.
func (b *boot) snapChoice(sd *snapfmt.Dir, walSnaps []snapfmt.SnapshotID) walfmt.Snapshot {
	if b.v >= "3.7" {
		if sd != nil {
			for _, f := range sd.Snaps {
				if len(f.Problems) > 0 {
					b.act(b.rel(filepath.Join(sd.Path, f.Name)), -1, -1, true, "etcd %s does not read .snap files: it builds its snapshot from the WAL's snapshot record", b.v)
				}
			}
		}
		if n := len(walSnaps); n > 0 {
			return walfmt.Snapshot{Index: walSnaps[n-1].Index, Term: walSnaps[n-1].Term}
		}
		return walfmt.Snapshot{}
	}
	if sd == nil {
		return walfmt.Snapshot{}
	}
	c := snapfmt.NewestAvailable(sd.Snaps, walSnaps)
	loaded := "none, so it reads the WAL from its start"
	if c.Loaded != nil {
		loaded = c.Loaded.Name
	}
	for _, f := range c.Renamed() {
		b.act(b.rel(filepath.Join(sd.Path, f.Name)), -1, -1, true, "etcd renames it to %s.broken and loads %s", f.Name, loaded)
		b.change("renames %s to %s.broken (it does not decode) and loads %s", b.rel(filepath.Join(sd.Path, f.Name)), f.Name, loaded)
	}
	for _, f := range sd.Snaps {
		if len(f.Problems) > 0 && !contains(c.Renamed(), f) {
			b.act(b.rel(filepath.Join(sd.Path, f.Name)), -1, -1, true, "etcd never reads it: it loads %s", loaded)
		}
	}
	if c.Loaded == nil {
		return walfmt.Snapshot{}
	}
	id := c.Loaded.ID()
	return walfmt.Snapshot{Index: id.Index, Term: id.Term}
}

func contains(fs []*snapfmt.File, f *snapfmt.File) bool {
	for _, g := range fs {
		if g == f {
			return true
		}
	}
	return false
}
