package repair

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/etcdscope/etcdscope/replay"
	"github.com/etcdscope/etcdscope/walfmt"
)

// walLoss measures what the output of repair wal (built at dir) loses.
// When the cut loses entries the db does not hold (it is behind the cut),
// the input db says nothing of their effects: the loss is then measured
// against the state the evidence still describes, the input db with the
// input's whole log applied onto it, past the damage ([pastTheDamage]).
// Else, or when that state cannot be had (Problem says why), against the
// input db. tmp is where the replays go.
func (w *walRepair) walLoss(segs []walfmt.Segment, dir, tmp string) *Loss {
	inDB := filepath.Join(w.in, "snap", "db")
	res := w.res
	if res.Cut == nil || res.FromDB != nil || res.DB != "kept" || len(res.Lost) == 0 {
		return memberLoss(inDB, "the input db", dir, tmp, len(res.Lost))
	}
	ref, what, err := pastTheDamage(inDB, segs, tmp)
	if ref != "" {
		defer os.RemoveAll(filepath.Dir(ref))
	}
	if err != nil {
		loss := memberLoss(inDB, "the input db", dir, tmp, len(res.Lost))
		if loss != nil {
			loss.Problem = strings.TrimPrefix(loss.Problem+"; ", "; ") +
				"the effects of the entries lost could not be measured (the input db is behind the cut, and its WAL could not be applied onto it: " + err.Error() + ")"
		}
		return loss
	}
	return memberLoss(ref, what, dir, tmp, len(res.Lost))
}

// pastTheDamage replays onto a copy of the input db (inDB), in a new
// directory under tmp, every entry of the input's log (segs) past its
// consistent index, committed or not, the entries of damaged records that
// still decode included ([replay.Options.IncludeDamaged]): the state the
// evidence describes. It returns the db written and what it is: which
// damaged entries' values are not known, and where the log stopped, if
// it did, before a record too damaged to decode.
func pastTheDamage(inDB string, segs []walfmt.Segment, tmp string) (ref, what string, err error) {
	dir, err := os.MkdirTemp(tmp, ".etcdscope-reference-")
	if err != nil {
		return "", "", err
	}
	ref = filepath.Join(dir, "db")
	r, err := replay.Run(segs, replay.Options{Out: ref, Base: inDB, BaseIsMemberDB: true, CommitLog: true, IncludeDamaged: true})
	if err != nil {
		return ref, "", err
	}
	what = fmt.Sprintf("the input db with its WAL applied to entry %d", r.AppliedIndex)
	if n := len(r.Damaged); n > 0 {
		idx := make([]string, n)
		for i, p := range r.Damaged {
			idx[i] = strconv.FormatUint(p.Index, 10)
		}
		word, rec := "entry", "its record is"
		if n > 1 {
			word, rec = "entries", "their records are"
		}
		what += fmt.Sprintf(", past the damage: %s %s's values are not known (%s damaged)", word, strings.Join(idx, ", "), rec)
	}
	if s := r.Stopped; s != nil {
		what += fmt.Sprintf("; it stops before entry %d, at the damaged record at %s:%#x", s.Index, s.Segment, s.Offset)
		if s.Term > 0 {
			what += " (the entry does not decode)"
		} else {
			what += " (which entry it held is not known)"
		}
		what += fmt.Sprintf(": the effects of the entries from %d on are not counted", s.Index)
	}
	return ref, what, nil
}
