package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cpuSample is the CPU time used so far by this process (galenix and the
// load generator) and by the whole machine, to tell a slow server from a
// starved one: the machine is shared.
type cpuSample struct {
	at             time.Time
	self           time.Duration
	busy, total    float64 // machine, in clock ticks
	machineReading bool
}

func sampleCPU() cpuSample {
	s := cpuSample{at: time.Now()}
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

// cpuUse says how many cores this process and the others used between two
// samples, and the process's CPU time per request.
func cpuUse(a, b cpuSample, requests int, cores int, others string) string {
	wall := b.at.Sub(a.at).Seconds()
	self := (b.self - a.self).Seconds()
	out := fmt.Sprintf("CPU during the run: this process (galenix and the load generator) %.2f of %d cores", self/wall, cores)
	if requests > 0 {
		out += fmt.Sprintf(", %.2f ms per request", self*1000/float64(requests))
	}
	if a.machineReading && b.machineReading && b.total > a.total {
		machine := (b.busy - a.busy) / (b.total - a.total) * float64(cores)
		out += fmt.Sprintf("; the machine %.2f cores busy, other processes%s %.2f", machine, others, max(0, machine-self/wall))
	}
	return out
}
