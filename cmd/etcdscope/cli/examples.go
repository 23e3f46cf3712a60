package cli

// examples are every command's Examples section, by command path, in
// etcdctl's style; finishTree sets them. The paths are those of the
// committed sample: a data dir (testdata/sample), its db and its WAL. A
// test walks the tree: every command has examples, and each line parses.
var examples = map[string]string{
	"etcdscope": `  # Check a whole member, then look closer
  etcdscope inspect testdata/sample
  etcdscope wal dump testdata/sample --start-index 100 --end-index 120`,
	"etcdscope help": `  etcdscope help wal dump`,
	"etcdscope version": `  etcdscope version
  etcdscope version -w json`,
	"etcdscope inspect": `  etcdscope inspect testdata/sample
  etcdscope inspect testdata/sample/member -w json`,
	"etcdscope tui": `  etcdscope tui testdata/sample
  etcdscope tui testdata/sample/member/snap/db`,

	"etcdscope wal": `  etcdscope wal verify testdata/sample
  etcdscope wal dump testdata/sample/member/wal --request put --key /app/`,
	"etcdscope wal dump": `  # Every record, then only some: entries 100 to 120, the puts under /app/
  etcdscope wal dump testdata/sample
  etcdscope wal dump testdata/sample --start-index 100 --end-index 120
  etcdscope wal dump testdata/sample --request put,txn --key /app/ --values
  # One JSON object per record, for jq
  etcdscope wal dump testdata/sample/member/wal/0000000000000000-0000000000000000.wal -w json`,
	"etcdscope wal verify": `  etcdscope wal verify testdata/sample
  etcdscope wal verify testdata/sample/member/wal -w json`,
	"etcdscope wal stats": `  etcdscope wal stats testdata/sample
  etcdscope wal stats testdata/sample --prefix-depth 1 -w table`,

	"etcdscope snap": `  etcdscope snap dump testdata/sample`,
	"etcdscope snap dump": `  etcdscope snap dump testdata/sample
  etcdscope snap dump testdata/sample/member/snap/0000000000000002-000000000000012f.snap -w json
  # Which .snap etcd's Snapshotter.Load picks, the WAL left aside
  etcdscope snap dump testdata/sample --ignore-wal`,

	"etcdscope bolt": `  etcdscope bolt check testdata/sample
  etcdscope bolt keys testdata/sample/member/snap/db meta`,
	"etcdscope bolt info": `  etcdscope bolt info testdata/sample/member/snap/db`,
	"etcdscope bolt check": `  etcdscope bolt check testdata/sample/member/snap/db
  etcdscope bolt check testdata/sample -w json`,
	"etcdscope bolt pages": `  etcdscope bolt pages testdata/sample/member/snap/db
  etcdscope bolt pages testdata/sample/member/snap/db --all -w table`,
	"etcdscope bolt page": `  # The two metas, then a page and its bytes
  etcdscope bolt page testdata/sample/member/snap/db 0 1
  etcdscope bolt page testdata/sample/member/snap/db 3 --hex`,
	"etcdscope bolt buckets": `  etcdscope bolt buckets testdata/sample/member/snap/db`,
	"etcdscope bolt keys": `  etcdscope bolt keys testdata/sample/member/snap/db meta --values
  etcdscope bolt keys testdata/sample/member/snap/db key --hex
  etcdscope bolt keys testdata/sample/member/snap/db key -w json`,
	"etcdscope bolt get": `  etcdscope bolt get testdata/sample/member/snap/db meta consistent_index
  etcdscope bolt get testdata/sample/member/snap/db key 00000000000000085f0000000000000000 --hex`,

	"etcdscope mvcc": `  etcdscope mvcc range testdata/sample /app/ --prefix
  etcdscope mvcc hash testdata/sample/member/snap/db`,
	"etcdscope mvcc range": `  # As etcdctl get: one key, a prefix, a range, at a past revision
  etcdscope mvcc range testdata/sample /app/config
  etcdscope mvcc get testdata/sample /fill/ --prefix --keys-only --limit 10
  etcdscope mvcc range testdata/sample /data/ /data/v9 --rev 30 --hex
  etcdscope mvcc range testdata/sample/member/snap/db "" --prefix --count-only -w json`,
	"etcdscope mvcc history": `  etcdscope mvcc history testdata/sample /fill/00
  etcdscope mvcc history testdata/sample/member/snap/db /app/config -w json`,
	"etcdscope mvcc hash": `  # As etcdctl endpoint hashkv --rev 300
  etcdscope mvcc hash testdata/sample/member/snap/db --rev 300 -w json`,
	"etcdscope mvcc meta":    `  etcdscope mvcc meta testdata/sample/member/snap/db`,
	"etcdscope mvcc leases":  `  etcdscope mvcc leases testdata/sample -w table`,
	"etcdscope mvcc members": `  etcdscope mvcc members testdata/sample -w json`,
	"etcdscope mvcc auth":    `  etcdscope mvcc auth testdata/sample`,

	"etcdscope replay": `  etcdscope replay testdata/sample --out /tmp/replayed
  # The state as it was at raft index 200
  etcdscope replay testdata/sample --out /tmp/at-200 --to-index 200
  # Point-in-time recovery: a backup plus the WAL
  etcdscope replay testdata/sample --out /tmp/restored --base /backups/etcd.db`,
	"etcdscope serve": `  # Then: etcdctl --endpoints 127.0.0.1:23790 get "" --prefix --keys-only
  etcdscope serve testdata/sample
  etcdscope serve testdata/sample --to-index 200 --listen 127.0.0.1:23791
  etcdscope serve --db testdata/sample/member/snap/db --listen http://127.0.0.1:23790`,
	"etcdscope compare": `  etcdscope compare /var/lib/etcd-1 /var/lib/etcd-2 /var/lib/etcd-3
  etcdscope compare /var/lib/etcd-1 /var/lib/etcd-2 /var/lib/etcd-3 --self-check -w json`,

	"etcdscope repair": `  etcdscope repair auto testdata/sample --out /tmp/repaired --dry-run
  etcdscope repair wal testdata/sample --out /tmp/repaired --dry-run
  etcdscope repair bolt testdata/sample --out /tmp/db`,
	"etcdscope repair auto": `  # Which repair loses least, and what it would lose; then run it
  etcdscope repair auto testdata/sample --out /tmp/repaired --dry-run
  etcdscope repair auto /var/lib/etcd --out /var/lib/etcd.repaired --peer /var/lib/etcd-2`,
	"etcdscope repair rebuild": `  etcdscope repair rebuild testdata/sample --out /tmp/rebuilt --dry-run
  etcdscope repair rebuild testdata/sample --out /tmp/rebuilt --bump-revision 1000000 --mark-compacted`,
	"etcdscope repair wal": `  etcdscope repair wal testdata/sample --out /tmp/repaired --dry-run
  # Say which peers still hold the entries the cut loses
  etcdscope repair wal /var/lib/etcd-1 --out /tmp/repaired --peer /var/lib/etcd-2 --peer /var/lib/etcd-3`,
	"etcdscope repair bolt": `  etcdscope repair bolt testdata/sample --out /tmp/db --dry-run
  etcdscope repair bolt testdata/sample/member/snap/db --out /tmp/db -w json`,
	"etcdscope repair salvage": `  etcdscope repair salvage testdata/sample --out /tmp/db --dry-run
  etcdscope repair salvage testdata/sample/member/snap/db --out /tmp/db`,
}
