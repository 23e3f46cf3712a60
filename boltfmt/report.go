package boltfmt

import (
	"slices"
	"strconv"
	"strings"
)

// PageStatus is what a walk found a page id to be.
type PageStatus uint8

const (
	StatusUnseen    PageStatus = iota // below the high-water mark, neither reached nor free
	StatusMeta                        // page 0 or 1
	StatusTree                        // reached from the root (a branch, leaf or overflow page of one)
	StatusFreelist                    // the persisted freelist page or one of its overflow pages
	StatusFree                        // listed in the freelist, or unreachable when none is persisted
	StatusUnreached                   // neither reachable nor free: an orphan

	// The statuses of ids the walk has no verdict on, from [Report.Status].
	StatusUnknown   // no meta could be used, so the walk saw no page
	StatusBeyondHWM // at or past the high-water mark: no transaction has used it
	StatusMissing   // below the high-water mark, past the end of a truncated file
)

var statusNames = [...]string{"unseen", "meta", "reachable", "freelist", "free", "orphan", "unknown", "beyond-hwm", "missing"}

func (s PageStatus) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return "status(" + strconv.Itoa(int(s)) + ")"
}

// BucketInfo describes a bucket the walk found.
type BucketInfo struct {
	Path     []string // names from the root; the root bucket has none
	Root     PageID   // 0 for an inline bucket
	Sequence uint64
	Inline   bool
	Keys     int // leaf elements that are not buckets
	Buckets  int // nested buckets
	Pages    int // tree pages, overflow included
	// Page is the page holding the bucket's entry in its parent (for
	// inline buckets, where its elements live).
	Page PageID
}

// Name returns the bucket's path joined with "/".
func (b *BucketInfo) Name() string { return strings.Join(b.Path, "/") }

// IsRoot reports whether b is the root bucket, the one the meta names.
func (b *BucketInfo) IsRoot() bool { return len(b.Path) == 0 }

// Report is what a walk found: every problem, the buckets, and the status
// and owning bucket of every page id below the high-water mark, which
// [Report.Status], [Report.Owner] and [Report.Live] answer.
type Report struct {
	Problems []error
	// Buckets are every bucket found, the root bucket first.
	Buckets []BucketInfo

	// status and owner are indexed by page id, up to the high-water mark
	// (bounded by the file); owner is an index into Buckets, -1 for none.
	status []PageStatus
	owner  []int32

	HWM               PageID // the high-water mark of the meta walked from
	FreelistPersisted bool
	Tree, Free        int // page counts
	Orphans           int
	MetaUsed          int // the meta the walk started from
}

// Pages returns how many page ids have a verdict of the walk: the
// high-water mark, bounded by the file; 0 when no meta could be used.
func (r *Report) Pages() PageID { return PageID(len(r.status)) }

// Status returns what the walk found page id to be. For an id it has no
// verdict on, it is StatusUnknown when no meta could be used,
// StatusBeyondHWM at or past the high-water mark, and StatusMissing for an
// id below it that the file does not hold.
func (r *Report) Status(id PageID) PageStatus {
	switch {
	case id < r.Pages():
		return r.status[id]
	case r.status == nil:
		return StatusUnknown
	case id >= r.HWM:
		return StatusBeyondHWM
	}
	return StatusMissing
}

// Live reports whether page id is in use: a meta page, the freelist, or
// reachable from the root. It is the Live of [SpanOptions].
func (r *Report) Live(id PageID) bool {
	switch r.Status(id) {
	case StatusMeta, StatusTree, StatusFreelist:
		return true
	}
	return false
}

// Owner returns the bucket whose tree holds page id (the root bucket, see
// [BucketInfo.IsRoot], for the pages of the root's own tree); false for a
// page no tree holds.
func (r *Report) Owner(id PageID) (*BucketInfo, bool) {
	if id >= PageID(len(r.owner)) {
		return nil, false
	}
	o := r.owner[id]
	if o < 0 || int(o) >= len(r.Buckets) {
		return nil, false
	}
	return &r.Buckets[o], true
}

// Bucket returns the bucket at path (names from the root; nil or empty for
// the root bucket), false when the walk did not find it.
func (r *Report) Bucket(path []string) (*BucketInfo, bool) {
	for i := range r.Buckets {
		if slices.Equal(r.Buckets[i].Path, path) {
			return &r.Buckets[i], true
		}
	}
	return nil, false
}
