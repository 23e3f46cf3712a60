package repair

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/etcdscope/etcdscope/inspect"
	"github.com/etcdscope/etcdscope/internal/datadir"
	"github.com/etcdscope/etcdscope/replay"
)

// AutoOptions configure [Recommend] and [Auto].
type AutoOptions struct {
	// Peers are other members' data dirs, for the WAL repair's --peer.
	Peers []string
	// Base is a db to start a replay from when the WAL does not start
	// at index 1 (repair rebuild --base).
	Base   string
	DryRun bool
	// Verify, when set, replaces the check of the output; for tests.
	Verify Verify
}

// Candidate is one repair the recommendation considered: its name
// (none, wal, rebuild, bolt, salvage), what it would lose, or why it
// cannot be used.
type Candidate struct {
	Repair  string   `json:"repair"`
	Command []string `json:"command"`
	Loss    *Loss    `json:"loss"`
	Error   string   `json:"error,omitempty"`
	plan    Plan
	err     error
}

// Recommendation is the repair that loses least, with its predicted loss
// and its command line. Its loss is CONTRACT.md's summary: counts of
// entries and revisions, and lists of the keys, leases, auth changes and
// members lost; Detail is the whole [Loss].
type Recommendation struct {
	Repair string `json:"repair"` // "none" when etcd starts on the member as it is without loss
	// Command is the repair auto command line that runs it;
	// RepairCommand the chosen repair's own, where it has one (a db
	// repair's output is a db file, which repair auto puts in a copy of
	// the member).
	Command       []string     `json:"command"`
	RepairCommand []string     `json:"repair_command"`
	Why           string       `json:"why"`
	Loss          *LossSummary `json:"loss"`
	Detail        *Loss        `json:"loss_detail"`
	// Candidates are every repair considered, in the order tried.
	Candidates []Candidate `json:"candidates"`
}

// AutoResult is repair auto's plan: the recommendation, and the chosen
// repair's own plan.
type AutoResult struct {
	Out    string `json:"out"`
	DryRun bool   `json:"dry_run"`
	Recommendation
	Plan Plan `json:"plan"`
	Checked
}

// Recommend checks the member at path as inspect does (rep, when not nil,
// is that check already made), tries in a dry run every repair that
// applies to what it found (see candidates: repair wal for the WAL and
// the snap files; rebuild, bolt and salvage for the db, bolt first when
// only the metas or the freelist are wrong; the WAL first, then a rebuild
// from it, when both are damaged), and names the one that loses least:
// the first that loses nothing, else the least by keys, revisions,
// entries, leases, auth, members. A member with nothing to repair gets
// "none".
func Recommend(path string, rep *inspect.Report, opts AutoOptions) (*Recommendation, error) {
	if rep == nil {
		var err error
		if rep, err = inspect.Member(path, inspect.Options{}); err != nil {
			return nil, err
		}
	}
	opts.DryRun = true // a recommendation writes nothing but its dry runs, in a temporary dir
	names := candidates(rep)
	r := &Recommendation{Repair: "none", Command: []string{}, RepairCommand: []string{}, Candidates: []Candidate{}, Loss: newLoss().Summarize()}
	if len(names) == 0 {
		r.Why = rep.Verdict.Message
		return r, nil
	}
	tmp, err := os.MkdirTemp("", "etcdscope-recommend-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	best := -1
	for i, name := range names {
		c := tryRepair(name, path, filepath.Join(tmp, name), opts)
		c.Command = command(name, path, path+".repaired", opts) // the dry run wrote under tmp
		r.Candidates = append(r.Candidates, c)
		if c.Error != "" {
			continue
		}
		if best < 0 || c.Loss.less(r.Candidates[best].Loss) {
			best = i
		}
		if c.Loss != nil && c.Loss.None() {
			break
		}
	}
	if best < 0 {
		return nil, fmt.Errorf("repair: no repair applies to %s: %s", path, r.Candidates[len(r.Candidates)-1].Error)
	}
	c := r.Candidates[best]
	r.Repair, r.Loss, r.Detail = c.Repair, c.Loss.Summarize(), c.Loss
	r.Command = autoCommand(path, path+".repaired", opts)
	r.RepairCommand = command(c.Repair, path, path+".repaired", opts)
	r.Why = why(rep, c)
	return r, nil
}

// Auto writes at out the repair [Recommend] names: a new data dir.
func Auto(path, out string, opts AutoOptions) (*AutoResult, error) {
	if err := checkOut(out, path); err != nil {
		return nil, err
	}
	rep, err := inspect.Member(path, inspect.Options{})
	if err != nil {
		return nil, err
	}
	rec, err := Recommend(path, rep, AutoOptions{Peers: opts.Peers, Base: opts.Base, DryRun: true})
	if err != nil {
		return nil, err
	}
	res := &AutoResult{Out: out, DryRun: opts.DryRun, Recommendation: *rec}
	res.Command, res.RepairCommand = autoCommand(path, out, opts), command(rec.Repair, path, out, opts)
	res.check(&rep.Report)
	name := rec.Repair
	if name == "none" {
		name = "copy"
	}
	c := tryRepair(name, path, out, opts)
	if c.err != nil {
		return nil, c.err
	}
	res.Plan, res.Loss, res.Detail = c.plan, c.Loss.Summarize(), c.Loss
	return res, nil
}

// candidates are the repairs that apply to what inspect found, in the
// order they are tried: none when etcd starts without loss.
func candidates(rep *inspect.Report) []string {
	var wal, db, metaOnly bool
	metaOnly = true
	for _, f := range rep.Findings {
		switch {
		case f.Code == "db-missing" || strings.HasPrefix(f.Code, "mvcc-"):
			db, metaOnly = true, false
		case strings.HasPrefix(f.Code, "bolt-"):
			db = true
			metaOnly = metaOnly && (f.Code == "bolt-meta-invalid" || f.Code == "bolt-freelist-invalid" || f.Code == "bolt-page-double-use" && f.EtcdAction != "" || f.Code == "bolt-page-unreachable")
		case strings.HasPrefix(f.Code, "wal-") || strings.HasPrefix(f.Code, "snap-") || f.Code == "db-ahead-of-wal" || f.Code == "db-behind-wal" || f.Code == "wal-snapshot-missing" || f.Code == "snapdb-missing":
			wal = true
		}
	}
	switch {
	case db && wal:
		return []string{"wal+rebuild", "rebuild", "bolt", "salvage"}
	case db && metaOnly:
		return []string{"bolt", "rebuild", "salvage"}
	case db:
		return []string{"rebuild", "bolt", "salvage"}
	case wal:
		return []string{"wal", "rebuild"}
	case rep.Verdict != nil && rep.Verdict.Outcome != inspect.Starts:
		return []string{"wal", "rebuild"}
	}
	return nil
}

// tryRepair runs one repair of the member at path into the data dir out.
func tryRepair(name, path, out string, opts AutoOptions) Candidate {
	c := Candidate{Repair: name, Command: command(name, path, out, opts)}
	var err error
	switch name {
	case "wal", "copy":
		var r *WALResult
		r, err = WALPath(path, out, opts.Peers, WALOptions{Replay: replay.Options{Base: opts.Base}, DryRun: opts.DryRun, Verify: opts.Verify})
		if err == nil {
			c.plan, c.Loss = r, r.Loss
		}
	case "rebuild":
		var r *RebuildResult
		r, err = RebuildPath(path, out, RebuildOptions{Replay: replay.Options{Base: opts.Base}, DryRun: opts.DryRun, Verify: opts.Verify})
		if err == nil {
			c.plan, c.Loss = r, r.Loss
		}
	case "wal+rebuild":
		c.plan, c.Loss, err = walThenRebuild(path, out, opts)
	case "bolt", "salvage":
		c.plan, c.Loss, err = withRepairedDB(name, path, out, opts)
	default:
		err = fmt.Errorf("repair: no repair %q", name)
	}
	if err != nil {
		c.Error, c.err = err.Error(), err
	}
	return c
}

// walThenRebuild repairs the WAL of the member at path into a temporary
// member, then rebuilds the db from that WAL into out: for a member whose
// WAL and db are both damaged. Its loss is the rebuild's, plus the entries
// the WAL repair could not keep.
func walThenRebuild(path, out string, opts AutoOptions) (Plan, *Loss, error) {
	tmp, err := os.MkdirTemp("", "etcdscope-auto-wal-")
	if err != nil {
		return nil, nil, err
	}
	defer os.RemoveAll(tmp)
	mid := filepath.Join(tmp, "member")
	// The intermediate member still has the damaged db: it is only read
	// by the rebuild, never published.
	accept := func(string) error { return nil }
	w, err := WALPath(path, mid, opts.Peers, WALOptions{Replay: replay.Options{Base: opts.Base}, Verify: accept})
	if err != nil {
		return nil, nil, err
	}
	r, err := RebuildPath(mid, out, RebuildOptions{Replay: replay.Options{Base: opts.Base}, DryRun: opts.DryRun, Verify: opts.Verify})
	if err != nil {
		return nil, nil, err
	}
	if r.Loss != nil {
		r.Loss.Entries += len(w.Lost)
	}
	return r, r.Loss, nil
}

// withRepairedDB writes at out a copy of the member at path whose db is
// the output of repair bolt or repair salvage.
func withRepairedDB(name, path, out string, opts AutoOptions) (Plan, *Loss, error) {
	l, err := datadir.Resolve(path)
	if err != nil {
		return nil, nil, err
	}
	if l.MemberDir == "" {
		return nil, nil, &InputError{"repair auto needs a data dir or a member dir"}
	}
	st, err := newStage(out, path)
	if err != nil {
		return nil, nil, err
	}
	defer st.abort()
	member := filepath.Join(st.Path(), "member")
	if err := copyMemberFiles(l.MemberDir, member); err != nil {
		return nil, nil, err
	}
	db := filepath.Join(member, "snap", "db")
	var (
		plan Plan
		loss *Loss
	)
	if name == "bolt" {
		var r *BoltResult
		if r, err = BoltPath(path, db, BoltOptions{}); err == nil {
			plan, loss = r, r.Loss
		}
	} else {
		var r *SalvageResult
		if r, err = SalvagePath(path, db, SalvageOptions{Replay: replay.Options{Base: opts.Base}}); err == nil {
			plan, loss = r, r.Loss
			if loss != nil && !r.KnowsLostKeys {
				// Measured against what can be read of the input: what its
				// damaged pages held is not known.
				loss.Problem = "what the db's damaged pages held is not known (no WAL replays to this index)"
			}
		}
	}
	if err != nil {
		return nil, nil, err
	}
	if opts.DryRun {
		return plan, loss, nil
	}
	return plan, loss, st.commit(opts.Verify.or(inspect.VerifyMember))
}

// copyMemberFiles copies the WAL and the snap files of a member dir, all
// but the db, into a new member dir.
func copyMemberFiles(in, out string) error {
	for _, sub := range []string{"wal", "snap"} {
		if err := os.MkdirAll(filepath.Join(out, sub), 0o700); err != nil {
			return err
		}
		ents, err := os.ReadDir(filepath.Join(in, sub))
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			return err
		}
		for _, e := range ents {
			if !e.Type().IsRegular() || sub == "snap" && e.Name() == "db" {
				continue
			}
			if err := copyFile(filepath.Join(out, sub, e.Name()), filepath.Join(in, sub, e.Name()), -1); err != nil {
				return err
			}
		}
	}
	return nil
}

// command is the command line of a repair.
func command(name, path, out string, opts AutoOptions) []string {
	if name == "none" {
		return []string{}
	}
	switch name {
	case "copy":
		name = "wal"
	case "wal+rebuild":
		return []string{}
	}
	if name == "bolt" || name == "salvage" {
		return []string{}
	}
	args := []string{"etcdscope", "repair", name, path, "--out", out}
	for _, p := range opts.Peers {
		if name == "wal" {
			args = append(args, "--peer", p)
		}
	}
	if opts.Base != "" && name != "bolt" {
		args = append(args, "--base", opts.Base)
	}
	return args
}

// autoCommand is the repair auto command line.
func autoCommand(path, out string, opts AutoOptions) []string {
	args := []string{"etcdscope", "repair", "auto", path, "--out", out}
	for _, p := range opts.Peers {
		args = append(args, "--peer", p)
	}
	if opts.Base != "" {
		args = append(args, "--base", opts.Base)
	}
	return args
}

// why says, for a person, why the candidate was chosen.
func why(rep *inspect.Report, c Candidate) string {
	v := rep.Verdict
	head := fmt.Sprintf("etcd %s %s", v.EtcdVersion, v.Outcome)
	if c.Loss != nil && c.Loss.None() {
		return head + "; repair " + c.Repair + " loses nothing any file still holds"
	}
	return head + "; repair " + c.Repair + " loses least of the repairs that apply"
}

// Describe writes what the plan says, for a person.
func (r *AutoResult) Describe(w io.Writer, o DescribeOptions) {
	d := describer{w, o}
	d.line("repair auto: repair %s, as the one that loses least (%s)", r.Repair, r.Why)
	for _, c := range r.Candidates {
		switch {
		case c.Error != "":
			d.line("  considered repair %s: cannot be used: %s", c.Repair, c.Error)
		default:
			d.line("  considered repair %s: %s", c.Repair, c.Loss.Summarize())
		}
	}
	if r.Plan != nil {
		r.Plan.Describe(w, o)
	}
}
