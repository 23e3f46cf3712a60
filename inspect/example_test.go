package inspect_test

import (
	"errors"
	"fmt"
	"strings"

	"github.com/etcdscope/etcdscope/inspect"
)

// Member checks a whole member; damage is in the findings, not the error.
func ExampleMember() {
	rep, err := inspect.Member("../testdata/sample", inspect.Options{})
	if err != nil {
		fmt.Println("cannot check:", err)
		return
	}
	fmt.Println("checked:", strings.Join(rep.Checked, ", "))
	for _, f := range rep.Findings {
		fmt.Println(f.Severity, f.Code, f.File, f.Message)
	}
	fmt.Println("errors:", rep.Summary.Errors, "warnings:", rep.Summary.Warnings)
	// Output:
	// checked: wal, snap, db, mvcc, cross-checks
	// errors: 0 warnings: 0
}

// VerifyDB says whether a db is sound enough to publish or serve; a
// *VerifyError lists what is not.
func ExampleVerifyDB() {
	err := inspect.VerifyDB("../testdata/sample/member/snap/db")
	if ve, ok := errors.AsType[*inspect.VerifyError](err); ok {
		for _, f := range ve.Findings {
			fmt.Println(f.Code, f.Message)
		}
		return
	}
	fmt.Println("sound:", err == nil)
	// Output:
	// sound: true
}
