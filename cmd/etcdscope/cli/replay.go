package cli

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/etcdscope/etcdscope/replay"
)

type replayOptions struct {
	out     string
	toIndex uint64
	base    string
}

func (o *replayOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.out, "out", "", "the new data dir to write (must not exist)")
	fs.Uint64Var(&o.toIndex, "to-index", 0, "stop after this raft index (0: everything committed)")
	fs.StringVar(&o.base, "base", "", "start from this db (an etcdctl snapshot save backup or a .snap.db) instead of an empty state")
}

func newReplayCommand(g *globalOptions) *cobra.Command {
	o := &replayOptions{}
	return leaf(&cobra.Command{
		Use:   "replay DATA_DIR --out DIR",
		Short: "Rebuild the member's state from its WAL through a real raft node into a new data dir",
		Long: `Replays the member's WAL from an empty state through a real raft node
(go.etcd.io/raft/v3, restored as etcd restores it on restart, applying only what
raft hands out as committed) into a fresh etcd db, and lays out a complete new
data dir around it, as etcdutl snapshot restore does for a single member: real
etcd of the version that wrote the WAL starts on it. The source is only read.

--to-index N stops after raft index N: the state as it was then.

The base is an empty state when the WAL still starts at index 1; otherwise
--base FILE (an etcdctl snapshot save backup: point-in-time recovery from a
backup plus the WAL), else the newest .snap.db the member received, else the
member's own db, flagged in the summary as not an independent rebuild.

It applies key-value requests, txns, leases, compactions, auth (users, roles,
permissions, the auth revision), cluster version, member attributes, downgrade,
alarms, the legacy v2 requests etcd still applies and conf changes. What etcd
refuses at apply time it refuses too: writes from users without permission or
with an old auth revision, and the writes an active NOSPACE or CORRUPT alarm
blocks. The summary counts requests by kind, those refused, and any it did not
apply.`,
		Args: exactArgs(1, "one DATA_DIR"),
	}, o, func(cmd *cobra.Command, args []string) error { return replayFunc(cmd, g.output(), args[0], o) })
}

func replayFunc(cmd *cobra.Command, format outputFormat, arg string, o *replayOptions) error {
	if o.out == "" {
		return usagef("--out DIR is required: replay writes a new data dir and never touches the source")
	}
	l, files, err := openWAL(arg)
	if err != nil {
		return err
	}
	defer files.Close()
	opts := replay.Options{ToIndex: o.toIndex, Base: o.base, AutoBase: l.SnapDir, Progress: progressLine(cmd.ErrOrStderr())}
	res, err := replay.RunDataDir(files.Segments, o.out, opts)
	if err != nil {
		return err
	}
	d := newReplayDoc(o.out, res)
	return renderFields(cmd.OutOrStdout(), format, d, d.rows)
}

// progressLine returns a progress callback that redraws one line on
// stderr at most five times a second, or nil when stderr is not a terminal.
func progressLine(w io.Writer) func(applied, target uint64) {
	f, ok := w.(*os.File)
	if !ok {
		return nil
	}
	if st, err := f.Stat(); err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	var last time.Time
	return func(applied, target uint64) {
		if time.Since(last) < 200*time.Millisecond && applied < target {
			return
		}
		last = time.Now()
		pct := 100.0
		if target > 0 {
			pct = float64(applied) * 100 / float64(target)
		}
		fmt.Fprintf(w, "\rreplay: entry %d of %d (%.0f%%)   ", applied, target, pct)
		if applied >= target {
			fmt.Fprintln(w)
		}
	}
}

// replayDoc is replay -w json: where it wrote, and the result, with the
// member and cluster ids as etcd prints them.
type replayDoc struct {
	Out string `json:"out,omitempty"`
	*replay.Result
	NodeID    string `json:"node_id"`
	ClusterID string `json:"cluster_id"`
}

func newReplayDoc(out string, res *replay.Result) *replayDoc {
	return &replayDoc{out, res, hexID(res.NodeID), hexID(res.ClusterID)}
}

// rows is the replay's summary (WHAT, VALUE): where it wrote, then the
// result's fields.
func (d *replayDoc) rows() (hdr []string, rows [][]string) {
	return []string{"WHAT", "VALUE"}, fieldRows(append([][2]string{{"out", d.Out}}, d.Fields()...))
}
