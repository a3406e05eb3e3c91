// godemo writes the Go legacy debug=1 text profiles that google/pprof's legacy
// parsers read (goroutine, threadcreate, block, mutex), each next to the
// profile.proto of the same profile written right after it. (Heap debug=1
// texts with their protos are in testdata/go.)
//
// Contention is produced first and finishes before anything is written. Block
// recording is then switched off, so the block profile cannot change between
// the two writes. The mutex profile keeps its sampling fraction (2, so the
// text says "sampling period=2"); the regeneration script checks that both
// writes agree. The
// goroutine profile has goroutines parked at fixed places (channel receive,
// select, sync.Mutex, sync.WaitGroup, time.Sleep); only the writing goroutine
// itself differs between the two writes.
//
// Usage: godemo -out DIR
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sync"
	"time"
)

var (
	mu    sync.Mutex
	total int
)

// holdLock takes the shared mutex and keeps it for a while, so that other
// goroutines wait on it (mutex and block profile events).
//
//go:noinline
func holdLock(d time.Duration) {
	mu.Lock()
	time.Sleep(d)
	total++
	mu.Unlock()
}

//go:noinline
func contendMutex(workers int) {
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 5; j++ {
				holdLock(2 * time.Millisecond)
			}
		}()
	}
	wg.Wait()
}

// sendLater wakes up a receiver that is blocked on a channel (block profile).
//
//go:noinline
func chanHandoff(rounds int) {
	ch := make(chan int)
	done := make(chan struct{})
	go func() {
		for v := range ch {
			total += v
		}
		close(done)
	}()
	for i := 0; i < rounds; i++ {
		time.Sleep(time.Millisecond)
		ch <- i
	}
	close(ch)
	<-done
}

// Parked goroutines for the goroutine profile.

//go:noinline
func parkOnChan(ch chan int) { <-ch }

//go:noinline
func parkInSelect(a, b chan int) {
	select {
	case <-a:
	case <-b:
	}
}

//go:noinline
func parkOnMutex(m *sync.Mutex) {
	m.Lock()
	m.Unlock()
}

//go:noinline
func parkOnWaitGroup(wg *sync.WaitGroup) { wg.Wait() }

//go:noinline
func parkSleeping() { time.Sleep(time.Hour) }

// startThreads makes the runtime create OS threads from a known place:
// goroutines that lock their OS thread and block in a system call.
//
//go:noinline
func startThreads(n int, release chan struct{}, ready *sync.WaitGroup) {
	for i := 0; i < n; i++ {
		go func() {
			runtime.LockOSThread()
			ready.Done()
			<-release
		}()
	}
}

func write(dir, name string, debug int) error {
	ext := ".pb.gz"
	if debug > 0 {
		ext = fmt.Sprintf(".debug%d.txt", debug)
	}
	f, err := os.Create(filepath.Join(dir, name+ext))
	if err != nil {
		return err
	}
	if err := pprof.Lookup(name).WriteTo(f, debug); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func main() {
	out := flag.String("out", ".", "output directory")
	flag.Parse()

	runtime.SetBlockProfileRate(1)
	runtime.SetMutexProfileFraction(2)

	contendMutex(4)
	chanHandoff(20)

	// Parked goroutines.
	ch := make(chan int)
	a, b := make(chan int), make(chan int)
	var held sync.Mutex
	held.Lock()
	var never sync.WaitGroup
	never.Add(1)
	for i := 0; i < 3; i++ {
		go parkOnChan(ch)
	}
	go parkInSelect(a, b)
	go parkInSelect(a, b)
	go parkOnMutex(&held)
	go parkOnWaitGroup(&never)
	go parkSleeping()
	release := make(chan struct{})
	var ready sync.WaitGroup
	ready.Add(2)
	startThreads(2, release, &ready)
	ready.Wait()
	time.Sleep(50 * time.Millisecond) // let every goroutine reach its parking place

	// Stop recording new block events: the profile written below must stay
	// identical between the text and the proto write.
	runtime.SetBlockProfileRate(0)

	for _, name := range []string{"goroutine", "threadcreate", "block", "mutex"} {
		for _, debug := range []int{1, 0} {
			if err := write(*out, name, debug); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
		}
	}
	close(release)
}
