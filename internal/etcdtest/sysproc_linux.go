package etcdtest

import (
	"os/exec"
	"syscall"
)

// setDeathSignal makes the kernel send SIGKILL to the child if the test
// process dies without stopping it, so no etcd outlives a killed test.
func setDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
