package etcdtest

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// setDeathSignal makes the kernel send SIGKILL to the child if the test
// process dies without stopping it, so no etcd outlives a killed test.
func setDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// pause stops the process with SIGSTOP and waits until it is stopped;
// resume sends it SIGCONT.
func pause(pid int) (resume func()) {
	syscall.Kill(pid, syscall.SIGSTOP)
	waitStopped(pid)
	return func() { syscall.Kill(pid, syscall.SIGCONT) }
}

// waitStopped waits (up to a second) until /proc shows the process stopped:
// SIGSTOP takes effect asynchronously.
func waitStopped(pid int) {
	for i := 0; i < 10000; i++ {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return
		}
		// The state follows the ")" closing the command name.
		if j := strings.LastIndexByte(string(b), ')'); j >= 0 && j+2 < len(b) && (b[j+2] == 'T' || b[j+2] == 't') {
			return
		}
		time.Sleep(100 * time.Microsecond)
	}
}
