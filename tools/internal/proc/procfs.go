package proc

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// ErrNoProcfs is the error of RSS and CPUTime where /proc cannot tell
// (outside Linux, or for a process that has gone).
var ErrNoProcfs = errors.New("no /proc: RSS and CPU time are read on Linux only")

// RSS returns the resident set size in bytes of process pid, VmRSS of
// /proc/PID/status.
func RSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, ErrNoProcfs
	}
	return parseRSS(string(b))
}

// parseRSS reads VmRSS of a /proc/PID/status document.
func parseRSS(status string) (int64, error) {
	for line := range strings.Lines(status) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v) // "12345 kB"
			if len(f) == 2 && f[1] == "kB" {
				if kb, err := strconv.ParseInt(f[0], 10, 64); err == nil {
					return kb << 10, nil
				}
			}
		}
	}
	return 0, ErrNoProcfs
}

// CPUTime returns the user plus system CPU time of process pid so far,
// from /proc/PID/stat.
func CPUTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, ErrNoProcfs
	}
	return parseCPUTime(string(b))
}

// parseCPUTime reads utime and stime of a /proc/PID/stat line.
func parseCPUTime(stat string) (time.Duration, error) {
	i := strings.LastIndex(stat, ") ") // the command name may hold ") " and spaces
	if i < 0 {
		return 0, ErrNoProcfs
	}
	f := strings.Fields(stat[i+2:])
	if len(f) < 13 {
		return 0, ErrNoProcfs
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64) // field 14
	stime, err2 := strconv.ParseInt(f[12], 10, 64) // field 15
	if err1 != nil || err2 != nil {
		return 0, ErrNoProcfs
	}
	return time.Duration(utime+stime) * time.Second / userHZ, nil
}

// userHZ is the unit of /proc times: USER_HZ, 100 on every Linux ABI.
const userHZ = 100
