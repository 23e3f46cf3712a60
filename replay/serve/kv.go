package serve

import (
	"bytes"
	"context"
	"sort"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"

	"github.com/etcdscope/etcdscope/mvccview"
	"github.com/etcdscope/etcdscope/walfmt"
)

// Range answers as etcd's executeRange (server/etcdserver/txn): filters
// and sorts fetch everything and truncate afterwards, count is the whole
// range's, and a linearizable read is answered as a serializable one
// (there is no cluster to agree with).
func (s *Server) Range(_ context.Context, r *pb.RangeRequest) (*pb.RangeResponse, error) {
	if len(r.Key) == 0 {
		return nil, rpctypes.ErrGRPCEmptyKey
	}
	resp, err := s.rangeAt(r)
	return resp, toGRPC(err)
}

func (s *Server) rangeAt(r *pb.RangeRequest) (*pb.RangeResponse, error) {
	limit := r.Limit
	if r.SortOrder != pb.RangeRequest_NONE || r.MinModRevision != 0 || r.MaxModRevision != 0 ||
		r.MinCreateRevision != 0 || r.MaxCreateRevision != 0 {
		limit = 0 // fetch everything; sort and truncate afterwards
	}
	if limit > 0 {
		limit++ // one more, for "more"
	}
	end := r.RangeEnd
	if len(end) == 1 && end[0] == 0 {
		end = []byte{} // every key from Key on
	}
	rr, err := s.st.Range(r.Key, end, mvccview.RangeOptions{Rev: r.Revision, Limit: limit, CountOnly: r.CountOnly})
	if err != nil {
		return nil, err
	}
	kvs := make([]*mvccpb.KeyValue, 0, len(rr.KVs))
	for _, kv := range rr.KVs {
		switch {
		case r.MaxModRevision != 0 && kv.ModRevision > r.MaxModRevision,
			r.MinModRevision != 0 && kv.ModRevision < r.MinModRevision,
			r.MaxCreateRevision != 0 && kv.CreateRevision > r.MaxCreateRevision,
			r.MinCreateRevision != 0 && kv.CreateRevision < r.MinCreateRevision:
			continue
		}
		kvs = append(kvs, toPB(kv, false))
	}
	sortKVs(kvs, r.SortOrder, r.SortTarget)
	resp := &pb.RangeResponse{Header: s.header(), Count: rr.Count}
	if r.Limit > 0 && int64(len(kvs)) > r.Limit {
		kvs, resp.More = kvs[:r.Limit], true
	}
	if r.KeysOnly {
		for _, kv := range kvs {
			kv.Value = nil
			if s.fastKeysOnly && r.SortTarget != pb.RangeRequest_VALUE {
				kv.Lease = 0
			}
		}
	}
	resp.Kvs = kvs
	return resp, nil
}

// sortKVs sorts as etcd does: the range comes in ascending key order, an
// order given without a target sorts by key, a target without an order
// sorts ascending. sort.Sort on the same input with the same Less gives
// the same order of ties as etcd's.
func sortKVs(kvs []*mvccpb.KeyValue, order pb.RangeRequest_SortOrder, target pb.RangeRequest_SortTarget) {
	if target != pb.RangeRequest_KEY && order == pb.RangeRequest_NONE {
		order = pb.RangeRequest_ASCEND
	} else if target == pb.RangeRequest_KEY && order == pb.RangeRequest_ASCEND {
		order = pb.RangeRequest_NONE
	}
	if order == pb.RangeRequest_NONE {
		return
	}
	var less func(a, b *mvccpb.KeyValue) bool
	switch target {
	case pb.RangeRequest_VERSION:
		less = func(a, b *mvccpb.KeyValue) bool { return a.Version-b.Version < 0 }
	case pb.RangeRequest_CREATE:
		less = func(a, b *mvccpb.KeyValue) bool { return a.CreateRevision-b.CreateRevision < 0 }
	case pb.RangeRequest_MOD:
		less = func(a, b *mvccpb.KeyValue) bool { return a.ModRevision-b.ModRevision < 0 }
	case pb.RangeRequest_VALUE:
		less = func(a, b *mvccpb.KeyValue) bool { return bytes.Compare(a.Value, b.Value) < 0 }
	default:
		less = func(a, b *mvccpb.KeyValue) bool { return bytes.Compare(a.Key, b.Key) < 0 }
	}
	var si sort.Interface = &kvSorter{kvs, less}
	if order == pb.RangeRequest_DESCEND {
		si = sort.Reverse(si)
	}
	sort.Sort(si)
}

type kvSorter struct {
	kvs  []*mvccpb.KeyValue
	less func(a, b *mvccpb.KeyValue) bool
}

func (s *kvSorter) Len() int           { return len(s.kvs) }
func (s *kvSorter) Swap(i, j int)      { s.kvs[i], s.kvs[j] = s.kvs[j], s.kvs[i] }
func (s *kvSorter) Less(i, j int) bool { return s.less(s.kvs[i], s.kvs[j]) }

// Txn answers a txn whose every op only reads; one with a write (in
// either branch, at any depth) is refused before anything is evaluated.
func (s *Server) Txn(_ context.Context, r *pb.TxnRequest) (*pb.TxnResponse, error) {
	if !txnReadOnly(r) {
		return nil, readOnly("txn with a write")
	}
	resp, err := s.txn(r)
	return resp, toGRPC(err)
}

func txnReadOnly(r *pb.TxnRequest) bool {
	for _, ops := range [][]*pb.RequestOp{r.Success, r.Failure} {
		for _, op := range ops {
			switch {
			case op.GetRequestRange() != nil:
			case op.GetRequestTxn() != nil:
				if !txnReadOnly(op.GetRequestTxn()) {
					return false
				}
			default:
				return false
			}
		}
	}
	return true
}

func (s *Server) txn(r *pb.TxnRequest) (*pb.TxnResponse, error) {
	ok := true
	for _, c := range r.Compare {
		match, err := s.compare(c)
		if err != nil {
			return nil, err
		}
		if !match {
			ok = false
			break
		}
	}
	ops := r.Failure
	if ok {
		ops = r.Success
	}
	resp := &pb.TxnResponse{Header: s.header(), Succeeded: ok, Responses: make([]*pb.ResponseOp, 0, len(ops))}
	for _, op := range ops {
		if rr := op.GetRequestRange(); rr != nil {
			if len(rr.Key) == 0 {
				return nil, rpctypes.ErrGRPCEmptyKey
			}
			res, err := s.rangeAt(rr)
			if err != nil {
				return nil, err
			}
			res.Header = &pb.ResponseHeader{Revision: res.Header.Revision} // as etcd: the revision only
			resp.Responses = append(resp.Responses, &pb.ResponseOp{Response: &pb.ResponseOp_ResponseRange{ResponseRange: res}})
			continue
		}
		res, err := s.txn(op.GetRequestTxn())
		if err != nil {
			return nil, err
		}
		res.Header = &pb.ResponseHeader{} // as etcd: an empty header
		resp.Responses = append(resp.Responses, &pb.ResponseOp{Response: &pb.ResponseOp_ResponseTxn{ResponseTxn: res}})
	}
	return resp, nil
}

// compare evaluates one compare as etcd's applyCompare, against its range
// at the current revision.
func (s *Server) compare(c *pb.Compare) (bool, error) {
	end := c.RangeEnd
	if len(end) == 1 && end[0] == 0 {
		end = []byte{}
	}
	rr, err := s.st.Range(c.Key, end, mvccview.RangeOptions{})
	if err != nil {
		return false, err
	}
	return mvccview.CompareRange(walCompare(c), func(yield func(*mvccview.KeyValue) bool) {
		for i := range rr.KVs {
			if !yield(&rr.KVs[i]) {
				return
			}
		}
	}), nil
}

// walCompare is c as a WAL entry holds it, the form mvccview compares.
func walCompare(c *pb.Compare) *walfmt.Compare {
	w := &walfmt.Compare{Result: walfmt.CompareResult(c.Result), Target: walfmt.CompareTarget(c.Target), Key: c.Key, RangeEnd: c.RangeEnd}
	switch u := c.TargetUnion.(type) {
	case *pb.Compare_Version:
		w.Version = &u.Version
	case *pb.Compare_CreateRevision:
		w.CreateRevision = &u.CreateRevision
	case *pb.Compare_ModRevision:
		w.ModRevision = &u.ModRevision
	case *pb.Compare_Lease:
		w.Lease = &u.Lease
	case *pb.Compare_Value:
		w.Value = u.Value
	}
	return w
}
