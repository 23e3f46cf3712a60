package mvccview

import (
	"encoding/binary"
	"strconv"
)

// etcd's db schema: the names of its buckets and of the keys it keeps in
// the meta, auth and cluster buckets, as server/storage/schema/bucket.go
// names them (etcd 3.5 to 3.7). On-disk format; do not change.
//
// The other buckets are keyed by record: key by revision ([Revision]),
// lease by 8-byte big-endian lease id, alarm by an AlarmMember message,
// members and members_removed by the member id in lower-case hex, authUsers
// and authRoles by name.
const (
	KeyBucket            = "key"
	MetaBucket           = "meta"
	LeaseBucket          = "lease"
	AlarmBucket          = "alarm"
	ClusterBucket        = "cluster"
	MembersBucket        = "members"
	MembersRemovedBucket = "members_removed"
	AuthBucket           = "auth"
	AuthUsersBucket      = "authUsers"
	AuthRolesBucket      = "authRoles"
)

// Keys of the meta bucket.
const (
	MetaConsistentIndex     = "consistent_index"    // 8 bytes big-endian: the raft index the db holds
	MetaTerm                = "term"                // 8 bytes big-endian: that entry's term (etcd 3.5+)
	MetaConfState           = "confState"           // raftpb.ConfState as JSON (etcd 3.5+)
	MetaStorageVersion      = "storageVersion"      // "3.6" and later
	MetaScheduledCompactRev = "scheduledCompactRev" // a revision key: the compaction asked for
	MetaFinishedCompactRev  = "finishedCompactRev"  // a revision key: the compaction done
)

// Keys of the auth bucket.
const (
	AuthEnabled  = "authEnabled"  // one byte, 1 when auth is on
	AuthRevision = "authRevision" // 8 bytes big-endian
)

// Keys of the cluster bucket.
const (
	ClusterVersion   = "clusterVersion" // "3.6.0"
	ClusterDowngrade = "downgrade"      // JSON {"target-version", "enabled"}
)

// Buckets returns etcd's buckets in etcd's order (schema.AllBuckets): the
// ones a new etcd db has.
func Buckets() []string {
	return []string{KeyBucket, MetaBucket, LeaseBucket, AlarmBucket, ClusterBucket,
		MembersBucket, MembersRemovedBucket, AuthBucket, AuthUsersBucket, AuthRolesBucket}
}

// MemberKey is the key of member id in the members and members_removed
// buckets: the id in lower-case hex.
func MemberKey(id uint64) []byte { return strconv.AppendUint(nil, id, 16) }

// ParseMemberKey is the member id a members bucket key names.
func ParseMemberKey(k []byte) (uint64, error) { return strconv.ParseUint(string(k), 16, 64) }

// LeaseKey is the key of lease id in the lease bucket: 8 bytes big-endian.
func LeaseKey(id int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(id)) }
