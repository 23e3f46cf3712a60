package serve

import (
	"errors"
	"io"
	"sync"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"

	"github.com/etcdscope/etcdscope/mvccview"
)

// watchBatchRevs is how many revisions of history one response carries,
// as etcd's watchBatchMaxRevs.
const watchBatchRevs = 1000

// Watch replays history: a watch from revision R gets the events from R to
// the current revision, in responses of at most 1,000 revisions as etcd
// sends a catching-up watcher, and then nothing more, since nothing
// changes; it ends when the client cancels it. A watch from below the
// compaction revision is canceled with the compaction revision, as etcd
// does; a watch without a start revision gets nothing.
func (s *Server) Watch(stream pb.Watch_WatchServer) error {
	var mu sync.Mutex // sends come from the receive loop only, but Stop may race
	send := func(r *pb.WatchResponse) error {
		mu.Lock()
		defer mu.Unlock()
		return stream.Send(r)
	}
	reqs := make(chan *pb.WatchRequest)
	errc := make(chan error, 1)
	go func() {
		for {
			r, err := stream.Recv()
			if err != nil {
				errc <- err
				return
			}
			select {
			case reqs <- r:
			case <-stream.Context().Done():
				return
			}
		}
	}()
	nextID := int64(0)
	for {
		var r *pb.WatchRequest
		select {
		case <-s.stopping:
			return nil
		case <-stream.Context().Done():
			return nil
		case err := <-errc:
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		case r = <-reqs:
		}
		switch {
		case r.GetCreateRequest() != nil:
			cr := r.GetCreateRequest()
			id := cr.WatchId
			if id == 0 { // clientv3.AutoWatchID: the server numbers them
				id = nextID
			}
			nextID = max(nextID, id) + 1
			if err := send(&pb.WatchResponse{Header: s.header(), WatchId: id, Created: true}); err != nil {
				return err
			}
			if err := s.history(cr, id, send); err != nil {
				return err
			}
		case r.GetCancelRequest() != nil:
			id := r.GetCancelRequest().WatchId
			if err := send(&pb.WatchResponse{Header: s.header(), WatchId: id, Canceled: true}); err != nil {
				return err
			}
		case r.GetProgressRequest() != nil:
			if err := send(&pb.WatchResponse{Header: s.header(), WatchId: -1}); err != nil {
				return err
			}
		}
	}
}

// history sends the events a new watcher catches up on.
func (s *Server) history(cr *pb.WatchCreateRequest, id int64, send func(*pb.WatchResponse) error) error {
	if cr.StartRevision == 0 || cr.StartRevision > s.st.CurrentRev {
		return nil // from now on, or from the future: nothing will come
	}
	if cr.StartRevision < s.st.CompactRev {
		return send(&pb.WatchResponse{Header: s.header(), WatchId: id, Canceled: true, CompactRevision: s.st.CompactRev,
			CancelReason: "etcdserver: mvcc: required revision has been compacted"})
	}
	var noPut, noDelete bool
	for _, f := range cr.Filters {
		switch f {
		case pb.WatchCreateRequest_NOPUT:
			noPut = true
		case pb.WatchCreateRequest_NODELETE:
			noDelete = true
		}
	}
	end := cr.RangeEnd
	if len(end) == 1 && end[0] == 0 {
		end = []byte{}
	}
	var batch []*mvccpb.Event
	revs, lastRev := 0, int64(0)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := send(&pb.WatchResponse{Header: s.header(), WatchId: id, Events: batch})
		batch, revs = nil, 0
		return err
	}
	err := s.st.Events(cr.StartRevision, cr.Key, end, func(e mvccview.Event) error {
		if e.Rev.Main != lastRev {
			if revs == watchBatchRevs {
				if err := s.flushOrStop(flush); err != nil {
					return err
				}
			}
			revs, lastRev = revs+1, e.Rev.Main
		}
		if e.Delete && noDelete || !e.Delete && noPut {
			return nil
		}
		ev := &mvccpb.Event{Kv: toPB(e.KV, true)}
		if e.Delete {
			ev.Type = mvccpb.Event_DELETE
		}
		if cr.PrevKv && (e.Delete || e.KV.Version > 1) {
			if rr, err := s.st.Range(e.KV.Key, nil, mvccview.RangeOptions{Rev: e.Rev.Main - 1}); err == nil && len(rr.KVs) > 0 {
				ev.PrevKv = toPB(rr.KVs[0], false)
			}
		}
		batch = append(batch, ev)
		return nil
	})
	if err != nil {
		return toGRPC(err)
	}
	return flush()
}

// flushOrStop sends a batch unless the server is stopping.
func (s *Server) flushOrStop(flush func() error) error {
	select {
	case <-s.stopping:
		return errStopping
	default:
	}
	return flush()
}

var errStopping = errors.New("serve: stopping")

// toPB converts a key-value, copying the bytes when they alias the db.
func toPB(kv mvccview.KeyValue, clone bool) *mvccpb.KeyValue {
	k, v := kv.Key, kv.Value
	if clone {
		k, v = append([]byte(nil), k...), append([]byte(nil), v...)
		if len(kv.Value) == 0 {
			v = nil
		}
	}
	return &mvccpb.KeyValue{Key: k, CreateRevision: kv.CreateRevision, ModRevision: kv.ModRevision,
		Version: kv.Version, Value: v, Lease: kv.Lease}
}
