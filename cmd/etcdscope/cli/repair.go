package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/etcdscope/etcdscope/finding"
	"github.com/etcdscope/etcdscope/internal/textfmt"
	"github.com/etcdscope/etcdscope/repair"
	"github.com/etcdscope/etcdscope/replay"
)

func newRepairCommand(g *globalOptions) *cobra.Command {
	c := &cobra.Command{
		Use:   "repair",
		Short: "Write a repaired copy of a member, a WAL or a db to a new path; the input is never written",
		Long: `Each repair writes only to the new path given by --out, never to its input.
The output is built under a temporary name beside --out, fsynced, checked with
inspect, and only then renamed to --out: a repair killed midway leaves nothing
there. --dry-run says what the output would keep and what it would drop (by
raft index, revision and key) and writes nothing.`,
	}
	c.AddCommand(newRepairAutoCommand(g), newRepairRebuildCommand(g), newRepairWALCommand(g), newRepairBoltCommand(g), newRepairSalvageCommand(g))
	return c
}

// renderRepair writes a repair's plan p: with -w json its document (the
// plan's fields, and the findings and summary of the input's check, as
// every command that checks writes them); in text, the plan, then for a
// dry run the findings. A dry run on an input with findings at error
// severity exits 1, as the checks do.
func renderRepair(cmd *cobra.Command, format outputFormat, dryRun bool, p repair.Plan) error {
	out, fr := cmd.OutOrStdout(), p.Input()
	if format == formatJSON {
		if err := writeJSON(out, p); err != nil {
			return err
		}
	} else {
		p.Describe(out, repair.DescribeOptions{MaxItems: 20, More: "(-w json lists them all)"})
		if dryRun {
			fmt.Fprintln(out, "")
			if err := renderFindings(out, cmd.ErrOrStderr(), format, fr); err != nil && !errors.Is(err, errFindings) {
				return err
			}
		}
	}
	if dryRun && fr.HasErrors() {
		return errFindings
	}
	return nil
}

// repairDone renders the plan of a repair that ran, or makes the refusal
// of a path it does not take a usage error.
func repairDone[P repair.Plan](cmd *cobra.Command, format outputFormat, dryRun bool, p P, err error) error {
	if _, ok := errors.AsType[*repair.InputError](err); ok {
		return usageError{err}
	}
	if err != nil {
		return err
	}
	return renderRepair(cmd, format, dryRun, p)
}

// rebuildDoc is repair rebuild -w json: the replay's ids in hex, as
// replay -w json writes them, and the input's findings after it.
type rebuildDoc struct {
	*repair.RebuildResult
	Replay *replayDoc `json:"replay"`
	*finding.Report
}

// repairOptions are the flags every repair has.
type repairOptions struct {
	out    string
	dryRun bool
	base   string
}

// addFlags adds --out (what it writes: the new data dir or db file),
// --dry-run (what it says instead), and --base when baseUsage says what
// the base is for.
func (o *repairOptions) addFlags(fs *pflag.FlagSet, out, dryRun, baseUsage string) {
	fs.StringVar(&o.out, "out", "", out+" to write (must not exist)")
	fs.BoolVar(&o.dryRun, "dry-run", false, dryRun+" and write nothing")
	if baseUsage != "" {
		fs.StringVar(&o.base, "base", "", baseUsage)
	}
}

// check checks --out (a new DIR or FILE) before the repair reads, and
// names on stderr what killed repairs onto it left beside it.
func (o *repairOptions) check(cmd *cobra.Command, what string) error {
	if o.out == "" {
		return usagef("--out %s is required: repair writes to a new path and never touches its input", what)
	}
	for _, l := range repair.Leftovers(o.out) {
		fmt.Fprintf(cmd.ErrOrStderr(), "etcdscope: warning: %s was left by a repair onto %s that did not finish (killed?); remove it\n", textfmt.Escape(l), textfmt.Escape(o.out))
	}
	return nil
}

// ---- repair auto ----

// peerOptions are the flags of the repairs of a member that take entries
// from peers (repair auto, repair wal): the repair's, and --peer.
type peerOptions struct {
	repairOptions
	dryRunUsage, baseUsage string
	peers                  []string
}

func (o *peerOptions) AddFlags(fs *pflag.FlagSet) {
	o.addFlags(fs, "the new data dir", o.dryRunUsage, o.baseUsage)
	fs.StringArrayVar(&o.peers, "peer", nil, "another member's data dir to take entries from that are missing or damaged locally (repeatable)")
}

func newRepairAutoCommand(g *globalOptions) *cobra.Command {
	o := &peerOptions{dryRunUsage: "say which repair would run and what it would lose", baseUsage: "a db to start a replay from when the WAL does not start at index 1"}
	return leaf(&cobra.Command{
		Use:   "auto DATA_DIR --out DIR",
		Short: "The repair that loses least, as inspect recommends it",
		Long: `Checks the member as inspect does, tries every repair that applies in a dry
run (repair wal, repair rebuild, repair bolt, repair salvage; a db repair's
output is put into a copy of the member), and runs the one that loses least:
the first that loses nothing any file still holds, else the one that loses
fewest keys, then revisions, then entries. The plan lists every repair
considered with what it would lose, then the chosen repair's own plan.`,
		Args: exactArgs(1, "one DATA_DIR"),
	}, o, func(cmd *cobra.Command, args []string) error {
		if err := o.check(cmd, "DIR"); err != nil {
			return err
		}
		res, err := repair.Auto(args[0], o.out, repair.AutoOptions{Peers: o.peers, Base: o.base, DryRun: o.dryRun})
		return repairDone(cmd, g.output(), o.dryRun, res, err)
	})
}

// ---- repair rebuild ----

type repairRebuildOptions struct {
	repairOptions
	toIndex       uint64
	bumpRevision  uint64
	markCompacted bool
}

func (o *repairRebuildOptions) AddFlags(fs *pflag.FlagSet) {
	o.addFlags(fs, "the new data dir", "say what the new member would hold", "a db to start from (an etcdctl snapshot save backup) when the WAL does not start at index 1")
	fs.Uint64Var(&o.toIndex, "to-index", 0, "stop after this raft index")
	fs.Uint64Var(&o.bumpRevision, "bump-revision", 0, "raise the latest revision by this much (with --mark-compacted)")
	fs.BoolVar(&o.markCompacted, "mark-compacted", false, "schedule a compaction at the bumped revision (with --bump-revision)")
}

func newRepairRebuildCommand(g *globalOptions) *cobra.Command {
	o := &repairRebuildOptions{}
	return leaf(&cobra.Command{
		Use:   "rebuild DATA_DIR --out DIR",
		Short: "A new member data dir from the member's snapshot and WAL, for a lost or damaged db",
		Long: `Rebuilds the member's state from its WAL through the replay engine (a real
raft node, every committed entry applied as etcd applies it; see replay) and
writes a new data dir around it that real etcd starts on as a single-member
cluster, keeping the member and cluster ids. The db of DATA_DIR is not needed:
the state starts empty when the WAL still starts at index 1, else from --base
FILE, else from the newest .snap.db the member received, else from its own db.
--to-index N stops after raft index N. --bump-revision N with --mark-compacted
raises the latest revision by N and schedules a compaction there, as etcdutl
snapshot restore does, so that clients watching from an old revision are told
it was compacted. The plan lists the entries left out (not committed, or after
--to-index).`,
		Args: exactArgs(1, "one DATA_DIR"),
	}, o, func(cmd *cobra.Command, args []string) error { return repairRebuild(cmd, g.output(), args[0], o) })
}

func repairRebuild(cmd *cobra.Command, format outputFormat, arg string, o *repairRebuildOptions) error {
	if err := o.check(cmd, "DIR"); err != nil {
		return err
	}
	if o.markCompacted != (o.bumpRevision > 0) {
		return usagef("--bump-revision N and --mark-compacted go together, as in etcdutl snapshot restore")
	}
	res, err := repair.RebuildPath(arg, o.out, repair.RebuildOptions{
		Replay:       replay.Options{ToIndex: o.toIndex, Base: o.base, Progress: progressLine(cmd.ErrOrStderr())},
		BumpRevision: o.bumpRevision, MarkCompacted: o.markCompacted, DryRun: o.dryRun,
	})
	if err != nil {
		return err
	}
	return renderRepair(cmd, format, o.dryRun, rebuildDoc{res, newReplayDoc("", res.Replay), res.Report})
}

// ---- repair wal ----

func newRepairWALCommand(g *globalOptions) *cobra.Command {
	o := &peerOptions{dryRunUsage: "say what would be kept and lost", baseUsage: "a db to start a rebuilt db from when the WAL does not start at index 1"}
	return leaf(&cobra.Command{
		Use:   "wal DATA_DIR --out DIR",
		Short: "A copy of the member whose WAL keeps everything the evidence still holds",
		Long: `Writes a copy of the member whose WAL loses nothing the files still hold:
- a flipped bit that explains a record's damage (one bit makes its CRC match,
  or makes it decode) is flipped back, when the record then fits the log: the
  WAL is then byte for byte what etcd wrote;
- non-zero padding and garbage after the end of the log are cleared;
- damage it cannot read past cuts the log there, unless the db (sound, and
  its consistent_index past the cut) already holds those entries: the WAL then
  starts from the db, with a snapshot record and a .snap at its consistent
  index as etcdutl snapshot restore lays them out (the member and cluster ids,
  the hard state's term and vote kept), followed by every readable entry after
  it;
- entries missing or damaged locally are taken from the WAL of a --peer DIR
  where log matching allows it (the same index and term at the join), up to
  that peer's commit.
The kept records are written again as etcd writes them, at the same offsets,
their CRC chain recomputed. When the db holds entries past what is kept, it is
rebuilt by replaying the kept log (from --base FILE, or the newest .snap.db,
when the WAL does not start at index 1). The plan lists what was flipped back,
where the log comes from, every entry lost, and the loss in every kind of
state (keys, revisions, leases, auth, members).`,
		Args: exactArgs(1, "one DATA_DIR"),
	}, o, func(cmd *cobra.Command, args []string) error { return repairWAL(cmd, g.output(), args[0], o) })
}

func repairWAL(cmd *cobra.Command, format outputFormat, arg string, o *peerOptions) error {
	if err := o.check(cmd, "DIR"); err != nil {
		return err
	}
	res, err := repair.WALPath(arg, o.out, o.peers, repair.WALOptions{Replay: replay.Options{Base: o.base}, DryRun: o.dryRun})
	return repairDone(cmd, format, o.dryRun, res, err)
}

// ---- repair bolt ----

// newDBRepairCommand is the command of a repair of the db: c says what it
// is, run does it.
func newDBRepairCommand(c *cobra.Command, dryRun, baseUsage string, run func(cmd *cobra.Command, arg string, o *repairOptions) error) *cobra.Command {
	o := &repairOptions{}
	c.Args = exactArgs(1, "one DB or DATA_DIR")
	c.RunE = func(cmd *cobra.Command, args []string) error {
		if err := o.check(cmd, "FILE"); err != nil {
			return err
		}
		return run(cmd, args[0], o)
	}
	o.addFlags(c.Flags(), "the new db file", dryRun, baseUsage)
	return c
}

func newRepairBoltCommand(g *globalOptions) *cobra.Command {
	return newDBRepairCommand(&cobra.Command{
		Use:   "bolt DB --out FILE",
		Short: "A copy of the db whose metas and freelist are made sound",
		Long: `Writes a copy of the bbolt file (DB, or the db of a data dir) whose two meta
pages both carry the newest transaction whose whole tree is sound: every page
of it read and checked (ids, types, bounds, key order, no page reached twice).
A meta whose checksum or fields are wrong is rewritten when its tree checks
out; an older transaction is used only when every newer one's tree fails the
check, which also catches pages reused since, and the plan then says which
transaction is lost. A freelist that is wrong, or pages neither reachable nor
free, are fixed by giving the metas bbolt's no-freelist mark: bbolt (and etcd)
then rebuild the free set from what is reachable. Given a data dir, the plan
also says what etcd will hold once it has applied again, on start, the WAL's
entries past the output's consistent index. The output is checked as bolt
check checks before it is renamed to --out.`,
	}, "say what would be fixed and lost", "", func(cmd *cobra.Command, arg string, o *repairOptions) error {
		res, err := repair.BoltPath(arg, o.out, repair.BoltOptions{DryRun: o.dryRun})
		return repairDone(cmd, g.output(), o.dryRun, res, err)
	})
}

// ---- repair salvage ----

func newRepairSalvageCommand(g *globalOptions) *cobra.Command {
	return newDBRepairCommand(&cobra.Command{
		Use:   "salvage DB --out FILE",
		Short: "A new etcd db from every record that can still be read, reachable or not",
		Long: `Reads every page of the db (DB, or the db of a data dir): the records of every
bucket the tree still reaches, read past damaged pages, and the records of
etcd's key bucket left on pages the tree no longer reaches (freed pages keep
their contents until reused). It writes a new etcd db of them: a recovered
record goes in when its revision is above the compaction and not past the
newest revision the tree holds (one past it is from a transaction that never
committed). The db's consistent index is kept. The plan counts what was
placed and recovered, lists what was not placed with its page, and the
revisions of which no record was found; given a data dir, it replays the WAL
to the same raft index and lists exactly the keys whose state the salvage
loses (repair rebuild recovers them, when the WAL holds them).`,
	}, "say what would be placed and lost", "where the WAL replay that names the lost keys starts, when the WAL does not start at index 1",
		func(cmd *cobra.Command, arg string, o *repairOptions) error {
			res, err := repair.SalvagePath(arg, o.out, repair.SalvageOptions{DryRun: o.dryRun, Replay: replay.Options{Base: o.base}})
			return repairDone(cmd, g.output(), o.dryRun, res, err)
		})
}
