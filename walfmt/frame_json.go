package walfmt

import (
	"github.com/etcdscope/etcdscope/internal/jsonw"
)

// AppendJSON appends f as one JSON object, a line of wal dump -w json:
// its kind, segment and offset, then what the kind has:
//
//	{"kind":"segment","segment":"…","offset":0,"seq":2,"first_index":11,"size":18168}
//	{"kind":"zero","segment":"…","offset":18160,"size":8}
//	{"kind":"record","segment":"…","offset":16,"length":30,"pad":2,"type":"metadata","crc":…,"crc_ok":true,"node_id":"3f8129351331494b","cluster_id":"6afa3699a44aff93"}
//
// A record has its length, padding, type and CRC, its bytes (raw) when
// opts.Raw, then its decoded fields. An entry has its term, index, type
// and data, whether it is superseded and committed, and the JSON of its
// payload (request, or request_error when it does not decode) unless
// opts.Raw: p caches it ([Payload]), and with opts.Raw it is written only
// when p holds it decoded already (a filter looked at it). Every frame with problems lists them with
// their code, severity, offset and message. Bytes are in base64, ids in 16
// hex digits.
func (f *Frame) AppendJSON(b []byte, p *Payload, opts FrameOptions) []byte {
	j := jsonw.Begin(b)
	j.Str("kind", f.Kind.String())
	j.Str("segment", f.Segment.Name)
	j.I64("offset", f.Offset)
	switch f.Kind {
	case KindSegment:
		j.U64("seq", f.Segment.Seq)
		j.U64("first_index", f.Segment.Index)
		j.I64("size", f.Segment.Size)
	case KindZero, KindDamage:
		j.I64("size", f.Size)
	case KindRecord:
		f.appendRecordJSON(&j, p, opts)
	}
	if len(f.Problems) > 0 {
		j.Key("problems")
		j.B = append(j.B, '[')
		for i, e := range f.Problems {
			if i > 0 {
				j.B = append(j.B, ',')
			}
			pj := jsonw.Begin(j.B)
			pj.Str("code", Code(e))
			pj.Str("severity", string(SeverityOf(e)))
			if ce, ok := e.(*CorruptionError); ok {
				pj.I64("offset", ce.Offset)
			}
			pj.Str("message", e.Error())
			j.B = pj.End()
		}
		j.B = append(j.B, ']')
	}
	return j.End()
}

func (f *Frame) appendRecordJSON(j *jsonw.Object, p *Payload, opts FrameOptions) {
	j.I64("length", f.Length)
	j.I64("pad", f.Pad)
	j.Str("type", f.Record.Type.String())
	j.U64("crc", uint64(f.Record.CRC))
	j.Bool("crc_ok", f.CRCOK)
	if opts.Raw {
		appendBytes(j, "raw", f.Raw, opts.AppendBase64)
	}
	switch {
	case f.Entry != nil:
		e := f.Entry
		j.U64("term", e.Term)
		j.U64("index", e.Index)
		j.Str("entry_type", e.Type.String())
		appendBytes(j, "data", e.Data, opts.AppendBase64)
		j.Bool("superseded", f.Superseded)
		j.Bool("committed", f.Committed)
		var d Payload
		if !opts.Raw {
			p = p.decode(e, &d)
		}
		if p != nil && p.decoded {
			p.appendJSON(j, opts)
		}
	case f.State != nil:
		j.U64("term", f.State.Term)
		j.ID("vote", f.State.Vote)
		j.U64("commit", f.State.Commit)
	case f.Snapshot != nil:
		j.U64("term", f.Snapshot.Term)
		j.U64("index", f.Snapshot.Index)
		if f.Snapshot.ConfState != nil {
			j.Value("conf_state", f.Snapshot.ConfState)
		}
	case f.Metadata != nil:
		j.ID("node_id", f.Metadata.NodeID)
		j.ID("cluster_id", f.Metadata.ClusterID)
	}
}

// appendJSON writes the payload's request field, or request_error.
func (p *Payload) appendJSON(j *jsonw.Object, opts FrameOptions) {
	switch {
	case p.Err != nil:
		j.Str("request_error", p.Err.Error())
	case p.Request != nil:
		j.Key("request")
		j.B = p.Request.AppendJSON(j.B, JSONOptions{ValueSizes: !opts.Values})
	case p.ConfChange != nil:
		j.Value("request", p.ConfChange)
	case p.ConfChangeV2 != nil:
		j.Value("request", p.ConfChangeV2)
	}
}

// appendBytes writes v in base64, with enc when it is not nil.
func appendBytes(j *jsonw.Object, k string, v []byte, enc func(b, v []byte) []byte) {
	if enc == nil {
		j.Bytes(k, v)
		return
	}
	j.Key(k)
	j.B = append(enc(append(j.B, '"'), v), '"')
}
