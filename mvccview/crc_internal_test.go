package mvccview

import (
	"hash/crc32"
	"math/rand/v2"
	"testing"
)

func TestCRC32Combine(t *testing.T) {
	tab := crc32.MakeTable(crc32.Castagnoli)
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 3, 7, 8, 17, 100, 4096, 100000} {
		for _, m := range []int{0, 1, 2, 5, 64, 1000, 65537} {
			a, b := make([]byte, n), make([]byte, m)
			for i := range a {
				a[i] = byte(r.Uint32())
			}
			for i := range b {
				b[i] = byte(r.Uint32())
			}
			want := crc32.Checksum(append(append([]byte{}, a...), b...), tab)
			if got := crc32Combine(crc32.Castagnoli, crc32.Checksum(a, tab), crc32.Checksum(b, tab), int64(m)); got != want {
				t.Errorf("%d+%d bytes: %08x, want %08x", n, m, got, want)
			}
		}
	}
}
