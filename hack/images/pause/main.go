// Command pause is the program of the pod sandbox image that hack/build-images.sh assembles: it
// holds a pod's namespaces open and does nothing until the runtime stops it. Kubernetes' own pause
// is a C program fetched from a registry; this stands in for it on a node that reaches none.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for sig := range signals {
		if sig != syscall.SIGCHLD {
			return
		}
		// In a pod that shares its process namespace this is PID 1, the parent of orphans:
		// reap them, or they stay zombies.
		for {
			pid, err := syscall.Wait4(-1, nil, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
