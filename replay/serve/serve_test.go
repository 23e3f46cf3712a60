package serve_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"

	"github.com/etcdscope/etcdscope/internal/etcdtest"
	"github.com/etcdscope/etcdscope/internal/replaytest"
	"github.com/etcdscope/etcdscope/replay"
	"github.com/etcdscope/etcdscope/replay/serve"
)

// start serves db on a free loopback port until the test ends.
func start(tb testing.TB, opts serve.Options) (*serve.Server, string) {
	tb.Helper()
	srv, err := serve.New(opts)
	if err != nil {
		tb.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(lis) }()
	tb.Cleanup(func() {
		srv.Stop()
		if err := <-done; err != nil {
			tb.Errorf("Serve: %v", err)
		}
	})
	return srv, lis.Addr().String()
}

func client(tb testing.TB, endpoint string, tlsCfg *tls.Config) *clientv3.Client {
	tb.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{endpoint}, DialTimeout: 5 * time.Second, TLS: tlsCfg, Logger: zap.NewNop()})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { cli.Close() })
	return cli
}

// TestServeClientV3: a client/v3 program gets from serve what it gets from
// real etcd serving the same data (etcd 3.6 restarted on a copy): ranges
// with their options, a read-only txn, a watch from a past revision,
// status, hashkv, members and leases; and every write fails.
func TestServeClientV3(t *testing.T) {
	dir, rec := etcdtest.Generate(t, "3.6", etcdtest.GenOptions{})
	db, res := replaytest.Replay(t, dir, replay.Options{})
	defer etcdtest.RequireUnchanged(t, dir)()
	_, addr := start(t, serve.Options{DB: db, ClusterID: res.ClusterID, MemberID: res.NodeID, RaftTerm: res.AppliedTerm, RaftIndex: res.AppliedIndex})
	ref := filepath.Join(t.TempDir(), "ref")
	if err := etcdtest.CopyTree(dir, ref); err != nil {
		t.Fatal(err)
	}
	m := etcdtest.StartMember(t, etcdtest.Binaries(t, "3.6"), etcdtest.MemberOptions{DataDir: ref, Auth: "root:" + etcdtest.RootPassword})
	defer m.Stop(t)
	ours, theirs := client(t, addr, nil), m.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// Headers differ in member, cluster and term; the rest must not.
	clean := func(msg proto.Message) proto.Message {
		msg = proto.Clone(msg)
		var walk func(m proto.Message)
		walk = func(m proto.Message) {
			switch x := m.(type) {
			case *pb.RangeResponse:
				x.Header = &pb.ResponseHeader{Revision: x.Header.GetRevision()}
			case *pb.TxnResponse:
				x.Header = &pb.ResponseHeader{Revision: x.Header.GetRevision()}
				for _, r := range x.Responses {
					if rr := r.GetResponseRange(); rr != nil {
						walk(rr)
					}
				}
			}
		}
		walk(msg)
		return msg
	}
	compact := rec.CompactRevision
	for _, tc := range []struct {
		name string
		key  string
		opts []clientv3.OpOption
	}{
		{"one key", "/app/config", nil},
		{"missing key", "/nope", nil},
		{"prefix", "/", []clientv3.OpOption{clientv3.WithPrefix()}},
		{"limit", "", []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithLimit(4)}},
		{"sort by mod desc", "", []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByModRevision, clientv3.SortDescend)}},
		{"sort by version, limit", "", []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByVersion, clientv3.SortAscend), clientv3.WithLimit(6)}},
		{"min mod revision", "", []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithMinModRev(compact + 10)}},
		{"max create revision", "", []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithMaxCreateRev(compact + 20), clientv3.WithLimit(3)}},
		{"at the compaction", "", []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithRev(compact)}},
		{"keys only", "", []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithKeysOnly()}},
		{"count only", "", []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithCountOnly()}},
		{"range", "/a", []clientv3.OpOption{clientv3.WithRange("/m"), clientv3.WithSerializable()}},
	} {
		got, err1 := ours.Get(ctx, tc.key, tc.opts...)
		want, err2 := theirs.Get(ctx, tc.key, tc.opts...)
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: %v / %v", tc.name, err1, err2)
		}
		if g, w := clean((*pb.RangeResponse)(got)), clean((*pb.RangeResponse)(want)); !proto.Equal(g, w) {
			t.Errorf("%s:\nserve     %v\nreal etcd %v", tc.name, g, w)
		}
	}
	for _, rev := range []int64{compact - 1, rec.Revision + 1} {
		_, err1 := ours.Get(ctx, "/", clientv3.WithRev(rev))
		_, err2 := theirs.Get(ctx, "/", clientv3.WithRev(rev))
		if err1 == nil || err2 == nil || err1.Error() != err2.Error() {
			t.Errorf("get at %d: serve %v, real etcd %v", rev, err1, err2)
		}
	}

	txn := func(c *clientv3.Client) *clientv3.TxnResponse {
		r, err := c.Txn(ctx).If(clientv3.Compare(clientv3.Value("/app/config"), "=", `{"replicas":3}`),
			clientv3.Compare(clientv3.Version("/nope"), "=", 0)).
			Then(clientv3.OpGet("/app/", clientv3.WithPrefix()), clientv3.OpTxn(nil, []clientv3.Op{clientv3.OpGet("/lease/", clientv3.WithPrefix())}, nil)).
			Else(clientv3.OpGet("/nope")).Commit()
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if g, w := clean((*pb.TxnResponse)(txn(ours))), clean((*pb.TxnResponse)(txn(theirs))); !proto.Equal(g, w) {
		t.Errorf("read-only txn:\nserve     %v\nreal etcd %v", g, w)
	}

	watch := func(c *clientv3.Client) []*clientv3.Event {
		wctx, wcancel := context.WithTimeout(ctx, 3*time.Second)
		defer wcancel()
		var evs []*clientv3.Event
		for wr := range c.Watch(clientv3.WithRequireLeader(wctx), "", clientv3.WithPrefix(), clientv3.WithRev(compact+1), clientv3.WithPrevKV()) {
			evs = append(evs, wr.Events...)
		}
		return evs
	}
	got, want := watch(ours), watch(theirs)
	if len(want) == 0 || len(got) != len(want) {
		t.Errorf("watch: serve %d events, real etcd %d", len(got), len(want))
	} else {
		for i := range want {
			if !proto.Equal((*mvccpb.Event)(got[i]), (*mvccpb.Event)(want[i])) {
				t.Errorf("watch event %d:\nserve     %v\nreal etcd %v", i, got[i], want[i])
				break
			}
		}
	}
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	wr := <-ours.Watch(wctx, "/", clientv3.WithPrefix(), clientv3.WithRev(compact-1))
	wcancel()
	if wr.CompactRevision != compact {
		t.Errorf("watch below the compaction: compact revision %d, want %d (err %v)", wr.CompactRevision, compact, wr.Err())
	}

	st, err := ours.Status(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	if st.Header.Revision != rec.Revision || st.RaftAppliedIndex != res.AppliedIndex || st.Leader != res.NodeID {
		t.Errorf("status: %v", st)
	}
	h, err := ours.HashKV(ctx, addr, 0)
	if err != nil {
		t.Fatal(err)
	}
	hw, err := theirs.HashKV(ctx, m.ClientURL, 0)
	if err != nil {
		t.Fatal(err)
	}
	if h.Hash != hw.Hash || h.CompactRevision != hw.CompactRevision {
		t.Errorf("hashkv: serve %d/%d, real etcd %d/%d", h.Hash, h.CompactRevision, hw.Hash, hw.CompactRevision)
	}
	ml, err := ours.MemberList(ctx)
	if err != nil || len(ml.Members) != 1 || ml.Members[0].ID != res.NodeID || len(ml.Members[0].ClientURLs) == 0 {
		t.Errorf("member list: %v %v", ml, err)
	}
	ls, err := ours.Leases(ctx)
	lw, err2 := theirs.Leases(ctx)
	if err != nil || err2 != nil || len(ls.Leases) != len(lw.Leases) {
		t.Errorf("leases: serve %v %v, real etcd %v %v", ls, err, lw, err2)
	}
	ttl, err := ours.TimeToLive(ctx, clientv3.LeaseID(etcdtest.LeaseKeptAlive), clientv3.WithAttachedKeys())
	if err != nil || ttl.GrantedTTL != 600 || len(ttl.Keys) != 2 {
		t.Errorf("lease timetolive: %v %v", ttl, err)
	}

	for name, write := range map[string]func() error{
		"put":          func() error { _, err := ours.Put(ctx, "/x", "y"); return err },
		"delete":       func() error { _, err := ours.Delete(ctx, "/app/config"); return err },
		"txn with put": func() error { _, err := ours.Txn(ctx).Then(clientv3.OpPut("/x", "y")).Commit(); return err },
		"compact":      func() error { _, err := ours.Compact(ctx, rec.Revision); return err },
		"lease grant":  func() error { _, err := ours.Grant(ctx, 10); return err },
		"lease revoke": func() error { _, err := ours.Revoke(ctx, clientv3.LeaseID(etcdtest.LeaseKeptAlive)); return err },
		"keep-alive":   func() error { _, err := ours.KeepAliveOnce(ctx, clientv3.LeaseID(etcdtest.LeaseKeptAlive)); return err },
		"member add":   func() error { _, err := ours.MemberAdd(ctx, []string{"http://127.0.0.1:1"}); return err },
		"user add":     func() error { _, err := ours.UserAdd(ctx, "mallory", "pw"); return err },
		"defragment":   func() error { _, err := ours.Defragment(ctx, addr); return err },
		"alarm disarm": func() error {
			_, err := pb.NewMaintenanceClient(ours.ActiveConnection()).Alarm(ctx, &pb.AlarmRequest{Action: pb.AlarmRequest_DEACTIVATE, Alarm: pb.AlarmType_NOSPACE})
			return err
		},
	} {
		if err := write(); err == nil || !strings.Contains(err.Error(), "read-only") {
			t.Errorf("%s: %v, want the read-only error", name, err)
		}
	}
}

// TestServeTLS: with a CA given, serve answers only clients with a
// certificate it signed.
func TestServeTLS(t *testing.T) {
	dir, _ := etcdtest.Generate(t, "3.6", etcdtest.GenOptions{})
	db, _ := replaytest.Replay(t, dir, replay.Options{})
	ca, caKey := newCert(t, nil, nil, "etcdscope test CA", true)
	srvCert, srvKey := newCert(t, ca, caKey, "127.0.0.1", false)
	cliCert, cliKey := newCert(t, ca, caKey, "client", false)
	other, otherKey := newCert(t, nil, nil, "someone else", true)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	_, addr := start(t, serve.Options{DB: db, TLS: &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{srvCert.Raw}, PrivateKey: srvKey}},
		ClientCAs:    pool, ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12,
	}})
	cfg := func(c *x509.Certificate, k *ecdsa.PrivateKey) *tls.Config {
		return &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{{Certificate: [][]byte{c.Raw}, PrivateKey: k}}}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := client(t, addr, cfg(cliCert, cliKey)).Get(ctx, "/app/config")
	if err != nil || len(r.Kvs) != 1 {
		t.Fatalf("get with a client certificate: %v %v", r, err)
	}
	for name, c := range map[string]*tls.Config{
		"no certificate":              {RootCAs: pool},
		"a certificate of another CA": cfg(other, otherKey),
	} {
		cctx, ccancel := context.WithTimeout(ctx, 3*time.Second)
		_, err := client(t, addr, c).Get(cctx, "/app/config")
		ccancel()
		if err == nil {
			t.Errorf("get with %s succeeded", name)
		}
	}
	cctx, ccancel := context.WithTimeout(ctx, 3*time.Second)
	defer ccancel()
	if _, err := client(t, addr, nil).Get(cctx, "/app/config"); err == nil || errors.Is(err, context.Canceled) {
		t.Errorf("get in clear text from a TLS server: %v", err)
	}
}

// newCert makes a P-256 certificate for cn, signed by parent (self-signed
// when nil), valid for 127.0.0.1.
func newCert(t *testing.T, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, cn string, isCA bool) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		IsCA:         isCA, BasicConstraintsValid: true,
	}
	signer, signerKey := tmpl, key
	if parent != nil {
		signer, signerKey = parent, parentKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c, key
}
