package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cpuSample is the CPU time used so far by galenix's process, by this one
// (the load generator) and by the whole machine, to tell a slow server from
// a starved one: the machine is shared.
type cpuSample struct {
	at             time.Time
	self, server   time.Duration
	busy, total    float64 // machine, in clock ticks
	machineReading bool
}

func sampleCPU(serverPID int) cpuSample {
	s := cpuSample{at: time.Now(), server: processCPU(serverPID)}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		s.self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return s
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return s
	}
	for i, v := range f[1:] {
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return s
		}
		if i >= 8 { // guest time is counted in user already
			break
		}
		s.total += n
		if i != 3 && i != 4 { // idle, iowait
			s.busy += n
		}
	}
	s.machineReading = true
	return s
}

// processCPU is the CPU time a process used so far (user and system), from
// /proc/PID/stat; zero when it cannot be read.
func processCPU(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The command's name, in parentheses, may hold spaces: fields count
	// from the last ")". utime and stime are the 14th and 15th fields.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	return time.Duration(utime+stime) * time.Second / clockTicks
}

// clockTicks is the kernel's USER_HZ, 100 on Linux for every architecture
// Go runs on.
const clockTicks = 100

// cpuUse says how many cores galenix, the load generator and the others
// used between two samples, and galenix's CPU time per request.
func cpuUse(a, b cpuSample, requests int, cores int, others string) string {
	wall := b.at.Sub(a.at).Seconds()
	self := (b.self - a.self).Seconds()
	server := (b.server - a.server).Seconds()
	out := fmt.Sprintf("CPU during the run: galenix %.2f of %d cores", server/wall, cores)
	if requests > 0 {
		out += fmt.Sprintf(" (%.2f ms per request)", server*1000/float64(requests))
	}
	out += fmt.Sprintf(", the load generator %.2f", self/wall)
	if a.machineReading && b.machineReading && b.total > a.total {
		machine := (b.busy - a.busy) / (b.total - a.total) * float64(cores)
		out += fmt.Sprintf("; the machine %.2f cores busy, other processes%s %.2f", machine, others, max(0, machine-(self+server)/wall))
	}
	return out
}
