//go:build !linux

package etcdtest

import (
	"os/exec"
	"syscall"
)

func setDeathSignal(cmd *exec.Cmd) {}

// pause stops the process with SIGSTOP; resume sends it SIGCONT. With no
// /proc to look at, it cannot wait for the stop to take effect.
func pause(pid int) (resume func()) {
	syscall.Kill(pid, syscall.SIGSTOP)
	return func() { syscall.Kill(pid, syscall.SIGCONT) }
}
