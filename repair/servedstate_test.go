package repair_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/etcdscope/etcdscope/internal/etcdtest"
)

// servedState is what a live etcd serves of a member, as the least-loss
// acceptance compares it: the key space, HashKV at revisions above the
// compaction, the users (and whether each logs in with its password), the
// roles, the leases and the members.
type servedState struct {
	KVs      []kv              `json:"kvs"`
	Hashes   map[int64]string  `json:"hashes"` // revision → "hash/compact_revision"
	Users    []string          `json:"users"`
	Logins   map[string]string `json:"logins"` // user → "ok" or etcdctl's error
	Roles    map[string]string `json:"roles"`  // role → role get -w json's perm
	Leases   []string          `json:"leases"`
	Members  []string          `json:"members"` // id name peer-urls learner
	Revision int64             `json:"revision"`
}

type kv struct {
	Key            string `json:"key"`
	Value          string `json:"value"`
	CreateRevision int64  `json:"create_revision"`
	ModRevision    int64  `json:"mod_revision"`
	Version        int64  `json:"version"`
	Lease          int64  `json:"lease"`
}

// passwords are the workload's users' passwords.
var passwords = map[string]string{"root": etcdtest.RootPassword, "alice": etcdtest.AlicePassword}

// serveAnswers asks the running member m (authenticated as root) what it
// serves; revs are the revisions to hash at.
func serveAnswers(t *testing.T, m *etcdtest.Member, revs []int64) servedState {
	t.Helper()
	a := servedState{Hashes: map[int64]string{}, Logins: map[string]string{}, Roles: map[string]string{}}
	if _, err := m.CtlErr("get", "--count-only", ""); err != nil && strings.Contains(err.Error(), "authentication is not enabled") {
		m.Auth = "" // a repair that lost auth: what it serves is then read without
	}
	var get struct {
		Header struct {
			Revision int64 `json:"revision"`
		} `json:"header"`
		KVs []kv `json:"kvs"`
	}
	mustJSON(t, m.Ctl(t, "get", "", "--prefix", "-w", "json"), &get)
	a.KVs, a.Revision = get.KVs, get.Header.Revision
	for _, r := range revs {
		var h []struct {
			HashKV struct {
				Hash            uint32 `json:"hash"`
				CompactRevision int64  `json:"compact_revision"`
			} `json:"HashKV"`
		}
		mustJSON(t, m.Ctl(t, "endpoint", "hashkv", "--rev", fmt.Sprint(r), "-w", "json"), &h)
		if len(h) == 1 {
			a.Hashes[r] = fmt.Sprintf("%d/%d", h[0].HashKV.Hash, h[0].HashKV.CompactRevision)
		}
	}
	a.Users = lines(m.Ctl(t, "user", "list"))
	for _, u := range a.Users {
		pw, ok := passwords[u]
		if !ok {
			continue
		}
		a.Logins[u] = login(t, m, u, pw)
	}
	for _, r := range lines(m.Ctl(t, "role", "list")) {
		var role struct {
			Perm json.RawMessage `json:"perm"`
		}
		mustJSON(t, m.Ctl(t, "role", "get", r, "-w", "json"), &role)
		a.Roles[r] = string(role.Perm)
	}
	var leases struct {
		Leases []struct {
			ID int64 `json:"id"`
		} `json:"leases"`
	}
	mustJSON(t, m.Ctl(t, "lease", "list", "-w", "json"), &leases)
	for _, l := range leases.Leases {
		a.Leases = append(a.Leases, fmt.Sprintf("%x", l.ID))
	}
	slices.Sort(a.Leases)
	var members struct {
		Members []struct {
			ID        uint64   `json:"ID"`
			Name      string   `json:"name"`
			PeerURLs  []string `json:"peerURLs"`
			IsLearner bool     `json:"isLearner"`
		} `json:"members"`
	}
	mustJSON(t, m.Ctl(t, "member", "list", "-w", "json"), &members)
	for _, mm := range members.Members {
		a.Members = append(a.Members, fmt.Sprintf("%x %s %v %v", mm.ID, mm.Name, mm.PeerURLs, mm.IsLearner))
	}
	slices.Sort(a.Members)
	return a
}

// login authenticates as user with password: "ok", or etcd's error.
func login(t *testing.T, m *etcdtest.Member, user, password string) string {
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{m.ClientURL}, DialTimeout: 10 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := cli.Authenticate(ctx, user, password); err != nil {
		return rpctypes.ErrorDesc(err)
	}
	return "ok"
}

func mustJSON(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decoding %s: %v", b, err)
	}
}

func lines(b []byte) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	slices.Sort(out)
	return out
}

// diffAnswers lists how got differs from want, field by field.
func diffAnswers(want, got servedState) []string {
	var d []string
	eq := func(what string, a, b any) {
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if string(ja) != string(jb) {
			d = append(d, fmt.Sprintf("%s: want %.300s, got %.300s", what, ja, jb))
		}
	}
	eq("get \"\" --prefix", want.KVs, got.KVs)
	eq("endpoint hashkv", want.Hashes, got.Hashes)
	eq("user list", want.Users, got.Users)
	eq("logins", want.Logins, got.Logins)
	eq("roles", want.Roles, got.Roles)
	eq("lease list", want.Leases, got.Leases)
	eq("member list", want.Members, got.Members)
	return d
}
