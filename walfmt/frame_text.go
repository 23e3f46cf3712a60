package walfmt

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// FrameOptions say how [DescribeFrame], [AppendFrameText] and
// [Frame.AppendJSON] show a frame.
type FrameOptions struct {
	// Raw shows a record's bytes (hex in text, base64 in JSON) instead of
	// the description of its payload.
	Raw bool
	// Values shows values in full instead of by size ([DescribeOptions],
	// [JSONOptions]).
	Values bool
	// AppendBase64, when set, appends the standard base64 encoding of v to
	// b in JSON instead of encoding/base64: the bytes of the entries are
	// most of a log's JSON, and the caller may have a faster encoder. It
	// must give the bytes encoding/base64 gives.
	AppendBase64 func(b, v []byte) []byte
}

// DescribeFrame returns a one-line description of what f holds, the last
// column of wal dump, for example
//
//	normal put key="foo" value=5B
//	term=2 vote=8e9e05c52164694d commit=10
//	term=2 index=101 voters=[8e9e05c52164694d]
//	node=8e9e05c52164694d cluster=cdf818194e3a8c32
//	crc=0x07b3d367
//	seq=2 index=11 size=18168
//	zero-filled (preallocated)
//
// An entry is described by [DescribeEntry] with p, the cache of its
// payload ([Payload]). A damaged frame is described by its
// problems. Member and cluster ids are in 16 hex digits, as etcd's logs
// print them.
func DescribeFrame(f *Frame, p *Payload, opts FrameOptions) string {
	switch f.Kind {
	case KindSegment:
		return DescribeSegment(f.Segment)
	case KindZero:
		return "zero-filled (preallocated)"
	case KindDamage:
		msgs := make([]string, len(f.Problems))
		for i, e := range f.Problems {
			msgs[i] = e.Error()
		}
		return strings.Join(msgs, "; ")
	}
	switch {
	case opts.Raw:
		return "raw=" + hex.EncodeToString(f.Raw)
	case f.Entry != nil:
		return DescribeEntry(f.Entry, p, DescribeOptions{Values: opts.Values})
	case f.State != nil:
		return DescribeHardState(*f.State)
	case f.Snapshot != nil:
		return DescribeSnapshot(*f.Snapshot)
	case f.Metadata != nil:
		return fmt.Sprintf("node=%016x cluster=%016x", f.Metadata.NodeID, f.Metadata.ClusterID)
	case f.Record.Type == CRCType:
		return fmt.Sprintf("crc=%#08x", f.Record.CRC)
	}
	return "undecodable payload data=" + hex.EncodeToString(f.Record.Data)
}

// DescribeEntry returns the entry's type followed by the description of
// its payload ([Payload.Describe]), or by why the data does not decode and
// the data in hex:
//
//	normal put key="foo" value=5B
//	confchange add-node node=8e9e05c52164694d name="n1" peer_urls=["http://127.0.0.1:2380"]
//	normal undecodable (walfmt: undecodable request: ...) data=0a03
//
// p caches e's payload ([Payload]).
func DescribeEntry(e *Entry, p *Payload, opts DescribeOptions) string {
	var d Payload
	p = p.decode(e, &d)
	s := e.Type.String()
	if p.Err != nil {
		return s + fmt.Sprintf(" undecodable (%v) data=%s", p.Err, hex.EncodeToString(e.Data))
	}
	if d := p.Describe(opts); d != "" {
		s += " " + d
	}
	return s
}

// DescribeHardState returns "term=2 vote=8e9e05c52164694d commit=10", the
// vote a member id in 16 hex digits.
func DescribeHardState(h HardState) string {
	return fmt.Sprintf("term=%d vote=%016x commit=%d", h.Term, h.Vote, h.Commit)
}

// DescribeSnapshot returns the snapshot record's term and index and its
// ConfState ([DescribeConfState]) when it has one:
// "term=2 index=101 voters=[8e9e05c52164694d]".
func DescribeSnapshot(s Snapshot) string {
	t := fmt.Sprintf("term=%d index=%d", s.Term, s.Index)
	if s.ConfState != nil {
		t += " " + DescribeConfState(s.ConfState)
	}
	return t
}

// DescribeConfState returns the voters, the other member lists when they
// are not empty, and auto_leave when set, each member id in 16 hex digits:
// "voters=[8e9e05c52164694d 91bc3c398fb3c146] learners=[fd422379fda50e48]".
func DescribeConfState(cs *ConfState) string {
	ids := func(v []uint64) string {
		s := make([]string, len(v))
		for i, id := range v {
			s[i] = fmt.Sprintf("%016x", id)
		}
		return "[" + strings.Join(s, " ") + "]"
	}
	t := "voters=" + ids(cs.Voters)
	for _, l := range []struct {
		name string
		ids  []uint64
	}{{"learners", cs.Learners}, {"voters_outgoing", cs.VotersOutgoing}, {"learners_next", cs.LearnersNext}} {
		if len(l.ids) > 0 {
			t += " " + l.name + "=" + ids(l.ids)
		}
	}
	if cs.AutoLeave {
		t += " auto_leave"
	}
	return t
}

// DescribeSegment returns "seq=2 index=11 size=18168", or only the size
// for a segment whose name is not etcd's.
func DescribeSegment(s *Segment) string {
	if !s.NameOK {
		return fmt.Sprintf("size=%d (name is not etcd's seq-index.wal form)", s.Size)
	}
	return fmt.Sprintf("seq=%d index=%d size=%d", s.Seq, s.Index, s.Size)
}

// DescribeCRC returns "ok" when a record's CRC matches, else "MISMATCH".
func DescribeCRC(f *Frame) string {
	if f.CRCOK {
		return "ok"
	}
	return "MISMATCH"
}

// DescribeFlags returns what is to be said about a frame beside its
// payload, comma-separated: SUPERSEDED for an entry a later one replaced,
// uncommitted for an entry past the commit index, and the codes of its
// problems ([Code]). It is "" when there is nothing to say.
func DescribeFlags(f *Frame) string {
	var fl []string
	if f.Superseded {
		fl = append(fl, "SUPERSEDED")
	}
	if f.Entry != nil && !f.Committed {
		fl = append(fl, "uncommitted")
	}
	for _, p := range f.Problems {
		fl = append(fl, Code(p))
	}
	return strings.Join(fl, ",")
}

// AppendFrameText appends f as wal dump prints it: a line with the
// frame's place, type, lengths, CRC status, entry term and index, flags
// ([DescribeFlags]) and payload ([DescribeFrame]), then a line for each
// problem. A segment's frame is a heading:
//
//	== 0000000000000002-000000000000000b.wal seq=2 index=11 size=18168
//	0000000000000002-000000000000000b.wal:0x10 metadata len=30 pad=2 crc=ok node=3f8129351331494b cluster=6afa3699a44aff93
//	0000000000000002-000000000000000b.wal:0x178 entry    len=150 pad=2 crc=MISMATCH term=2 index=14 [uncommitted,wal-crc-mismatch] normal put key="/data/v0100" value=100B
//	  ! wal-crc-mismatch: walfmt: 0000000000000002-000000000000000b.wal: offset 0x178: crc mismatch (...)
//
// p caches f's entry's payload ([Payload]).
func AppendFrameText(b []byte, f *Frame, p *Payload, opts FrameOptions) []byte {
	switch f.Kind {
	case KindSegment:
		b = fmt.Appendf(b, "== %s %s\n", f.Segment.Name, DescribeSegment(f.Segment))
	case KindZero:
		b = fmt.Appendf(b, "%s:%#x zero     size=%d zero-filled (preallocated)\n", f.Segment.Name, f.Offset, f.Size)
	case KindDamage:
		b = fmt.Appendf(b, "%s:%#x DAMAGE   size=%d\n", f.Segment.Name, f.Offset, f.Size)
	default:
		b = fmt.Appendf(b, "%s:%#x %-8s len=%d pad=%d crc=%s", f.Segment.Name, f.Offset, f.Record.Type, f.Length, f.Pad, DescribeCRC(f))
		if f.Entry != nil {
			b = append(b, " term="...)
			b = strconv.AppendUint(b, f.Entry.Term, 10)
			b = append(b, " index="...)
			b = strconv.AppendUint(b, f.Entry.Index, 10)
		}
		if fl := DescribeFlags(f); fl != "" {
			b = append(b, " ["...)
			b = append(b, fl...)
			b = append(b, ']')
		}
		b = append(b, ' ')
		b = append(b, DescribeFrame(f, p, opts)...)
		b = append(b, '\n')
	}
	for _, p := range f.Problems {
		b = fmt.Appendf(b, "  ! %s: %v\n", Code(p), p)
	}
	return b
}
