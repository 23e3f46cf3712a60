// Package etcdrelease names the etcd releases etcdscope is tested against:
// the ones the wrapper modules in testdata/etcd pin, which the test harness
// (internal/etcdtest) builds and runs and `etcdscope version` prints.
package etcdrelease

import "strings"

// Tested are the etcd releases etcdscope is tested against, oldest first.
// Each has a wrapper module in testdata/etcd/v<major.minor> whose go.mod
// requires exactly this version of etcd's server, etcdctl and etcdutl (a
// test in internal/etcdtest checks it).
var Tested = []string{"3.5.35", "3.6.16", "3.7.3"}

// Minors are the minor versions of [Tested], "3.6" for "3.6.16".
func Minors() []string {
	m := make([]string, len(Tested))
	for i, v := range Tested {
		m[i] = v[:strings.LastIndexByte(v, '.')]
	}
	return m
}
