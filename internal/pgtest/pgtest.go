package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// ErrNotInstalled is returned by StartProcess and BinDir when no PostgreSQL
// server binaries (initdb, postgres) can be found.
var ErrNotInstalled = errors.New("pgtest: PostgreSQL server binaries (initdb, postgres) not found")

// RequireEnv is the environment variable that turns a missing PostgreSQL from
// a skipped test into a failed one; CI sets it to 1.
const RequireEnv = "KAPPA_REQUIRE_PG"

// BinDirEnv overrides where the binaries are looked for.
const BinDirEnv = "KAPPA_PG_BINDIR"

// User is the database superuser that DSN connects as.
const User = "postgres"

// Options configure a server.
type Options struct {
	// Durable keeps fsync and synchronous_commit on, for benchmarks whose
	// figures must include durability. The default turns both off.
	Durable bool
	// Settings are extra server settings, passed as -c name=value.
	Settings map[string]string
	// StartTimeout bounds initdb plus startup; zero means one minute.
	StartTimeout time.Duration
}

// PG is a running PostgreSQL server.
type PG struct {
	// Dir holds the data directory ("data"), the unix socket and the
	// server's log ("postgres.log"); it is removed by Stop.
	Dir    string
	BinDir string
	Host   string
	Port   int

	cmd      *exec.Cmd
	exited   chan struct{}
	waitErr  error
	stopOnce sync.Once
	stopErr  error
}

// Start starts a server with default options for the test and stops it when
// the test ends. Without binaries it skips the test, or fails it when
// KAPPA_REQUIRE_PG=1.
func Start(t testing.TB) *PG { return StartWith(t, Options{}) }

// StartWith is Start with options.
func StartWith(t testing.TB, opts Options) *PG {
	t.Helper()
	p, err := StartProcess(opts)
	if errors.Is(err, ErrNotInstalled) {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("%v, and %s=1", err, RequireEnv)
		}
		t.Skipf("%v (install postgresql, or set %s to the bin directory)", err, BinDirEnv)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Stop(); err != nil {
			t.Errorf("stop PostgreSQL: %v", err)
		}
	})
	return p
}

// BinDir returns the directory of the newest installed PostgreSQL server
// binaries: $KAPPA_PG_BINDIR, /usr/lib/postgresql/<newest>/bin, `pg_config
// --bindir`, or the directory of initdb on PATH.
func BinDir() (string, error) {
	var candidates []string
	if d := os.Getenv(BinDirEnv); d != "" {
		candidates = append(candidates, d)
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin") // the pattern is valid
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	candidates = append(candidates, dirs...)
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		candidates = append(candidates, strings.TrimSpace(string(out)))
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		candidates = append(candidates, filepath.Dir(p))
	}
	for _, d := range candidates {
		if isExecutable(filepath.Join(d, "initdb")) && isExecutable(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	return "", ErrNotInstalled
}

// versionOf reads the major version out of /usr/lib/postgresql/<v>/bin.
func versionOf(binDir string) float64 {
	v, err := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	if err != nil {
		return -1
	}
	return v
}

func isExecutable(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

// StartProcess starts a server that the caller stops with Stop; for programs
// such as benchmarks that are not tests.
func StartProcess(opts Options) (*PG, error) {
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	timeout := opts.StartTimeout
	if timeout == 0 {
		timeout = time.Minute
	}
	deadline := time.Now().Add(timeout)
	cred, err := serverCredential()
	if err != nil {
		return nil, err
	}
	// Under /tmp rather than $TMPDIR: the postgres user must reach it, and
	// the socket path must stay short.
	base := "/tmp"
	if st, err := os.Stat(base); err != nil || !st.IsDir() {
		base = os.TempDir()
	}
	dir, err := os.MkdirTemp(base, "kappa-pg-")
	if err != nil {
		return nil, fmt.Errorf("pgtest: make directory: %w", err)
	}
	p := &PG{Dir: dir, BinDir: bin, Host: "127.0.0.1"}
	if err := p.initdb(cred); err != nil {
		return nil, errors.Join(err, os.RemoveAll(dir))
	}
	for attempt := 0; ; attempt++ {
		err = p.start(opts, cred, deadline)
		if err == nil {
			return p, nil
		}
		// A lost race for the port shows as an early exit; try another.
		if attempt == 2 || !p.hasExited() || time.Now().After(deadline) {
			return nil, errors.Join(err, p.Stop())
		}
	}
}

// serverCredential returns the postgres user's credential when running as
// root (initdb and postgres refuse root), or nil to run as ourselves.
func serverCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("pgtest: running as root needs the postgres user: %w", err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("pgtest: uid of postgres: %w", err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("pgtest: gid of postgres: %w", err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func (p *PG) command(cred *syscall.Credential, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(p.BinDir, name), args...)
	cmd.Dir = p.Dir
	// Drop PG* variables so that the caller's PGDATA or PGPORT cannot
	// redirect the server, and pin a locale that always exists.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") && !strings.HasPrefix(kv, "LC_") && !strings.HasPrefix(kv, "LANG=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "LANG=C", "LC_ALL=C")
	// Pdeathsig stops the server if the test binary dies without cleanup;
	// SIGQUIT is PostgreSQL's immediate shutdown.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT, Setpgid: true}
	return cmd
}

func (p *PG) initdb(cred *syscall.Credential) error {
	if cred != nil {
		if err := os.Chown(p.Dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return fmt.Errorf("pgtest: chown %s: %w", p.Dir, err)
		}
	}
	cmd := p.command(cred, "initdb", "-D", filepath.Join(p.Dir, "data"), "-U", User,
		"--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("pgtest: initdb: %w\n%s", err, out.String())
	}
	return nil
}

// freePort asks the kernel for a port that is free now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgtest: find a free port: %w", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		return 0, fmt.Errorf("pgtest: find a free port: %w", err)
	}
	return port, nil
}

func (p *PG) start(opts Options, cred *syscall.Credential, deadline time.Time) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	p.Port = port
	settings := map[string]string{
		"listen_addresses":        p.Host,
		"port":                    strconv.Itoa(port),
		"unix_socket_directories": p.Dir,
		"max_connections":         "200",
	}
	if !opts.Durable {
		settings["fsync"] = "off"
		settings["synchronous_commit"] = "off"
		settings["full_page_writes"] = "off"
	}
	for k, v := range opts.Settings {
		settings[k] = v
	}
	args := []string{"-D", filepath.Join(p.Dir, "data")}
	keys := make([]string, 0, len(settings))
	for k := range settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		args = append(args, "-c", k+"="+settings[k])
	}
	logf, err := os.OpenFile(filepath.Join(p.Dir, "postgres.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("pgtest: open server log: %w", err)
	}
	cmd := p.command(cred, "postgres", args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	err = cmd.Start()
	if cerr := logf.Close(); cerr != nil && err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("pgtest: start postgres: %w", err)
	}
	p.cmd = cmd
	p.exited = make(chan struct{})
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	return p.waitReady(deadline)
}

func (p *PG) hasExited() bool {
	if p.exited == nil {
		return false
	}
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// waitReady polls until the server accepts a connection, exits, or the
// deadline passes.
func (p *PG) waitReady(deadline time.Time) error {
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		conn, err := pgconn.Connect(ctx, p.DSN("postgres"))
		cancel()
		if err == nil {
			if err := conn.Close(context.Background()); err != nil {
				return fmt.Errorf("pgtest: close probe connection: %w", err)
			}
			return nil
		}
		if p.hasExited() {
			return fmt.Errorf("pgtest: postgres exited during startup (%v); log:\n%s", p.waitErr, p.LogTail(30))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pgtest: postgres not ready: %w; log:\n%s", err, p.LogTail(30))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// LogTail returns the last n lines of the server's log.
func (p *PG) LogTail(n int) string {
	data, err := os.ReadFile(filepath.Join(p.Dir, "postgres.log"))
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Pid is the postmaster's process id (benchmarks add up the CPU time of it
// and its children).
func (p *PG) Pid() int { return p.cmd.Process.Pid }

// DSN returns a connection string for database db as the superuser.
func (p *PG) DSN(db string) string {
	return fmt.Sprintf("postgres://%s@%s/%s?sslmode=disable", User,
		net.JoinHostPort(p.Host, strconv.Itoa(p.Port)), url.PathEscape(db))
}

// CreateDB creates database name.
func (p *PG) CreateDB(name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, p.DSN("postgres"))
	if err != nil {
		return fmt.Errorf("pgtest: create database %s: %w", name, err)
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	if cerr := conn.Close(ctx); cerr != nil && err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("pgtest: create database %s: %w", name, err)
	}
	return nil
}

// Stop shuts the server down at once (SIGQUIT, PostgreSQL's immediate mode,
// like pg_ctl stop -m immediate) and removes its directory. It is safe to
// call more than once.
func (p *PG) Stop() error {
	p.stopOnce.Do(func() {
		if p.cmd != nil && p.cmd.Process != nil && !p.hasExited() {
			if err := p.cmd.Process.Signal(syscall.SIGQUIT); err != nil && !errors.Is(err, os.ErrProcessDone) {
				p.stopErr = fmt.Errorf("pgtest: signal postgres: %w", err)
			}
			select {
			case <-p.exited:
			case <-time.After(15 * time.Second):
				// Kill the whole process group: the postmaster and its
				// backends.
				_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL) // best effort, then wait
				<-p.exited
			}
		}
		if err := os.RemoveAll(p.Dir); err != nil && p.stopErr == nil {
			p.stopErr = fmt.Errorf("pgtest: remove %s: %w", p.Dir, err)
		}
	})
	return p.stopErr
}
