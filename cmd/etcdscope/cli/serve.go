package cli

import (
	"errors"
	"fmt"
	"net"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/etcdscope/etcdscope/replay"
	"github.com/etcdscope/etcdscope/replay/serve"
)

type serveOptions struct {
	listen         string
	from, db       string
	toIndex        uint64
	base           string
	certFile       string
	keyFile        string
	caFile         string
	insecureListen bool
}

func (o *serveOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.listen, "listen", "127.0.0.1:23790", "where to answer: host:port, http://host:port, or https://host:port (with TLS)")
	fs.StringVar(&o.from, "from", "", "serve the db of a data dir replay --out made")
	fs.StringVar(&o.db, "db", "", "serve this db file as it is (a backup, a .snap.db), without replay")
	fs.Uint64Var(&o.toIndex, "to-index", 0, "serve the state as it was at this raft index")
	fs.StringVar(&o.base, "base", "", "replay from this db (as replay --base)")
	fs.StringVar(&o.certFile, "cert-file", "", "TLS certificate")
	fs.StringVar(&o.keyFile, "key-file", "", "TLS key")
	fs.StringVar(&o.caFile, "trusted-ca-file", "", "CA bundle: require client certificates it signed")
	fs.BoolVar(&o.insecureListen, "insecure-listen", false, "allow a non-loopback --listen without TLS")
}

func newServeCommand() *cobra.Command {
	o := &serveOptions{}
	return leaf(&cobra.Command{
		Use:   "serve [DATA_DIR | --from DIR | --db FILE]",
		Short: "Serve a member's rebuilt state, read-only, over etcd's own v3 gRPC API",
		Long: `Replays the member's WAL (as replay does, into a temporary dir removed on
exit) and answers etcd's v3 gRPC API on --listen, so that etcdctl, client/v3
programs and other etcd clients read from it unchanged: ranges with every option,
read-only txns, watches from a past revision (the history, then nothing: the
state never changes), endpoint status, endpoint hashkv, member list, lease list
and timetolive, alarm list, auth status.

--from DIR serves the db of a data dir replay --out made; --db FILE serves a db
as it is (an etcdctl snapshot save backup, a .snap.db) without replay. Either
is copied first: the source is never opened by bbolt, locked or written.
--to-index N serves the state as it was at raft index N.

Linearizable reads are answered as serializable: there is no cluster to agree
with. Every write (put, delete, a txn with a write, compaction, lease grant,
revoke and keep-alive, member, auth and alarm changes, defragment) is refused
with a read-only error. serve checks no etcd credentials: every client reads
everything. etcd data holds secrets, so a --listen address that is not
loopback needs TLS (--cert-file, --key-file, and --trusted-ca-file to require
client certificates) or --insecure-listen. SIGINT or SIGTERM stops it.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if n := len(args) + btoi(o.from != "") + btoi(o.db != ""); n != 1 {
				return usagef("%s takes one of DATA_DIR, --from DIR or --db FILE", cmd.CommandPath())
			}
			return nil
		},
	}, o, func(cmd *cobra.Command, args []string) error { return serveFunc(cmd, args, o) })
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// serveFunc serves until the command's context is done (main's on SIGINT
// or SIGTERM).
func serveFunc(cmd *cobra.Command, args []string, o *serveOptions) error {
	if o.toIndex != 0 && len(args) == 0 {
		return usagef("--to-index needs DATA_DIR: --from and --db serve a db as it is")
	}
	tlsCfg, err := serve.TLSConfig(o.certFile, o.keyFile, o.caFile)
	if err != nil {
		return configUsage(err)
	}
	scheme, addr, err := checkListen(o.listen, tlsCfg != nil, o.insecureListen)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "etcdscope-serve-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	src := serve.Source{From: o.from, DB: o.db, Replay: replay.Options{ToIndex: o.toIndex, Base: o.base, Progress: progressLine(cmd.ErrOrStderr())}}
	if len(args) == 1 {
		src.Member = args[0]
	}
	p, err := serve.Prepare(src, tmp)
	if err != nil {
		return err
	}
	what := p.Source
	if r := p.Replay; r != nil {
		what = fmt.Sprintf("%s replayed to index %d (base: %s)", p.Source, r.AppliedIndex, r.Base)
	}
	p.TLS = tlsCfg
	srv, err := serve.New(p.Options)
	if err != nil {
		return err
	}
	defer srv.Stop()
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "serving %s read-only on %s://%s: revision %d (compacted at %d), raft index %d; linearizable reads are answered as serializable; stop with Ctrl-C\n",
		what, scheme, lis.Addr(), srv.Revision(), srv.CompactRevision(), srv.RaftIndex())
	if err := srv.Run(cmd.Context(), lis); err != nil {
		return err
	}
	fmt.Fprintln(cmd.ErrOrStderr(), "serve: stopped")
	return nil
}

// checkListen is serve.ListenAddr, its refusals usage errors.
func checkListen(listen string, withTLS, insecure bool) (scheme, addr string, err error) {
	scheme, addr, err = serve.ListenAddr(listen, withTLS, insecure)
	return scheme, addr, configUsage(err)
}

// configUsage makes serve's refusal of a flag or flags a usage error.
func configUsage(err error) error {
	if _, ok := errors.AsType[*serve.ConfigError](err); ok {
		return usageError{err}
	}
	return err
}
