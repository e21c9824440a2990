package keyworker

import (
	"os"
	"strconv"
	"syscall"
)

const supported = true

// program is the running program's file.
const program = "/proc/self/exe"

// lowerPriority lowers the priority of every thread of the process (on
// Linux a thread has its own); threads started later inherit it from the
// thread that starts them.
func lowerPriority() {
	tasks, _ := os.ReadDir("/proc/self/task")
	for _, t := range tasks {
		if tid, err := strconv.Atoi(t.Name()); err == nil {
			_ = syscall.Setpriority(syscall.PRIO_PROCESS, tid, Nice)
		}
	}
}
