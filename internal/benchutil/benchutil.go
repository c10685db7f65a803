package benchutil

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// LoadAverage is the 1-minute load average, or "?" where /proc has none:
// other work on the machine moves every figure a benchmark prints.
func LoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}

// SelfCPU is the CPU time (user + system) this process has used.
func SelfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// clockTick is the unit of /proc/PID/stat's CPU times (USER_HZ, 100 on
// every Linux this runs on).
const clockTick = 10 * time.Millisecond

// TreeCPU is the CPU time used by process pid, its reaped children and its
// live children (PostgreSQL's postmaster and its backends, say), from
// /proc; 0 where /proc is missing.
func TreeCPU(pid int) time.Duration {
	var total time.Duration
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// Fields after the command name, which is in parentheses and
		// may hold spaces.
		s := string(b)
		if i := strings.LastIndexByte(s, ')'); i >= 0 {
			s = s[i+1:]
		}
		f := strings.Fields(s)
		if len(f) < 15 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		if p != pid && ppid != pid {
			continue
		}
		// f[11..14]: utime stime cutime cstime; a child's own reaped
		// children are none of ours, so only the root counts them.
		n := 2
		if p == pid {
			n = 4
		}
		for _, x := range f[11 : 11+n] {
			t, _ := strconv.ParseInt(x, 10, 64)
			total += time.Duration(t) * clockTick
		}
	}
	return total
}

// BuildKappa builds cmd/kappa into dir and returns the binary's path.
func BuildKappa(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "kappa")
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/kappa-db/kappa/cmd/kappa").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
}

// Kappa is `kappa serve` running as a process of its own.
type Kappa struct {
	cmd *exec.Cmd
	// Addr is where it listens; Ready is how long it took from the start of
	// the process to its "kappa is ready" log line.
	Addr  string
	Ready time.Duration
	done  chan struct{}
}

var readyLine = regexp.MustCompile(`msg="kappa is ready" listen=(\S+)`)

// StartKappa runs bin as `kappa serve` on dataDir and a free loopback port
// and waits (at most timeout) until it accepts clients.
func StartKappa(bin, dataDir string, timeout time.Duration) (*Kappa, error) {
	k := &Kappa{cmd: exec.Command(bin, "serve", "--data-dir", dataDir, "--listen", "127.0.0.1:0"), done: make(chan struct{})}
	stderr, err := k.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	if err := k.cmd.Start(); err != nil {
		return nil, err
	}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			if m := readyLine.FindSubmatch(sc.Bytes()); m != nil {
				select {
				case ready <- string(m[1]):
				default:
				}
			}
		}
		_ = k.cmd.Wait()
		close(k.done)
	}()
	select {
	case k.Addr = <-ready:
		k.Ready = time.Since(t0)
		return k, nil
	case <-k.done:
		return nil, errors.New("kappa exited before it was ready")
	case <-time.After(timeout):
		k.Kill()
		return nil, fmt.Errorf("kappa not ready after %v", timeout)
	}
}

// PID is the server's process id.
func (k *Kappa) PID() int { return k.cmd.Process.Pid }

// DSN is the connection string of the bootstrap superuser.
func (k *Kappa) DSN() string { return fmt.Sprintf("postgres://kappa@%s/kappa?sslmode=disable", k.Addr) }

// Kill stops the server with SIGKILL and waits for it to exit.
func (k *Kappa) Kill() {
	_ = k.cmd.Process.Signal(syscall.SIGKILL)
	<-k.done
}

// Stop asks the server to shut down (SIGTERM), killing it after a minute.
func (k *Kappa) Stop() {
	_ = k.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-k.done:
	case <-time.After(time.Minute):
		k.Kill()
	}
}

// Main is a benchmark command's main: it runs run with the command's
// arguments under a context that Ctrl-C cancels (so the servers it started
// are stopped), and on error prints "name: err" and exits 1.
func Main(name string, run func(ctx context.Context, args []string) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
}
