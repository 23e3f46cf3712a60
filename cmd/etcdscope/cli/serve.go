package cli

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/etcdscope/etcdscope/inspect"
	"github.com/etcdscope/etcdscope/internal/datadir"
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
	tlsCfg, err := o.tlsConfig()
	if err != nil {
		return err
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
	sopts, what, err := o.prepare(cmd, args, tmp)
	if err != nil {
		return err
	}
	sopts.TLS = tlsCfg
	srv, err := serve.New(sopts)
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
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(lis) }()
	select {
	case <-cmd.Context().Done():
		srv.Stop()
		<-errc
		fmt.Fprintln(cmd.ErrOrStderr(), "serve: stopped")
		return nil
	case err := <-errc:
		return err
	}
}

// prepare makes the private db serve opens: a replay of DATA_DIR, or a
// copy of the given db.
func (o *serveOptions) prepare(cmd *cobra.Command, args []string, tmp string) (serve.Options, string, error) {
	var src string
	switch {
	case o.db != "":
		src = o.db
	case o.from != "":
		l, err := datadir.Resolve(o.from)
		if err != nil {
			return serve.Options{}, "", err
		}
		if l.DB == "" {
			return serve.Options{}, "", fmt.Errorf("serve: %s holds no member/snap/db; give the dir replay --out wrote", o.from)
		}
		src = l.DB
	default:
		return o.replay(cmd, args[0], tmp)
	}
	dst := filepath.Join(tmp, "db")
	if err := copyEvidence(src, dst); err != nil {
		return serve.Options{}, "", err
	}
	if err := checkServable(dst, src); err != nil {
		return serve.Options{}, "", err
	}
	return serve.Options{DB: dst}, src, nil
}

func (o *serveOptions) replay(cmd *cobra.Command, arg, tmp string) (serve.Options, string, error) {
	l, files, err := openWAL(arg)
	if err != nil {
		return serve.Options{}, "", err
	}
	defer files.Close()
	// A db only: a data dir laid out as etcdutl snapshot restore lays it
	// out would reset the members to the one new member.
	out := filepath.Join(tmp, "db")
	opts := replay.Options{Out: out, ToIndex: o.toIndex, Base: o.base, AutoBase: l.SnapDir, Progress: progressLine(cmd.ErrOrStderr())}
	res, err := replay.Run(files.Segments, opts)
	if err != nil {
		return serve.Options{}, "", err
	}
	what := fmt.Sprintf("%s replayed to index %d (base: %s)", arg, res.AppliedIndex, res.Base)
	return serve.Options{DB: out, ClusterID: res.ClusterID, MemberID: res.NodeID,
		RaftTerm: res.AppliedTerm, RaftIndex: res.AppliedIndex}, what, nil
}

// copyEvidence copies src, opened read-only and never locked, to dst.
func copyEvidence(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("serve: copying %s: %w", src, err)
	}
	return nil
}

// checkServable refuses a damaged db: bbolt, which serve reads with,
// panics on damaged pages.
func checkServable(path, src string) error {
	err := inspect.VerifyDB(path)
	if ve, ok := errors.AsType[*inspect.VerifyError](err); ok {
		return fmt.Errorf("serve: %s is damaged (%d problems; see etcdscope bolt check %s); serve needs a sound db: replay the member, or salvage it first", src, len(ve.Findings), src)
	}
	if err != nil {
		return fmt.Errorf("serve: %s: %w", src, err)
	}
	return nil
}

// checkListen reads --listen (host:port, or an http or https URL of one),
// and refuses to expose etcd data in clear to the network. It returns the
// scheme and the host:port to listen on.
func checkListen(listen string, withTLS, insecure bool) (scheme, addr string, err error) {
	scheme, addr = "http", listen
	if withTLS {
		scheme = "https"
	}
	if s, rest, ok := strings.Cut(listen, "://"); ok {
		switch {
		case s != "http" && s != "https":
			return "", "", usagef("--listen %q: want host:port, http://host:port or https://host:port", listen)
		case s == "https" && !withTLS:
			return "", "", usagef("--listen %s needs --cert-file and --key-file", listen)
		case s == "http" && withTLS:
			return "", "", usagef("--listen %s: TLS is on (--cert-file); give https://", listen)
		}
		addr = strings.TrimSuffix(rest, "/")
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", "", usagef("--listen %q: %v (want host:port, http://host:port or https://host:port)", listen, err)
	}
	if withTLS || insecure || host == "localhost" {
		return scheme, addr, nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return scheme, addr, nil
	}
	return "", "", usagef("--listen %s is not a loopback address: etcd data holds secrets; give --cert-file and --key-file (and --trusted-ca-file), or --insecure-listen", listen)
}

// tlsConfig is the TLS --cert-file, --key-file and --trusted-ca-file ask
// for, nil for none.
func (o *serveOptions) tlsConfig() (*tls.Config, error) {
	switch {
	case o.certFile == "" && o.keyFile == "" && o.caFile != "":
		return nil, usagef("--trusted-ca-file needs --cert-file and --key-file")
	case o.certFile == "" && o.keyFile == "":
		return nil, nil
	case o.certFile == "" || o.keyFile == "":
		return nil, usagef("--cert-file and --key-file go together")
	}
	return serve.TLSConfig(o.certFile, o.keyFile, o.caFile)
}
