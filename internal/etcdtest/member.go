package etcdtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// MemberOptions configure StartMember. The zero value is a fresh member
// named "etcdscope" in a new temporary data dir.
type MemberOptions struct {
	// Name is --name; default "etcdscope".
	Name string
	// DataDir is --data-dir; default DIR/data for a new tb.TempDir() DIR.
	// An existing data dir is restarted as it is.
	DataDir string
	// SnapshotCount is --snapshot-count; default 100.
	SnapshotCount uint64
	// WALSegmentBytes, when > 0, sets the WAL segment size (at least 4096)
	// through ETCDSCOPE_WAL_SEGMENT_BYTES.
	WALSegmentBytes int64
	// Auth is "user:password" for Ctl and Client, for a data dir that
	// already has auth enabled. RunWorkload sets it on the Member.
	Auth string
	// ExtraArgs are appended to etcd's command line; a flag given here
	// overrides the one StartMember sets.
	ExtraArgs []string
}

// Member is one running etcd process started by StartMember.
type Member struct {
	Bins      Bins
	Opts      MemberOptions // as given, with defaults filled in
	Name      string
	DataDir   string
	ClientURL string // http://127.0.0.1:PORT
	PeerURL   string
	LogPath   string
	// Auth is "user:password" used by Ctl and Client, empty while auth is
	// disabled.
	Auth string

	cmd      *exec.Cmd
	done     chan struct{} // closed when the process has exited
	cluster  string        // --initial-cluster when part of a StartCluster cluster
	waitErr  error
	stopOnce sync.Once
}

const (
	startTimeout = 30 * time.Second
	stopTimeout  = 10 * time.Second
	opTimeout    = 30 * time.Second
)

// StartMember starts a single-member etcd cluster listening on 127.0.0.1
// and waits until it is healthy. tb.Cleanup stops it; when tb has failed by
// then, the tail of its log is printed.
func StartMember(tb testing.TB, bins Bins, opts MemberOptions) *Member {
	tb.Helper()
	if opts.Name == "" {
		opts.Name = "etcdscope"
	}
	if opts.SnapshotCount == 0 {
		opts.SnapshotCount = 100
	}
	if opts.DataDir == "" {
		opts.DataDir = filepath.Join(tb.TempDir(), "data")
	}
	if opts.WALSegmentBytes != 0 && opts.WALSegmentBytes < 4096 {
		tb.Fatalf("etcdtest: WALSegmentBytes %d: want 0 or at least 4096", opts.WALSegmentBytes)
	}
	logDir := tb.TempDir()

	var lastErr error
	for attempt := 1; attempt <= 5; attempt++ {
		m := &Member{
			Bins:    bins,
			Opts:    opts,
			Name:    opts.Name,
			DataDir: opts.DataDir,
			Auth:    opts.Auth,
			LogPath: filepath.Join(logDir, fmt.Sprintf("etcd-%d.log", attempt)),
		}
		ports, err := freePorts(2)
		if err != nil {
			tb.Fatalf("etcdtest: %v", err)
		}
		m.ClientURL = "http://127.0.0.1:" + strconv.Itoa(ports[0])
		m.PeerURL = "http://127.0.0.1:" + strconv.Itoa(ports[1])
		err = m.start()
		if err == nil {
			tb.Cleanup(func() {
				m.Stop(tb)
				if tb.Failed() {
					tb.Logf("etcdtest: tail of %s:\n%s", m.LogPath, m.logTail())
				}
			})
			err = m.waitHealthy()
			if err == nil {
				return m
			}
			m.Stop(tb)
		}
		lastErr = err
		if !strings.Contains(m.logTail(), "address already in use") {
			break
		}
	}
	tb.Fatalf("etcdtest: starting etcd %s: %v", bins.Version, lastErr)
	return nil
}

// initialCluster is --initial-cluster: this member alone, or the cluster
// StartCluster assembled.
func (m *Member) initialCluster() string {
	if m.cluster != "" {
		return m.cluster
	}
	return m.Opts.Name + "=" + m.PeerURL
}

func (m *Member) start() error {
	o := m.Opts
	args := []string{
		"--name", o.Name,
		"--data-dir", o.DataDir,
		"--listen-client-urls", m.ClientURL,
		"--advertise-client-urls", m.ClientURL,
		"--listen-peer-urls", m.PeerURL,
		"--initial-advertise-peer-urls", m.PeerURL,
		"--initial-cluster", m.initialCluster(),
		"--initial-cluster-token", "etcdscope",
		"--initial-cluster-state", "new",
		"--snapshot-count", strconv.FormatUint(o.SnapshotCount, 10),
		"--max-wals", "0",
		"--max-snapshots", "0",
	}
	args = append(args, o.ExtraArgs...)
	cmd := exec.Command(m.Bins.Etcd, args...)
	env := cleanEnv()
	if o.WALSegmentBytes > 0 {
		env = append(env, "ETCDSCOPE_WAL_SEGMENT_BYTES="+strconv.FormatInt(o.WALSegmentBytes, 10))
	}
	cmd.Env = env
	logf, err := os.Create(m.LogPath)
	if err != nil {
		return err
	}
	defer logf.Close() // the child has its own descriptor
	fmt.Fprintf(logf, "# %s %s\n", m.Bins.Etcd, strings.Join(args, " "))
	cmd.Stdout = logf
	cmd.Stderr = logf
	setDeathSignal(cmd)
	if err := cmd.Start(); err != nil {
		return err
	}
	m.cmd = cmd
	m.done = make(chan struct{})
	m.stopOnce = sync.Once{} // a restarted member can be stopped again
	go func() {
		m.waitErr = cmd.Wait()
		close(m.done)
	}()
	return nil
}

// cleanEnv is the environment without the variables etcd and etcdctl read
// as flags.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "ETCD_") || strings.HasPrefix(kv, "ETCDCTL_") ||
			strings.HasPrefix(kv, "ETCDSCOPE_WAL_SEGMENT_BYTES=") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

func (m *Member) waitHealthy() error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(startTimeout)
	var last string
	for time.Now().Before(deadline) {
		select {
		case <-m.done:
			return fmt.Errorf("etcd exited early: %v", m.waitErr)
		default:
		}
		resp, err := client.Get(m.ClientURL + "/health")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && bytes.Contains(body, []byte(`"health":"true"`)) {
				return nil
			}
			last = fmt.Sprintf("%s: %s", resp.Status, bytes.TrimSpace(body))
		} else {
			last = err.Error()
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("not healthy after %v (last: %s)", startTimeout, last)
}

// Stop stops the member: SIGTERM to its process, and SIGKILL if it has not
// exited after 10 s. Only the process StartMember started is signalled, by
// its PID. Stop is idempotent.
func (m *Member) Stop(tb testing.TB) {
	tb.Helper()
	m.stopOnce.Do(func() {
		if m.cmd == nil {
			return
		}
		select {
		case <-m.done:
			return
		default:
		}
		if err := m.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
			tb.Errorf("etcdtest: SIGTERM to etcd pid %d: %v", m.cmd.Process.Pid, err)
		}
		select {
		case <-m.done:
		case <-time.After(stopTimeout):
			tb.Errorf("etcdtest: etcd pid %d did not stop within %v of SIGTERM; killing it", m.cmd.Process.Pid, stopTimeout)
			m.cmd.Process.Kill()
			<-m.done
		}
	})
}

// Pid returns the process id of the member's etcd.
func (m *Member) Pid() int { return m.cmd.Process.Pid }

// Ctl runs the member's version of etcdctl against it, with --endpoints
// and, when m.Auth is set, --user, and returns its stdout. It fails tb with
// etcdctl's stderr if etcdctl fails.
func (m *Member) Ctl(tb testing.TB, args ...string) []byte {
	tb.Helper()
	out, err := m.CtlErr(args...)
	if err != nil {
		tb.Fatalf("etcdtest: %v", err)
	}
	return out
}

// CtlErr is Ctl returning an error, which includes etcdctl's stderr,
// instead of failing the test.
func (m *Member) CtlErr(args ...string) ([]byte, error) {
	// Generous timeouts: a loaded CI machine can take seconds per fsync,
	// and every authenticated call goes through raft.
	full := []string{"--endpoints", m.ClientURL, "--dial-timeout", "10s", "--command-timeout", "30s"}
	if m.Auth != "" {
		full = append(full, "--user", m.Auth)
	}
	full = append(full, args...)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, m.Bins.Etcdctl, full...)
	cmd.Env = append(cleanEnv(), "ETCDCTL_API=3")
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("etcdctl %s: %v: %s", strings.Join(args, " "), err, bytes.TrimSpace(stderr.Bytes()))
	}
	return stdout.Bytes(), nil
}

// Client returns a go.etcd.io/etcd/client/v3 client connected to the
// member, authenticated as m.Auth if set. tb.Cleanup closes it.
func (m *Member) Client(tb testing.TB) *clientv3.Client {
	tb.Helper()
	cfg := clientv3.Config{
		Endpoints:   []string{m.ClientURL},
		DialTimeout: 5 * time.Second,
		Logger:      zap.NewNop(),
	}
	if m.Auth != "" {
		user, pass, _ := strings.Cut(m.Auth, ":")
		cfg.Username, cfg.Password = user, pass
	}
	cli, err := clientv3.New(cfg)
	if err != nil {
		tb.Fatalf("etcdtest: client for %s: %v", m.ClientURL, err)
	}
	tb.Cleanup(func() { cli.Close() })
	return cli
}

// logTail returns the last few KiB of the member's log.
func (m *Member) logTail() string {
	data, err := os.ReadFile(m.LogPath)
	if err != nil {
		return err.Error()
	}
	const max = 8 << 10
	if len(data) > max {
		data = data[len(data)-max:]
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			data = data[i+1:]
		}
	}
	return string(data)
}

// freePorts returns n distinct TCP ports on 127.0.0.1 that were free a
// moment ago.
func freePorts(n int) ([]int, error) {
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("finding a free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
