package boltfmt_test

import (
	"fmt"

	"github.com/etcdscope/etcdscope/boltfmt"
)

// Check the sample member's db and list its buckets.
func Example() {
	db, err := boltfmt.Open("../testdata/sample/member/snap/db", boltfmt.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	rep, err := db.Walk(boltfmt.WalkOptions{})
	if err != nil {
		fmt.Println("cannot go on:", err)
		return
	}
	for _, p := range rep.Problems {
		fmt.Println(boltfmt.Code(p), p)
	}
	for _, b := range rep.Buckets[1:] {
		fmt.Printf("%s inline=%v keys=%d\n", b.Name(), b.Inline, b.Keys)
	}
	// Output:
	// alarm inline=true keys=0
	// auth inline=true keys=2
	// authRoles inline=true keys=2
	// authUsers inline=true keys=2
	// cluster inline=true keys=1
	// key inline=false keys=331
	// lease inline=true keys=1
	// members inline=true keys=1
	// members_removed inline=true keys=0
	// meta inline=true keys=6
}
