package etcdtest

import (
	"os"
	"strings"
	"testing"
	"time"
)

// TestBootOnDamage measures what real etcd of every supported version does
// when started on a member with each of Damages, and on an undamaged one:
// it logs one line per case. It only measures, and runs only when
// ETCDSCOPE_BOOT_PROBE=1 (it takes minutes); the tests of inspect's
// predictions use Damages and Boot themselves. ETCDSCOPE_BOOT_PROBE_ONLY
// keeps the damages whose names contain one of its comma-separated words
// (and the undamaged baseline).
func TestBootOnDamage(t *testing.T) {
	if os.Getenv("ETCDSCOPE_BOOT_PROBE") != "1" {
		t.Skip("set ETCDSCOPE_BOOT_PROBE=1 to start etcd on every damage")
	}
	cases := append([]Damage{{Name: "undamaged"}}, Damages()...)
	if only := os.Getenv("ETCDSCOPE_BOOT_PROBE_ONLY"); only != "" {
		cases = filterDamages(cases, strings.Split(only, ","))
	}
	for _, v := range Versions {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			bins := Binaries(t, v)
			var baseline BootResult
			for _, d := range cases {
				dataDir, _ := Generate(t, v, GenOptions{})
				var info DamageInfo
				if d.Apply != nil {
					info = d.Apply(t, dataDir)
				}
				res := Boot(t, bins, dataDir, 20*time.Second)
				if d.Apply == nil {
					baseline = res
					t.Logf("%s %s: %s events=%q (%v)", v, d.Name, res, res.Events, res.Elapsed.Round(time.Second/10))
					continue
				}
				extra := res.Extra(baseline)
				t.Logf("%s %s: beyond undamaged: %s events=%q {damage: %s %#x page %d: %s} (%v)",
					v, d.Name, extra, extra.Events, info.File, info.Offset, info.Page, info.Detail, res.Elapsed.Round(time.Second/10))
			}
		})
	}
}

func filterDamages(ds []Damage, words []string) []Damage {
	var out []Damage
	for _, d := range ds {
		if d.Apply == nil { // the undamaged baseline
			out = append(out, d)
			continue
		}
		for _, w := range words {
			if w != "" && strings.Contains(d.Name, w) {
				out = append(out, d)
				break
			}
		}
	}
	return out
}
