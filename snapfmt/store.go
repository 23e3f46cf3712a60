package snapfmt

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Store summarises etcd's v2 store, the JSON in a .snap file's
// raftpb.Snapshot data (etcd server/etcdserver/api/v2store/store.go Save):
//
//	{"Root": node, "WatcherHub": {...}, "CurrentIndex": N, "Stats": {...}, "CurrentVersion": N}
//	node: {"Path": "/0/members", "CreatedIndex": N, "ModifiedIndex": N,
//	       "ExpireTime": RFC 3339, "Value": "...", "Children": {name: node, ...} or null}
//
// Membership is kept under /0 (etcd server/etcdserver/api/membership/storev2.go):
// /0/members/<hex id>/raftAttributes holds {"peerURLs":[...],"isLearner":bool},
// /0/members/<hex id>/attributes holds {"name":"...","clientURLs":[...]},
// /0/removed_members/<hex id> is empty and /0/version is the cluster
// version. /1 holds v2 keys and /2 v2 auth, both empty on a v3-only
// cluster. Since etcd 3.6 the store is regenerated from the v3 backend for
// every snapshot and holds only /0.
type Store struct {
	Members        []Member // from /0/members, by ID
	Removed        []uint64 // from /0/removed_members, ascending
	ClusterVersion string   // /0/version, "" when absent
	CurrentIndex   uint64   // the store's own index
	Nodes          int      // nodes below the root, directories included
	Keys           int      // nodes that are not directories
	// V2Content is set when the store holds v2 data outside /0 (as
	// membership.IsMetaStoreOnly sees it): etcd 3.6 refuses to start from
	// such a snapshot unless --v2-deprecation allows it.
	V2Content bool
	// Problems are [*CorruptionError]s wrapping [ErrStoreUndecodable] or
	// [ErrStoreOdd], with offsets relative to the JSON.
	Problems []error
}

// Member is one member as the v2 store records it.
type Member struct {
	ID         uint64
	Name       string
	PeerURLs   []string
	ClientURLs []string
	IsLearner  bool
	// HasRaftAttributes is false when the member's raftAttributes key is
	// missing, which etcd's membersFromStore treats as an error.
	HasRaftAttributes bool
}

const (
	maxStoreDepth    = 1000 // deeper than any real v2 key
	maxStoreProblems = 20
	maxPathLen       = 512 // paths are cut here; membership paths are short
)

// SummarizeStore reads a v2 store's JSON and summarises it. It accepts any
// input: what does not fit etcd's shape is reported in [Store.Problems]
// and the rest is still summarised; after a JSON syntax error the summary
// holds what came before it. It reads token by token, so it holds no
// more than one token (a key or value) besides the summary.
func SummarizeStore(b []byte) *Store {
	w := &storeWalker{
		dec:     json.NewDecoder(bytes.NewReader(b)),
		s:       &Store{},
		members: map[uint64]int{},
	}
	w.dec.UseNumber()
	defer func() {
		// Backstop: a bug here must not take the whole decoding down.
		// Fuzzing keeps this path cold.
		if r := recover(); r != nil {
			w.s.Problems = append(w.s.Problems, &CorruptionError{Offset: -1, Err: ErrStoreUndecodable, Detail: fmt.Sprintf("internal error while summarising: %v", r)})
		}
	}()
	if len(bytes.TrimSpace(b)) == 0 {
		w.problem(0, ErrStoreUndecodable, "no JSON at all (etcd's json.Unmarshal fails: unexpected end of JSON input)")
		return w.s
	}
	w.top()
	w.finish()
	return w.s
}

type storeWalker struct {
	dec        *json.Decoder
	s          *Store
	members    map[uint64]int // index in s.Members, in the order met
	stopped    bool           // after a syntax error nothing more can be read
	suppressed int
	mismatches int
}

func (w *storeWalker) problem(off int64, sentinel error, format string, args ...any) {
	if len(w.s.Problems) >= maxStoreProblems {
		w.suppressed++
		return
	}
	w.s.Problems = append(w.s.Problems, &CorruptionError{Offset: off, Err: sentinel, Detail: fmt.Sprintf(format, args...)})
}

// token reads the next token; false after the end or a syntax error,
// which it reports once.
func (w *storeWalker) token() (json.Token, bool) {
	if w.stopped {
		return nil, false
	}
	t, err := w.dec.Token()
	if err != nil {
		w.stopped = true
		off := w.dec.InputOffset()
		var se *json.SyntaxError
		switch {
		case errors.As(err, &se):
			off = se.Offset
		case errors.Is(err, io.EOF):
			err = errors.New("unexpected end of JSON input")
		}
		w.problem(off, ErrStoreUndecodable, "%v", err)
		return nil, false
	}
	return t, true
}

func (w *storeWalker) off() int64 { return w.dec.InputOffset() }

// skipAfter skips the rest of a value whose first token was t.
func (w *storeWalker) skipAfter(t json.Token) {
	d, ok := t.(json.Delim)
	if !ok || (d != '{' && d != '[') {
		return
	}
	for depth := 1; depth > 0; {
		t, ok := w.token()
		if !ok {
			return
		}
		switch t {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
}

func (w *storeWalker) skip() {
	if t, ok := w.token(); ok {
		w.skipAfter(t)
	}
}

// keys reads the keys of an object whose opening brace was read, up to its
// closing brace (or a syntax error, which it reports once); the loop body
// reads each key's value.
func (w *storeWalker) keys() iter.Seq[string] {
	return func(yield func(string) bool) {
		for {
			if w.stopped || !w.dec.More() {
				w.token() // the closing delimiter, or the syntax error
				return
			}
			t, ok := w.token()
			if !ok {
				return
			}
			k, _ := t.(string)
			if !yield(k) {
				return
			}
		}
	}
}

func describe(t json.Token) string {
	switch v := t.(type) {
	case nil:
		return "null"
	case json.Delim:
		if v == '{' {
			return "an object"
		}
		return "an array"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	}
	return fmt.Sprintf("%T", t)
}

// typeError reports a known field of the wrong JSON type, as etcd's
// json.Unmarshal would, and skips the value.
func (w *storeWalker) typeError(field string, t json.Token, want string) {
	w.problem(w.off(), ErrStoreUndecodable, "%s is %s, want %s", field, describe(t), want)
	w.skipAfter(t)
}

func (w *storeWalker) uint(field string) (uint64, bool) {
	t, ok := w.token()
	if !ok {
		return 0, false
	}
	if t == nil {
		return 0, false // null leaves a Go field unchanged
	}
	n, isNum := t.(json.Number)
	if !isNum {
		w.typeError(field, t, "a number")
		return 0, false
	}
	v, err := strconv.ParseUint(string(n), 10, 64)
	if err != nil {
		w.problem(w.off(), ErrStoreUndecodable, "%s %s is not an unsigned integer", field, n)
		return 0, false
	}
	return v, true
}

func (w *storeWalker) string(field string) (string, bool) {
	t, ok := w.token()
	if !ok || t == nil {
		return "", false
	}
	s, isStr := t.(string)
	if !isStr {
		w.typeError(field, t, "a string")
		return "", false
	}
	return s, true
}

func (w *storeWalker) top() {
	t, ok := w.token()
	if !ok {
		return
	}
	if t != json.Delim('{') {
		w.typeError("the top-level value", t, "an object")
		return
	}
	sawRoot := false
	for k := range w.keys() {
		switch {
		case strings.EqualFold(k, "Root"):
			sawRoot = true
			w.node("/", 0)
		case strings.EqualFold(k, "CurrentIndex"):
			if v, ok := w.uint("CurrentIndex"); ok {
				w.s.CurrentIndex = v
			}
		default:
			w.skip()
		}
	}
	if w.stopped {
		return
	}
	if t, err := w.dec.Token(); err != io.EOF {
		w.stopped = true
		if err != nil {
			w.problem(w.off(), ErrStoreUndecodable, "%v", err)
		} else {
			w.problem(w.off(), ErrStoreUndecodable, "%s after the top-level object", describe(t))
		}
	}
	if !sawRoot {
		w.problem(-1, ErrStoreOdd, "no Root node (etcd keeps the empty store it started with)")
	}
}

// node reads one node at path p and returns how many children it has, -1
// when it is not a directory.
func (w *storeWalker) node(p string, depth int) int {
	t, ok := w.token()
	if !ok {
		return -1
	}
	if t == nil {
		w.problem(w.off(), ErrStoreUndecodable, "node %s is null (etcd's recovery dereferences it and panics)", p)
		return -1
	}
	if t != json.Delim('{') {
		w.typeError("node "+p, t, "an object")
		return -1
	}
	if depth > maxStoreDepth {
		w.problem(w.off(), ErrStoreOdd, "node %.100s... nested deeper than %d levels; not read", p, maxStoreDepth)
		w.skipAfter(t)
		return -1
	}
	start := w.off()
	var pathField, value string
	var havePath bool
	children := -1
	for k := range w.keys() {
		switch {
		case strings.EqualFold(k, "Path"):
			pathField, havePath = w.string("Path of " + p)
		case strings.EqualFold(k, "Value"):
			value, _ = w.string("Value of " + p)
		case strings.EqualFold(k, "Children"):
			children = w.children(p, depth)
		case strings.EqualFold(k, "CreatedIndex"), strings.EqualFold(k, "ModifiedIndex"):
			w.uint(k + " of " + p)
		case strings.EqualFold(k, "ExpireTime"):
			if s, ok := w.string("ExpireTime of " + p); ok {
				if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
					w.problem(w.off(), ErrStoreUndecodable, "ExpireTime of %s: %q is not an RFC 3339 time", p, s)
				}
			}
		default:
			w.skip()
		}
	}
	if havePath && pathField != p && len(p) < maxPathLen {
		if w.mismatches == 0 {
			w.problem(start, ErrStoreOdd, "node %.100s says its Path is %.100q", p, pathField)
		}
		w.mismatches++
	}
	if p != "/" {
		w.s.Nodes++
		if children < 0 {
			w.s.Keys++
		}
	}
	w.visit(p, value, children, start)
	return children
}

// children reads a Children value: null or an object of nodes.
func (w *storeWalker) children(p string, depth int) int {
	t, ok := w.token()
	if !ok || t == nil {
		return -1
	}
	if t != json.Delim('{') {
		w.typeError("Children of "+p, t, "an object")
		return -1
	}
	n := 0
	for name := range w.keys() {
		child := path.Join(p, name)
		if name == "" || name == "." || name == ".." || strings.Contains(name, "/") {
			w.problem(w.off(), ErrStoreOdd, "child %q of %.100s is not a node name", name, p)
		}
		if len(child) > maxPathLen {
			// Only short paths mean anything here; a cap keeps deep trees
			// from costing depth x length in allocations.
			child = child[:maxPathLen]
		}
		cc := w.node(child, depth+1)
		n++
		// Custom v2 content, as membership.IsMetaStoreOnly sees it: a
		// top-level directory other than /0 and /2 with children, or a
		// directory under /2 with children.
		switch {
		case p == "/" && name != "0" && name != "2" && cc > 0:
			w.s.V2Content = true
		case p == "/2" && cc > 0:
			w.s.V2Content = true
		}
	}
	return n
}

// visit records what a node means for membership.
func (w *storeWalker) visit(p, value string, children int, off int64) {
	dir, base := path.Split(p)
	dir = strings.TrimSuffix(dir, "/")
	switch {
	case p == "/0/version" && children < 0:
		w.s.ClusterVersion = value
	case dir == "/0/members":
		if m := w.member(base, off); m != nil && children < 0 {
			w.problem(off, ErrStoreOdd, "member %s is a key, not a directory", base)
		}
	case path.Dir(dir) == "/0/members":
		m := w.member(path.Base(dir), off)
		if m == nil {
			return
		}
		switch base {
		case "raftAttributes":
			var ra struct {
				PeerURLs  []string `json:"peerURLs"`
				IsLearner bool     `json:"isLearner"`
			}
			if err := json.Unmarshal([]byte(value), &ra); err != nil {
				w.problem(off, ErrStoreOdd, "%s: %v", p, err)
				return
			}
			m.PeerURLs, m.IsLearner, m.HasRaftAttributes = ra.PeerURLs, ra.IsLearner, true
		case "attributes":
			var a struct {
				Name       string   `json:"name"`
				ClientURLs []string `json:"clientURLs"`
			}
			if err := json.Unmarshal([]byte(value), &a); err != nil {
				w.problem(off, ErrStoreOdd, "%s: %v", p, err)
				return
			}
			m.Name, m.ClientURLs = a.Name, a.ClientURLs
		default:
			w.problem(off, ErrStoreOdd, "unknown member key %s (etcd's nodeToMember rejects it)", p)
		}
	case dir == "/0/removed_members":
		id, err := strconv.ParseUint(base, 16, 64)
		if err != nil {
			w.problem(off, ErrStoreOdd, "removed member %q is not a hex id", base)
			return
		}
		w.s.Removed = append(w.s.Removed, id)
	}
}

func (w *storeWalker) member(hexID string, off int64) *Member {
	id, err := strconv.ParseUint(hexID, 16, 64)
	if err != nil {
		w.problem(off, ErrStoreOdd, "member %q is not a hex id (etcd panics on it)", hexID)
		return nil
	}
	i, ok := w.members[id]
	if !ok {
		i = len(w.s.Members)
		w.s.Members = append(w.s.Members, Member{ID: id})
		w.members[id] = i
	}
	return &w.s.Members[i]
}

func (w *storeWalker) finish() {
	if w.mismatches > 1 {
		w.problem(-1, ErrStoreOdd, "%d nodes in all have a Path that disagrees with their place in the tree", w.mismatches)
	}
	slices.SortFunc(w.s.Members, func(a, b Member) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	for _, m := range w.s.Members {
		if !m.HasRaftAttributes {
			w.problem(-1, ErrStoreOdd, "member %x has no raftAttributes (etcd's membersFromStore panics on it)", m.ID)
		}
	}
	slices.Sort(w.s.Removed)
	w.s.Removed = slices.Compact(w.s.Removed)
	if w.suppressed > 0 {
		w.s.Problems = append(w.s.Problems, &CorruptionError{Offset: -1, Err: ErrStoreOdd, Detail: fmt.Sprintf("%d more problems not listed", w.suppressed)})
	}
}
