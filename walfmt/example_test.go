package walfmt_test

import (
	"errors"
	"fmt"
	"io"
	"log"

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

// Print entries 5 to 8 of the committed sample as wal dump does, with its
// filter: each entry's payload is decoded once, when the filter or the
// output needs it.
func ExampleAppendFrameText() {
	files, err := walfmt.OpenPath("../testdata/sample/member/wal")
	if err != nil {
		log.Fatal(err)
	}
	defer files.Close()
	ow, _ := walfmt.ScanOverwrites(files.Segments) // for the committed and superseded flags
	filter := walfmt.Filter{StartIndex: 5, EndIndex: 8}
	var out []byte
	_, err = walfmt.Summarize(walfmt.NewReader(files.Segments, walfmt.Options{Overwrites: ow}), func(f *walfmt.Frame) error {
		var p walfmt.Payload
		if filter.Match(f, &p) {
			out = walfmt.AppendFrameText(out, f, &p, walfmt.FrameOptions{})
		}
		return nil
	})
	fmt.Printf("%s%v\n", out, err)
	// Output:
	// 0000000000000000-0000000000000000.wal:0x1f0 entry    len=46 pad=2 crc=ok term=2 index=5 normal put key="/data/v0000" value=0B
	// 0000000000000000-0000000000000000.wal:0x248 entry    len=49 pad=7 crc=ok term=2 index=6 normal put key="/data/v0001" value=1B
	// 0000000000000000-0000000000000000.wal:0x2a8 entry    len=150 pad=2 crc=ok term=2 index=7 normal put key="/data/v0100" value=100B
	// 0000000000000000-0000000000000000.wal:0x368 entry    len=1076 pad=4 crc=ok term=2 index=8 normal put key="/data/v1024" value=1024B
	// <nil>
}
