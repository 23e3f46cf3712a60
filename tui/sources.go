package tui

import (
	"errors"
	"fmt"
	"io"

	"github.com/etcdscope/etcdscope/internal/hexfmt"
	"github.com/etcdscope/etcdscope/tui/panes"
	"github.com/etcdscope/etcdscope/walfmt"
)

// Sources are what the browser reads. Each is nil when the path holds
// none of it.
type Sources struct {
	WAL panes.WALSource
}

// walFiles is the WAL source over walfmt: one segment is read when it is
// shown, its rows kept (about 100 bytes per record, and etcd cuts a
// segment at 64 MB), the bytes of a record read again when it is selected.
type walFiles struct {
	files *walfmt.Files
}

// OpenWAL opens a WAL (a data dir's, a wal dir or one segment) read-only.
func OpenWAL(path string) (panes.WALSource, io.Closer, error) {
	files, err := walfmt.OpenPath(path)
	if err != nil {
		return nil, nil, err
	}
	return &walFiles{files: files}, files, nil
}

func (w *walFiles) Segments() []panes.Segment {
	out := make([]panes.Segment, len(w.files.Segments))
	for i, s := range w.files.Segments {
		out[i] = panes.Segment{Name: s.Name, Size: s.Size}
	}
	return out
}

func (w *walFiles) Rows(seg int) ([]panes.Row, error) {
	if seg < 0 || seg >= len(w.files.Segments) {
		return nil, fmt.Errorf("no segment %d", seg)
	}
	r := walfmt.NewReader(w.files.Segments[seg:seg+1], walfmt.Options{})
	var rows []panes.Row
	for {
		f, err := r.Next()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return rows, err
		}
		if f.Kind == walfmt.KindSegment && len(f.Problems) == 0 {
			continue
		}
		rows = append(rows, row(f))
	}
}

func row(f *walfmt.Frame) panes.Row {
	r := panes.Row{Offset: f.Offset, Size: f.Size, CRCOK: f.CRCOK}
	switch f.Kind {
	case walfmt.KindRecord:
		r.Kind = f.Record.Type.String()
	default:
		r.Kind = f.Kind.String()
	}
	if e := f.Entry; e != nil {
		r.Index, r.Term = e.Index, e.Term
		r.Summary = e.Type.String()
		if e.Type == walfmt.EntryNormal && len(e.Data) > 0 {
			if req, err := walfmt.DecodeRequest(e.Data); err == nil {
				r.Summary = walfmt.DescribeRequest(req, false)
			}
		}
	}
	if s := f.State; s != nil {
		r.Summary = fmt.Sprintf("term=%d vote=%x commit=%d", s.Term, s.Vote, s.Commit)
	}
	if s := f.Snapshot; s != nil {
		r.Summary = fmt.Sprintf("snapshot index=%d term=%d", s.Index, s.Term)
	}
	if m := f.Metadata; m != nil {
		r.Summary = fmt.Sprintf("member %x cluster %x", m.NodeID, m.ClusterID)
	}
	for _, p := range f.Problems {
		r.Problems = append(r.Problems, walfmt.Code(p)+": "+p.Error())
	}
	if f.Kind == walfmt.KindRecord && f.Record.Type != walfmt.CRCType {
		r.Checked = true
	}
	return r
}

// Detail reads the selected record's bytes again and decodes them.
func (w *walFiles) Detail(seg int, r panes.Row) (panes.Detail, error) {
	s := w.files.Segments[seg]
	n := min(r.Size, 64<<10) // the hex pane shows at most 64 KiB
	b := make([]byte, n)
	if _, err := s.R.ReadAt(b, r.Offset); err != nil && !errors.Is(err, io.EOF) {
		return panes.Detail{}, err
	}
	d := panes.Detail{Lines: []string{fmt.Sprintf("%s at %s:%#x, %d bytes", r.Kind, s.Name, r.Offset, r.Size)}}
	if r.Index > 0 {
		d.Lines = append(d.Lines, fmt.Sprintf("index %d term %d", r.Index, r.Term))
	}
	if r.Summary != "" {
		d.Lines = append(d.Lines, r.Summary)
	}
	d.Lines = append(d.Lines, r.Problems...)
	hb := hexfmt.New(b, hexfmt.Options{Base: r.Offset, Squeeze: true})
	if len(b) >= 8 {
		hb.Add(0, 8, "length word")
	}
	d.Hex = hb.String()
	return d, nil
}
