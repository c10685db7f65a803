package main

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// selfCPU is the CPU time (user + system) this process has used: kappa's
// server and every client goroutine.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// clockTick is the unit of /proc/PID/stat's CPU times (USER_HZ, 100 on
// every Linux this runs on).
const clockTick = 10 * time.Millisecond

// treeCPU is the CPU time used by process pid, its reaped children and its
// live children (PostgreSQL's postmaster and its backends), from /proc; 0
// where /proc is missing.
func treeCPU(pid int) time.Duration {
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
