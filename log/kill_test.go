package log

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const killChildEnv = "KAPPA_LOG_KILL_CHILD_DIR"

// TestSIGKILL runs appends in a child process, kills it with SIGKILL in the
// middle, and checks that every Append the child saw acknowledged is in the
// reopened log, which holds nothing else but whole Appends.
func TestSIGKILL(t *testing.T) {
	if dir := os.Getenv(killChildEnv); dir != "" {
		killChild(dir)
		return
	}
	if testing.Short() {
		t.Skip("spawns a process")
	}
	dir := filepath.Join(t.TempDir(), "p")
	cmd := exec.Command(os.Args[0], "-test.run=^TestSIGKILL$")
	cmd.Env = append(os.Environ(), killChildEnv+"="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acked []ackedAppend
	sc := bufio.NewScanner(out)
	for len(acked) < 300 && sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 || f[0] != "ack" {
			continue
		}
		first, _ := strconv.ParseUint(f[1], 10, 64)
		n, _ := strconv.Atoi(f[2])
		acked = append(acked, ackedAppend{first, n})
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait() // "signal: killed" is the expected outcome
	if len(acked) < 300 {
		t.Fatalf("child acknowledged only %d appends", len(acked))
	}
	l := mustOpen(t, Options{Dir: dir})
	defer l.Close()
	last := acked[len(acked)-1]
	if l.End() < last.first+uint64(last.n) {
		t.Fatalf("End %d after SIGKILL, but the child was acknowledged up to %d", l.End(), last.first+uint64(last.n))
	}
	checkRecords(t, l, l.End()) // dense, and every record is the one appended at its offset
	t.Logf("child acknowledged %d appends; log holds %d records", len(acked), l.End())
}

// killChild appends until it is killed, printing each acknowledgement.
func killChild(dir string) {
	l, err := Open(Options{Dir: dir, SegmentBytes: 64 << 10})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	w := bufio.NewWriter(os.Stdout)
	for i := 0; ; i++ {
		n := 1 + i%50
		next := l.End()
		first, err := l.Append(records(next, n))
		if err != nil || first != next {
			fmt.Fprintln(os.Stderr, "append:", first, err)
			os.Exit(2)
		}
		fmt.Fprintf(w, "ack %d %d\n", first, n)
		if err := w.Flush(); err != nil {
			os.Exit(2)
		}
	}
}
