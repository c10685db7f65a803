package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// The kappa binary is built once per test process, into buildDir.
var (
	buildOnce sync.Once
	buildDir  string
	buildBin  string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// kappaBinary builds cmd/kappa (once) and returns the executable's path.
func kappaBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "kappa-bin-")
		if buildErr != nil {
			return
		}
		buildBin = filepath.Join(buildDir, "kappa")
		args := []string{"build", "-o", buildBin}
		if os.Getenv("KAPPA_CRASH_RACE") != "" {
			// The server under the race detector: a race it reports fails
			// the test (see checkRaces).
			args = append(args, "-race")
		}
		cmd := exec.Command("go", append(args, "github.com/kappa-db/kappa/cmd/kappa")...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildBin
}

// kappaProc is a kappa server running as a child process.
type kappaProc struct {
	t     testing.TB
	cmd   *exec.Cmd
	addr  string
	ready chan string // the address, once the server logs that it is ready
	// exited is closed when the process has been waited for; err is then
	// Wait's result.
	exited chan struct{}
	err    error

	mu  sync.Mutex
	out bytes.Buffer // everything the process wrote to stderr
}

var readyLine = regexp.MustCompile(`msg="kappa is ready" listen=(\S+)`)

// startKappa starts `kappa serve` on dir and a free port and waits until it
// accepts clients.
func startKappa(t testing.TB, bin, dir string, extra ...string) *kappaProc {
	t.Helper()
	p := launchKappa(t, bin, dir, extra...)
	select {
	case p.addr = <-p.ready:
	case <-p.exited:
		t.Fatalf("kappa exited before it was ready (%v):\n%s", p.err, p.output())
	case <-time.After(30 * time.Second):
		t.Fatalf("kappa not ready after 30s:\n%s", p.output())
	}
	return p
}

// launchKappa starts `kappa serve` on dir and a free port without waiting
// for it to be ready.
func launchKappa(t testing.TB, bin, dir string, extra ...string) *kappaProc {
	t.Helper()
	args := append([]string{"serve", "--data-dir", dir, "--listen", "127.0.0.1:0"}, extra...)
	p := &kappaProc{t: t, cmd: exec.Command(bin, args...), exited: make(chan struct{}), ready: make(chan string, 1)}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			p.mu.Lock()
			p.out.Write(sc.Bytes())
			p.out.WriteByte('\n')
			p.mu.Unlock()
			if m := readyLine.FindSubmatch(sc.Bytes()); m != nil {
				select {
				case p.ready <- string(m[1]):
				default:
				}
			}
		}
	}()
	go func() {
		<-scanned // Wait closes the pipe; read it to the end first
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
		if strings.Contains(p.output(), "WARNING: DATA RACE") {
			t.Errorf("the race detector reported a race in kappa:\n%s", p.output())
		}
	})
	return p
}

// output is what the server logged so far.
func (p *kappaProc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *kappaProc) kill() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		p.t.Fatalf("SIGKILL: %v", err)
	}
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		p.t.Fatalf("kappa still running 10s after SIGKILL")
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			return
		}
	}
	// The server died of something else before the signal arrived.
	p.t.Fatalf("kappa ended with %v before SIGKILL:\n%s", p.err, p.output())
}

// terminate sends SIGTERM and returns the exit code (-1 when killed by a
// signal) once the process has exited.
func (p *kappaProc) terminate(timeout time.Duration) int {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		p.t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case <-p.exited:
	case <-time.After(timeout):
		p.t.Fatalf("kappa still running %v after SIGTERM:\n%s", timeout, p.output())
	}
	return p.cmd.ProcessState.ExitCode()
}

// connect opens a client connection to the server.
func (p *kappaProc) connect(ctx context.Context) (*pgx.Conn, error) {
	return pgx.Connect(ctx, fmt.Sprintf("postgres://kappa@%s/kappa?sslmode=disable&connect_timeout=10", p.addr))
}

// mustConnect is connect that fails the test on error.
func (p *kappaProc) mustConnect(ctx context.Context) *pgx.Conn {
	p.t.Helper()
	c, err := p.connect(ctx)
	if err != nil {
		p.t.Fatalf("connect to kappa at %s: %v\n%s", p.addr, err, p.output())
	}
	return c
}
