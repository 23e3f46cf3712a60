package snapfmt

import (
	"hash/crc32"
	"math/bits"
)

// castagnoli is the CRC-32C table etcd uses for .snap files (snapshotter.go
// crcTable). On-disk format; do not change.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// topInv maps the top byte of a table entry back to its index: the top
// bytes of the 256 entries of a reflected CRC table are all different,
// which is what makes one zero-byte step of the CRC register invertible.
var topInv = func() (inv [256]byte) {
	for i := range 256 {
		inv[castagnoli[i]>>24] = byte(i)
	}
	return inv
}()

// LocateByteError looks for one damaged byte in data that explains why its
// CRC-32C (seed 0) is got instead of want, in O(len(data)) time and no
// allocation (the idea of pebble internal/bitflip, widened from one bit to
// one byte). CRC is linear: XOR-ing byte j with x changes the CRC by
// T[x] run through the len(data)-1-j zero bytes after it, where T is the
// table and one zero-byte step is r -> T[byte(r)] ^ r>>8. That step is
// invertible, so the difference got^want is walked back one byte at a time,
// and at each position one table lookup says whether some x fits.
//
// It returns the offset in data and the XOR that repairs the byte, with ok
// set only when exactly one position fits; the chance that a random
// difference fits somewhere is about len(data)/2^24, so the answer is
// reliable for files up to a few MiB and withheld when ambiguous.
func LocateByteError(data []byte, want, got uint32) (off int, xor byte, ok bool) {
	d := want ^ got
	if d == 0 || len(data) == 0 {
		return 0, 0, false
	}
	found := -1
	var fx byte
	for j := len(data) - 1; j >= 0; j-- {
		k := topInv[d>>24]
		if castagnoli[k] == d && k != 0 {
			if found >= 0 {
				return 0, 0, false // ambiguous
			}
			found, fx = j, k
		}
		// Step back over byte j: find r with T[byte(r)] ^ r>>8 == d.
		d = (d^castagnoli[k])<<8 | uint32(k)
	}
	if found < 0 {
		return 0, 0, false
	}
	return found, fx, true
}

// crcFieldDamage reports whether the difference between a stored and a
// computed CRC lies within the 7 value bits of one byte of the stored
// varint, as one damaged byte of the crc field would make it. It returns
// the index of that byte within the varint.
func crcFieldDamage(stored, computed uint32) (byteIndex int, ok bool) {
	d := stored ^ computed
	if d == 0 {
		return 0, false
	}
	lo := bits.TrailingZeros32(d) / 7
	hi := (31 - bits.LeadingZeros32(d)) / 7
	return lo, lo == hi
}
