package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"time"
)

// kappaProcess is `kappa serve` run as a process of its own.
type kappaProcess struct {
	cmd  *exec.Cmd
	pid  int
	addr string
	dsn  string
	dir  string
	done chan struct{}
}

var readyLine = regexp.MustCompile(`msg="kappa is ready" listen=(\S+)`)

// startKappaProcess builds kappa and starts it on a new data directory under
// the benchmark's directory.
func startKappaProcess(ctx context.Context, e *env) (*kappaProcess, error) {
	dir, err := os.MkdirTemp(e.cfg.dir, "kappa-serverbench-proc-")
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(dir, "kappa")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/kappa-db/kappa/cmd/kappa").CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("go build: %v\n%s", err, out)
	}
	p := &kappaProcess{dir: dir, done: make(chan struct{})}
	p.cmd = exec.Command(bin, "serve", "--data-dir", filepath.Join(dir, "data"), "--listen", "127.0.0.1:0")
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := p.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	p.pid = p.cmd.Process.Pid
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := readyLine.FindSubmatch(sc.Bytes()); m != nil {
				select {
				case ready <- string(m[1]):
				default:
				}
			}
		}
		_ = p.cmd.Wait()
		close(p.done)
	}()
	select {
	case p.addr = <-ready:
	case <-p.done:
		os.RemoveAll(dir)
		return nil, errors.New("kappa exited before it was ready")
	case <-time.After(time.Minute):
		p.stop()
		return nil, errors.New("kappa not ready after a minute")
	}
	p.dsn = fmt.Sprintf("postgres://kappa@%s/kappa?sslmode=disable", p.addr)
	return p, nil
}

func (p *kappaProcess) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	os.RemoveAll(p.dir)
}
