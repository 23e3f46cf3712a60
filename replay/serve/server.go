// Package serve answers etcd's v3 gRPC API, read-only, over an etcd db:
// the state replay rebuilt, or a backup. etcdctl and client/v3 programs
// work against it unchanged; every write is refused and nothing is ever
// written.
package serve

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"github.com/etcdscope/etcdscope/mvccview"
)

// Options say what to serve and how.
type Options struct {
	// DB is the etcd db file to serve. It is opened read-only with bbolt,
	// which maps it and takes a shared lock: give it a private copy, never
	// a live member's db.
	DB string
	// ClusterID and MemberID go in every response header; RaftTerm and
	// RaftIndex in headers and Status (0: the db's own meta term and
	// consistent_index).
	ClusterID, MemberID uint64
	RaftTerm, RaftIndex uint64
	// Version is the server version Status reports (default: the db's
	// cluster version).
	Version string
	// TLS, when set, serves TLS with this config (client certificates as
	// it requires them).
	TLS *tls.Config
}

// Server is a read-only etcd endpoint over one db.
type Server struct {
	pb.UnimplementedKVServer
	pb.UnimplementedWatchServer
	pb.UnimplementedLeaseServer
	pb.UnimplementedClusterServer
	pb.UnimplementedMaintenanceServer
	pb.UnimplementedAuthServer

	opts    Options
	db      *bolt.DB
	st      *mvccview.Store
	dbSize  int64
	version string
	// fastKeysOnly: etcd 3.7 answers a keys-only range from its key index,
	// without the lease (unless it sorts by value).
	fastKeysOnly bool
	grpc         *grpc.Server

	stopOnce sync.Once
	stopping chan struct{} // closed by Stop: ends the watch streams
}

// New opens the db and rebuilds its key index, as etcd does when it
// starts.
func New(opts Options) (*Server, error) {
	fi, err := os.Stat(opts.DB)
	if err != nil {
		return nil, err
	}
	db, err := bolt.Open(opts.DB, 0o400, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("serve: %s: %w", opts.DB, err)
	}
	st, err := mvccview.Open(&mvccview.BBoltSource{DB: db})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("serve: %s: %w", opts.DB, err)
	}
	s := &Server{opts: opts, db: db, st: st, dbSize: fi.Size(), stopping: make(chan struct{})}
	if s.opts.RaftIndex == 0 {
		s.opts.RaftIndex = st.Meta.ConsistentIndex
	}
	if s.opts.RaftTerm == 0 {
		s.opts.RaftTerm = st.Meta.Term
	}
	s.version = opts.Version
	if s.version == "" {
		if c, err := st.Cluster(); err == nil && c.ClusterVersion != "" {
			s.version = c.ClusterVersion
		}
	}
	s.fastKeysOnly = atLeast(s.version, 3, 7)
	sopts := []grpc.ServerOption{
		grpc.MaxSendMsgSize(math.MaxInt32), // as etcd: a range answer is not capped at 4 MiB
		grpc.MaxRecvMsgSize(16 << 20),
		grpc.MaxConcurrentStreams(math.MaxUint32),
	}
	if opts.TLS != nil {
		sopts = append(sopts, grpc.Creds(credentials.NewTLS(opts.TLS)))
	}
	s.grpc = grpc.NewServer(sopts...)
	pb.RegisterKVServer(s.grpc, s)
	pb.RegisterWatchServer(s.grpc, s)
	pb.RegisterLeaseServer(s.grpc, s)
	pb.RegisterClusterServer(s.grpc, s)
	pb.RegisterMaintenanceServer(s.grpc, s)
	pb.RegisterAuthServer(s.grpc, s)
	return s, nil
}

// Revision is the store's current revision.
func (s *Server) Revision() int64 { return s.st.CurrentRev }

// CompactRevision is the revision the db was compacted at (-1: never).
func (s *Server) CompactRevision() int64 { return s.st.CompactRev }

// RaftIndex is the raft index the served state is at.
func (s *Server) RaftIndex() uint64 { return s.opts.RaftIndex }

// Serve answers on lis until Stop; it returns nil after Stop.
func (s *Server) Serve(lis net.Listener) error {
	err := s.grpc.Serve(lis)
	if errors.Is(err, grpc.ErrServerStopped) {
		return nil
	}
	return err
}

// Stop ends the watch streams, lets the calls in flight finish (for up to
// five seconds) and closes the db.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		close(s.stopping)
		done := make(chan struct{})
		go func() {
			s.grpc.GracefulStop()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			s.grpc.Stop()
			<-done
		}
		s.db.Close()
	})
}

func (s *Server) header() *pb.ResponseHeader {
	return &pb.ResponseHeader{ClusterId: s.opts.ClusterID, MemberId: s.opts.MemberID, Revision: s.st.CurrentRev, RaftTerm: s.opts.RaftTerm}
}

// readOnly is the error every write gets.
func readOnly(what string) error {
	return status.Errorf(codes.FailedPrecondition, "etcdscope serve is read-only: %s refused, nothing is written", what)
}

// toGRPC maps mvccview's errors to etcd's.
func toGRPC(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, mvccview.ErrCompacted):
		return rpctypes.ErrGRPCCompacted
	case errors.Is(err, mvccview.ErrFutureRev):
		return rpctypes.ErrGRPCFutureRev
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	return status.Error(codes.Internal, err.Error())
}

// Writes and changes, all refused.

func (s *Server) Put(context.Context, *pb.PutRequest) (*pb.PutResponse, error) {
	return nil, readOnly("put")
}

func (s *Server) DeleteRange(context.Context, *pb.DeleteRangeRequest) (*pb.DeleteRangeResponse, error) {
	return nil, readOnly("delete")
}

func (s *Server) Compact(context.Context, *pb.CompactionRequest) (*pb.CompactionResponse, error) {
	return nil, readOnly("compaction")
}

func (s *Server) LeaseGrant(context.Context, *pb.LeaseGrantRequest) (*pb.LeaseGrantResponse, error) {
	return nil, readOnly("lease grant")
}

func (s *Server) LeaseRevoke(context.Context, *pb.LeaseRevokeRequest) (*pb.LeaseRevokeResponse, error) {
	return nil, readOnly("lease revoke")
}

// LeaseKeepAlive refuses the first keep-alive the client sends. It waits
// for it: a stream ended before the client's first send makes the client
// see io.EOF instead of the reason.
func (s *Server) LeaseKeepAlive(stream pb.Lease_LeaseKeepAliveServer) error {
	if _, err := stream.Recv(); err != nil {
		return err
	}
	return readOnly("lease keep-alive")
}

func (s *Server) MemberAdd(context.Context, *pb.MemberAddRequest) (*pb.MemberAddResponse, error) {
	return nil, readOnly("member add")
}

func (s *Server) MemberRemove(context.Context, *pb.MemberRemoveRequest) (*pb.MemberRemoveResponse, error) {
	return nil, readOnly("member remove")
}

func (s *Server) MemberUpdate(context.Context, *pb.MemberUpdateRequest) (*pb.MemberUpdateResponse, error) {
	return nil, readOnly("member update")
}

func (s *Server) MemberPromote(context.Context, *pb.MemberPromoteRequest) (*pb.MemberPromoteResponse, error) {
	return nil, readOnly("member promote")
}

func (s *Server) Defragment(context.Context, *pb.DefragmentRequest) (*pb.DefragmentResponse, error) {
	return nil, readOnly("defragment")
}

func (s *Server) MoveLeader(context.Context, *pb.MoveLeaderRequest) (*pb.MoveLeaderResponse, error) {
	return nil, readOnly("move leader")
}

func (s *Server) Downgrade(context.Context, *pb.DowngradeRequest) (*pb.DowngradeResponse, error) {
	return nil, readOnly("downgrade")
}

// atLeast reports whether version v ("3.7.0") is major.minor or later.
func atLeast(v string, major, minor int) bool {
	var ma, mi int
	if _, err := fmt.Sscanf(v, "%d.%d", &ma, &mi); err != nil {
		return false
	}
	return ma > major || ma == major && mi >= minor
}
