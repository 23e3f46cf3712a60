package etcdtest

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"text/template"

	"github.com/etcdscope/etcdscope/internal/etcdrelease"
)

// Versions are the etcd minor versions etcdscope is tested against, oldest
// first: those of [etcdrelease.Tested]. Each has a wrapper module in
// testdata/etcd/v<version>.
var Versions = etcdrelease.Minors()

// modulePath is the module whose go.mod marks the repository root.
const modulePath = "github.com/etcdscope/etcdscope"

// Bins are the paths of one etcd release's binaries.
type Bins struct {
	Etcd    string
	Etcdctl string
	Etcdutl string
	Version string // the minor version, as in Versions: "3.6"
}

var (
	buildMu  sync.Mutex // one go build at a time in this process
	binsMu   sync.Mutex
	binsDone = map[string]Bins{}
)

// Binaries returns etcd, etcdctl and etcdutl of the given minor version,
// building them on first use into the cache (see the package doc). It fails
// tb when the version is unknown or the build fails.
func Binaries(tb testing.TB, version string) Bins {
	tb.Helper()
	if !slices.Contains(Versions, version) {
		tb.Fatalf("etcdtest: unknown etcd version %q (have %v)", version, Versions)
	}
	binsMu.Lock()
	b, ok := binsDone[version]
	binsMu.Unlock()
	if ok {
		return b
	}

	wrapper := filepath.Join(RepoRoot(tb), "testdata", "etcd", "v"+version)
	mainGo, err := etcdMain(version)
	if err != nil {
		tb.Fatalf("etcdtest: %v", err)
	}
	key, err := binKey(wrapper, mainGo)
	if err != nil {
		tb.Fatalf("etcdtest: %v", err)
	}
	dir := filepath.Join(CacheDir(tb), "bin", version+"-"+key)
	b = binsIn(dir, version)
	if !b.complete() {
		buildMu.Lock()
		err := build(wrapper, mainGo, dir)
		buildMu.Unlock()
		if err != nil {
			tb.Fatalf("etcdtest: building etcd %s: %v", version, err)
		}
	}
	binsMu.Lock()
	binsDone[version] = b
	binsMu.Unlock()
	return b
}

func binsIn(dir, version string) Bins {
	exe := ""
	if runtime.GOOS == "windows" {
		exe = ".exe"
	}
	return Bins{
		Etcd:    filepath.Join(dir, "etcd"+exe),
		Etcdctl: filepath.Join(dir, "etcdctl"+exe),
		Etcdutl: filepath.Join(dir, "etcdutl"+exe),
		Version: version,
	}
}

func (b Bins) complete() bool {
	for _, p := range []string{b.Etcd, b.Etcdctl, b.Etcdutl} {
		st, err := os.Stat(p)
		if err != nil || !st.Mode().IsRegular() {
			return false
		}
	}
	return true
}

// etcdMainTemplate is the source of the wrappers' etcd command, one for
// every version: only the package holding wal.SegmentSizeBytes differs.
//
//go:embed etcdmain.go.tmpl
var etcdMainTemplate string

// etcdMain returns the etcd command's main.go for a minor version.
func etcdMain(version string) ([]byte, error) {
	walPackage := "go.etcd.io/etcd/server/v3/storage/wal"
	if version == "3.5" {
		walPackage = "go.etcd.io/etcd/server/v3/wal" // moved under storage/ in 3.6
	}
	tmpl, err := template.New("etcdmain.go.tmpl").Parse(etcdMainTemplate)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	err = tmpl.Execute(&b, struct{ Version, WALPackage string }{version, walPackage})
	return b.Bytes(), err
}

// wrapperFiles are the files of a wrapper module that the build copies.
var wrapperFiles = []string{"go.mod", "go.sum"}

// binKey hashes what determines the binaries built from a wrapper module:
// its go.mod and go.sum and the etcd command's main.go.
func binKey(wrapper string, mainGo []byte) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s/%s %s\n", runtime.GOOS, runtime.GOARCH, runtime.Version())
	if err := hashFiles(h, wrapper, wrapperFiles); err != nil {
		return "", err
	}
	hashNamed(h, "etcd/main.go", mainGo)
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// hashFiles writes the names, sizes and contents of the files dir/name to
// h, in order.
func hashFiles(h io.Writer, dir string, names []string) error {
	for _, name := range names {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		hashNamed(h, filepath.ToSlash(name), data)
	}
	return nil
}

func hashNamed(h io.Writer, name string, data []byte) {
	fmt.Fprintf(h, "%s %d\n", name, len(data))
	h.Write(data)
}

// build builds etcd, etcdctl and etcdutl into dir, unless another process
// has done so meanwhile: in a temporary sibling of dir it lays out a copy
// of the wrapper module with mainGo as etcd/main.go, builds into it and
// renames the binaries' dir to dir, under a lock file, so that dir is
// either absent or complete.
func build(wrapper string, mainGo []byte, dir string) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	unlock, err := lockFile(dir + ".lock")
	if err != nil {
		return err
	}
	defer unlock()
	if binsIn(dir, "").complete() {
		return nil
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("finding the go command: %w", err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	src, out := filepath.Join(tmp, "src"), filepath.Join(tmp, "bin")
	if err := os.MkdirAll(filepath.Join(src, "etcd"), 0o755); err != nil {
		return err
	}
	for _, name := range wrapperFiles {
		data, err := os.ReadFile(filepath.Join(wrapper, name))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(src, name), data, 0o644); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(src, "etcd", "main.go"), mainGo, 0o644); err != nil {
		return err
	}
	cmd := exec.Command(goTool, "build", "-o", out+string(filepath.Separator),
		"./etcd", "go.etcd.io/etcd/etcdctl/v3", "go.etcd.io/etcd/etcdutl/v3")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	var log bytes.Buffer
	cmd.Stdout = &log
	cmd.Stderr = &log
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build of %s: %v\n%s", wrapper, err, log.Bytes())
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	return os.Rename(out, dir)
}

var (
	rootOnce sync.Once
	rootDir  string
	rootErr  error
)

// RepoRoot returns the root of the etcdscope repository: the nearest
// directory above the working directory (or, failing that, above this
// source file) whose go.mod declares module github.com/etcdscope/etcdscope.
func RepoRoot(tb testing.TB) string {
	tb.Helper()
	rootOnce.Do(func() {
		var starts []string
		if wd, err := os.Getwd(); err == nil {
			starts = append(starts, wd)
		}
		if _, file, _, ok := runtime.Caller(0); ok {
			starts = append(starts, filepath.Dir(file))
		}
		for _, dir := range starts {
			for {
				data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
				if err == nil && bytes.Contains(data, []byte("module "+modulePath+"\n")) {
					rootDir = dir
					return
				}
				parent := filepath.Dir(dir)
				if parent == dir {
					break
				}
				dir = parent
			}
		}
		rootErr = fmt.Errorf("no go.mod of module %s above %v", modulePath, starts)
	})
	if rootErr != nil {
		tb.Fatalf("etcdtest: %v", rootErr)
	}
	return rootDir
}

// CacheDir returns the directory holding built binaries and generated data
// dirs: $ETCDSCOPE_CACHE if set, else os.UserCacheDir()/etcdscope, else a
// directory under os.TempDir().
func CacheDir(tb testing.TB) string {
	tb.Helper()
	dir := os.Getenv("ETCDSCOPE_CACHE")
	if dir == "" {
		if base, err := os.UserCacheDir(); err == nil {
			dir = filepath.Join(base, "etcdscope")
		} else {
			dir = filepath.Join(os.TempDir(), "etcdscope-cache")
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatalf("etcdtest: cache dir: %v", err)
	}
	return dir
}
