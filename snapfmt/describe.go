package snapfmt

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/etcdscope/etcdscope/internal/pbwire"
)

// The JSON and the one-line descriptions of what the decoders found, as
// snap dump shows them. JSON ids are 16 hex digits, as etcd's logs and
// etcdctl member list print them, and lists are never null.

// MarshalJSON writes the member with its id in hex.
func (m Member) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		ID         pbwire.HexID `json:"id"`
		Name       string       `json:"name"`
		PeerURLs   []string     `json:"peer_urls"`
		ClientURLs []string     `json:"client_urls"`
		IsLearner  bool         `json:"is_learner"`
	}{pbwire.HexID(m.ID), m.Name, orEmpty(m.PeerURLs), orEmpty(m.ClientURLs), m.IsLearner})
}

// MarshalJSON writes the summary; Problems are left out (they are the
// file's findings).
func (s *Store) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Members        []Member       `json:"members"`
		Removed        []pbwire.HexID `json:"removed_members"`
		ClusterVersion string         `json:"cluster_version"`
		Nodes          int            `json:"nodes"`
		Keys           int            `json:"keys"`
		V2Content      bool           `json:"v2_content"`
		CurrentIndex   uint64         `json:"current_index"`
	}{orEmpty(s.Members), pbwire.HexIDs(s.Removed), s.ClusterVersion, s.Nodes, s.Keys, s.V2Content, s.CurrentIndex})
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (o Outcome) MarshalText() ([]byte, error)      { return []byte(o.String()), nil }
func (t Trailer) MarshalText() ([]byte, error)      { return []byte(t.String()), nil }
func (k LeftoverKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// DescribeCRC says whether the file's CRC matches its data: "crc ok", or
// "CRC!" with the stored and computed values.
func (f *File) DescribeCRC() string {
	if f.CRCOK() {
		return "crc ok"
	}
	return fmt.Sprintf("CRC! stored %#08x computed %#08x", f.Envelope.CRC, f.ComputedCRC)
}

// DescribeConfState lists the snapshot's voters, learners and, in a
// joint configuration, the outgoing side, by hex id.
func (f *File) DescribeConfState() string {
	if f.Snapshot == nil {
		return "conf state unknown"
	}
	c := f.Snapshot.Metadata.ConfState
	s := "voters " + idList(c.Voters)
	if len(c.Learners) > 0 {
		s += " learners " + idList(c.Learners)
	}
	if len(c.VotersOutgoing) > 0 || len(c.LearnersNext) > 0 {
		s += fmt.Sprintf(" (joint: outgoing %s, learners next %s, auto leave %v)", idList(c.VotersOutgoing), idList(c.LearnersNext), c.AutoLeave)
	}
	return s
}

func idList(ids []uint64) string {
	if len(ids) == 0 {
		return "[]"
	}
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = fmt.Sprintf("%016x", id)
	}
	return strings.Join(s, ",")
}

// DescribeStore sums up the v2 store: the cluster version, the node and
// key counts, each member with its URLs, the removed members, and whether
// it holds v2 data etcd 3.6 refuses.
func (f *File) DescribeStore() string {
	s := f.Store
	if s == nil {
		return "v2 store not decoded"
	}
	v := s.ClusterVersion
	if v == "" {
		v = "unknown"
	}
	out := fmt.Sprintf("cluster version %s, %s (%s), %s", v, count(s.Nodes, "node"), count(s.Keys, "key"), count(len(s.Members), "member"))
	for i, m := range s.Members {
		sep := "; "
		if i == 0 {
			sep = ": "
		}
		out += fmt.Sprintf("%s%016x %q peers %s clients %s", sep, m.ID, m.Name, strings.Join(m.PeerURLs, ","), strings.Join(m.ClientURLs, ","))
		if m.IsLearner {
			out += " learner"
		}
	}
	if len(s.Removed) > 0 {
		out += "; removed " + idList(s.Removed)
	}
	if s.V2Content {
		out += "; holds v2 data (etcd 3.6 refuses to start from it)"
	}
	return out
}

func count(n int, what string) string {
	if n != 1 {
		what += "s"
	}
	return fmt.Sprintf("%d %s", n, what)
}

// DescribeBolt says whether the file starts like a bbolt file, and its
// page size.
func (d *DBFile) DescribeBolt() string {
	if d.Bolt {
		return fmt.Sprintf("bbolt (page size %d)", d.PageSize)
	}
	return "NOT BOLT"
}

// Describe says what the trailer check found; "" when it was not made.
func (t Trailer) Describe() string {
	switch t {
	case TrailerOK:
		return "sha256 trailer ok"
	case TrailerMismatch:
		return "SHA256! trailer mismatch"
	case TrailerAbsent:
		return "no sha256 trailer"
	}
	return ""
}
