package identity

import (
	"os"
	"strconv"
	"syscall"
)

const keyWorkersSupported = true

// keyWorkerProgram is the running program's file.
const keyWorkerProgram = "/proc/self/exe"

// keyWorkerLowerPriority lowers the priority of every thread of the
// process (on Linux a thread has its own); threads started later inherit
// it from the thread that starts them.
func keyWorkerLowerPriority() {
	tasks, _ := os.ReadDir("/proc/self/task")
	for _, t := range tasks {
		if tid, err := strconv.Atoi(t.Name()); err == nil {
			_ = syscall.Setpriority(syscall.PRIO_PROCESS, tid, KeyWorkerNice)
		}
	}
}
