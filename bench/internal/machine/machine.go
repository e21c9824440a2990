// Package machine holds what the benchmarks say of the machine they run
// on and of their goals.
package machine

import (
	"os"
	"strings"
)

// LoadAvg reads the load average: the machine may be shared, and the
// figures mean less on a busy one.
func LoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// Goal says whether a goal is met.
func Goal(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}
