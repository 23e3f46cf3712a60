package serve

import (
	"context"
	"sort"
	"strconv"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// Status answers as a single member that leads itself, at the served
// raft index. The db size is the served file's.
func (s *Server) Status(context.Context, *pb.StatusRequest) (*pb.StatusResponse, error) {
	return &pb.StatusResponse{
		Header:           s.header(),
		Version:          s.version,
		DbSize:           s.dbSize,
		DbSizeInUse:      s.dbSize,
		Leader:           s.opts.MemberID,
		RaftIndex:        s.opts.RaftIndex,
		RaftTerm:         s.opts.RaftTerm,
		RaftAppliedIndex: s.opts.RaftIndex,
		StorageVersion:   s.st.Meta.StorageVersion,
	}, nil
}

// HashKV is etcd's HashKV, bit-exact (mvccview).
func (s *Server) HashKV(_ context.Context, r *pb.HashKVRequest) (*pb.HashKVResponse, error) {
	h, err := s.st.HashKV(r.Revision)
	if err != nil {
		return nil, toGRPC(err)
	}
	return &pb.HashKVResponse{Header: s.header(), Hash: h.Hash, CompactRevision: h.CompactRevision, HashRevision: h.HashRevision}, nil
}

// Alarm lists the alarms the db records; raising or clearing one is a
// write.
func (s *Server) Alarm(_ context.Context, r *pb.AlarmRequest) (*pb.AlarmResponse, error) {
	if r.Action != pb.AlarmRequest_GET {
		return nil, readOnly("alarm change")
	}
	resp := &pb.AlarmResponse{Header: s.header()}
	err := s.st.Alarms(func(member uint64, alarm int32) {
		if r.Alarm == pb.AlarmType_NONE || int32(r.Alarm) == alarm {
			resp.Alarms = append(resp.Alarms, &pb.AlarmMember{MemberID: member, Alarm: pb.AlarmType(alarm)})
		}
	})
	return resp, toGRPC(err)
}

// MemberList lists the members bucket, in id order.
func (s *Server) MemberList(context.Context, *pb.MemberListRequest) (*pb.MemberListResponse, error) {
	ms, err := s.st.Members()
	if err != nil {
		return nil, toGRPC(err)
	}
	h := s.header()
	h.Revision = 0 // etcd's cluster service leaves it out
	resp := &pb.MemberListResponse{Header: h}
	for _, m := range ms {
		if m.Removed {
			continue
		}
		id, err := strconv.ParseUint(m.ID, 16, 64)
		if err != nil {
			continue
		}
		resp.Members = append(resp.Members, &pb.Member{ID: id, Name: m.Name, PeerURLs: m.PeerURLs, ClientURLs: m.ClientURLs, IsLearner: m.IsLearner})
	}
	sort.Slice(resp.Members, func(i, j int) bool { return resp.Members[i].ID < resp.Members[j].ID })
	return resp, nil
}

// LeaseLeases lists the lease bucket.
func (s *Server) LeaseLeases(context.Context, *pb.LeaseLeasesRequest) (*pb.LeaseLeasesResponse, error) {
	ls, err := s.st.Leases()
	if err != nil {
		return nil, toGRPC(err)
	}
	resp := &pb.LeaseLeasesResponse{Header: s.header(), Leases: []*pb.LeaseStatus{}}
	for _, l := range ls {
		resp.Leases = append(resp.Leases, &pb.LeaseStatus{ID: l.ID})
	}
	return resp, nil
}

// LeaseTimeToLive answers from the lease bucket: no time passes offline,
// so the TTL left is the last checkpointed one, else the granted TTL. A
// lease that is not there gets TTL -1, as from etcd.
func (s *Server) LeaseTimeToLive(_ context.Context, r *pb.LeaseTimeToLiveRequest) (*pb.LeaseTimeToLiveResponse, error) {
	ls, err := s.st.Leases()
	if err != nil {
		return nil, toGRPC(err)
	}
	for _, l := range ls {
		if l.ID != r.ID {
			continue
		}
		resp := &pb.LeaseTimeToLiveResponse{Header: s.header(), ID: l.ID, TTL: l.TTL, GrantedTTL: l.TTL}
		if l.RemainingTTL > 0 {
			resp.TTL = l.RemainingTTL
		}
		if r.Keys {
			for _, k := range l.Keys {
				resp.Keys = append(resp.Keys, []byte(k))
			}
		}
		return resp, nil
	}
	return &pb.LeaseTimeToLiveResponse{Header: s.header(), ID: r.ID, TTL: -1}, nil
}

// AuthStatus reports the db's auth state. serve itself checks no
// credentials: keep it on loopback or behind client certificates.
func (s *Server) AuthStatus(context.Context, *pb.AuthStatusRequest) (*pb.AuthStatusResponse, error) {
	a, err := s.st.Auth()
	if err != nil {
		return nil, toGRPC(err)
	}
	return &pb.AuthStatusResponse{Header: s.header(), Enabled: a.Enabled, AuthRevision: a.Revision}, nil
}

// Authenticate gives every caller a token, so that clients configured
// with a user keep working; serve answers everyone alike.
func (s *Server) Authenticate(context.Context, *pb.AuthenticateRequest) (*pb.AuthenticateResponse, error) {
	return &pb.AuthenticateResponse{Header: s.header(), Token: "etcdscope-serve"}, nil
}

func (s *Server) AuthEnable(context.Context, *pb.AuthEnableRequest) (*pb.AuthEnableResponse, error) {
	return nil, readOnly("auth enable")
}

func (s *Server) AuthDisable(context.Context, *pb.AuthDisableRequest) (*pb.AuthDisableResponse, error) {
	return nil, readOnly("auth disable")
}

func (s *Server) UserAdd(context.Context, *pb.AuthUserAddRequest) (*pb.AuthUserAddResponse, error) {
	return nil, readOnly("user add")
}

func (s *Server) UserDelete(context.Context, *pb.AuthUserDeleteRequest) (*pb.AuthUserDeleteResponse, error) {
	return nil, readOnly("user delete")
}

func (s *Server) UserChangePassword(context.Context, *pb.AuthUserChangePasswordRequest) (*pb.AuthUserChangePasswordResponse, error) {
	return nil, readOnly("password change")
}

func (s *Server) UserGrantRole(context.Context, *pb.AuthUserGrantRoleRequest) (*pb.AuthUserGrantRoleResponse, error) {
	return nil, readOnly("role grant")
}

func (s *Server) UserRevokeRole(context.Context, *pb.AuthUserRevokeRoleRequest) (*pb.AuthUserRevokeRoleResponse, error) {
	return nil, readOnly("role revoke")
}

func (s *Server) RoleAdd(context.Context, *pb.AuthRoleAddRequest) (*pb.AuthRoleAddResponse, error) {
	return nil, readOnly("role add")
}

func (s *Server) RoleDelete(context.Context, *pb.AuthRoleDeleteRequest) (*pb.AuthRoleDeleteResponse, error) {
	return nil, readOnly("role delete")
}

func (s *Server) RoleGrantPermission(context.Context, *pb.AuthRoleGrantPermissionRequest) (*pb.AuthRoleGrantPermissionResponse, error) {
	return nil, readOnly("permission grant")
}

func (s *Server) RoleRevokePermission(context.Context, *pb.AuthRoleRevokePermissionRequest) (*pb.AuthRoleRevokePermissionResponse, error) {
	return nil, readOnly("permission revoke")
}
