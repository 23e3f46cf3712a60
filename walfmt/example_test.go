package walfmt_test

import (
	"errors"
	"fmt"
	"io"

	"github.com/etcdscope/etcdscope/walfmt"
)

// Read the committed sample's WAL, printing damage and counting entries.
func Example() {
	files, err := walfmt.OpenPath("../testdata/sample/member/wal")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer files.Close()
	r := walfmt.NewReader(files.Segments, walfmt.Options{})
	entries := 0
	for {
		f, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Println("cannot go on:", err)
			return
		}
		for _, p := range f.Problems {
			fmt.Printf("%s: %v\n", walfmt.Code(p), p)
		}
		if f.Entry != nil && f.Trusted() {
			entries++
		}
	}
	fmt.Println(len(files.Segments), "segments,", entries, "entries")
	// Output: 7 segments, 367 entries
}
