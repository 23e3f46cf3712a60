//go:build tools

// Package tools pins etcdctl and etcdutl 3.5.35 so that
// "go build go.etcd.io/etcd/etcdctl/v3" works inside this module.
package tools

import (
	_ "go.etcd.io/etcd/etcdctl/v3"
	_ "go.etcd.io/etcd/etcdutl/v3"
)
