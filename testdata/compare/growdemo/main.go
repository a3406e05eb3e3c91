// Command growdemo writes a series of heap profiles from ONE process, so that
// pprofsym's compare features (base/diff_base, merge, growth by site, traces,
// label filters) can be checked against `go tool pprof` on real snapshots.
//
// The program runs three stages and writes a heap snapshot after each one
// (t0, t1, t2), always after runtime.GC() so the profile is current:
//
//   - cache:   map[string]*entry plus an index slice, filled by fillCache.
//     20 000 entries at t0, 60 000 at t1, 120 000 at t2 (it grows).
//     newEntry is a tiny helper the compiler inlines into fillCache.
//   - pool:    a set of buffers filled by fillPool through the inlined grabBuf:
//     32 x 64 KiB and 4 x 1.5 MiB at t0, released (dropped) before t1,
//     8 x 64 KiB refilled before t2.
//   - tables:  loadTables, run once before t0 and kept: one 1 MiB and one
//     3 MiB table and 200 small strings (steady in all snapshots).
//   - journal: appendJournal adds 1 MiB chunks: 1 at t0, 3 at t1, 6 at t2.
//   - rings:   generic newRing[T] (not inlined) with the inlined generic
//     makeSlab[T]: none at t0; Ring[int64](4096), Ring[*entry](100000),
//     Ring[string](2000) at t1; Ring[int64](200000) (1.5 MiB) added at t2.
//   - scratch: temporary 4 KiB buffers, dropped at once (alloc only).
//
// The objects range from 16 bytes to 3 MiB, so the `bytes` numeric label of
// the heap samples separates them (tagfocus bytes=1mb: and so on).
//
// Flags: -rate N sets runtime.MemProfileRate first thing in main (0 = leave
// it: the runtime default, or whatever GODEBUG=memprofilerate=N said).
// -prefix P writes P.t0.pb.gz, P.t1.pb.gz, P.t2.pb.gz (pprof.WriteHeapProfile);
// with -text also P.tN.debug1.txt (pprof.Lookup("heap").WriteTo(w, 1)) of
// the same moment. -cpu FILE records a CPU profile of the whole run,
// -goroutine FILE writes the goroutine profile (debug=0) at the end.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
)

type entry struct {
	key     string
	hits    int64
	payload [80]byte
}

// Ring is a generic fixed-size ring buffer.
type Ring[T any] struct {
	items []T
	next  int
}

var (
	cache   = map[string]*entry{}
	index   []*entry
	pool    [][]byte
	tables  [][]byte
	journal [][]byte
	rings   []any
	sink    []byte
)

// newEntry is small enough to be inlined into fillCache.
func newEntry(k string, i int) *entry {
	return &entry{key: k, hits: int64(i)}
}

//go:noinline
func fillCache(from, to int) {
	for i := from; i < to; i++ {
		k := "user:" + strconv.Itoa(i)
		e := newEntry(k, i)
		cache[k] = e
		index = append(index, e)
	}
}

// grabBuf is small enough to be inlined into fillPool.
func grabBuf(n int) []byte {
	return make([]byte, n)
}

//go:noinline
func fillPool(n, size int) {
	for i := 0; i < n; i++ {
		pool = append(pool, grabBuf(size))
	}
}

//go:noinline
func releasePool() {
	pool = nil
}

//go:noinline
func loadTables() {
	tables = append(tables, make([]byte, 1<<20)) // exactly 1 MiB
	tables = append(tables, make([]byte, 3<<20))
	for i := 0; i < 200; i++ {
		tables = append(tables, []byte(fmt.Sprintf("setting-%03d=on", i)))
	}
}

//go:noinline
func appendJournal(n int) {
	for i := 0; i < n; i++ {
		journal = append(journal, make([]byte, 1<<20))
	}
}

// makeSlab is a generic helper small enough to be inlined into newRing.
func makeSlab[T any](n int) []T {
	return make([]T, n)
}

//go:noinline
func newRing[T any](n int) *Ring[T] {
	return &Ring[T]{items: makeSlab[T](n)}
}

//go:noinline
func scratch(n, size int) {
	for i := 0; i < n; i++ {
		b := make([]byte, size)
		b[i%size] = byte(i)
		sink = b
	}
	sink = nil
}

func stage0() {
	loadTables()
	fillCache(0, 20000)
	fillPool(32, 64<<10)
	fillPool(4, 1536<<10)
	appendJournal(1)
	scratch(500, 4<<10)
}

func stage1() {
	fillCache(20000, 60000)
	releasePool()
	rings = append(rings, newRing[int64](4096), newRing[*entry](100000), newRing[string](2000))
	appendJournal(2)
	scratch(1000, 4<<10)
}

func stage2() {
	fillCache(60000, 120000)
	fillPool(8, 64<<10)
	rings = append(rings, newRing[int64](200000))
	appendJournal(3)
	scratch(1500, 4<<10)
}

func snapshot(prefix, name string, text bool) error {
	runtime.GC()
	runtime.GC()
	f, err := os.Create(prefix + "." + name + ".pb.gz")
	if err != nil {
		return err
	}
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if !text {
		return nil
	}
	// Same moment: no GC in between, so the text shows the same published cycle.
	t, err := os.Create(prefix + "." + name + ".debug1.txt")
	if err != nil {
		return err
	}
	if err := pprof.Lookup("heap").WriteTo(t, 1); err != nil {
		t.Close()
		return err
	}
	return t.Close()
}

func main() {
	rate := flag.Int("rate", 0, "runtime.MemProfileRate (0 = leave it as the runtime/GODEBUG set it)")
	prefix := flag.String("prefix", "heap", "write PREFIX.t0.pb.gz, PREFIX.t1.pb.gz, PREFIX.t2.pb.gz")
	text := flag.Bool("text", false, "also write PREFIX.tN.debug1.txt (legacy text, debug=1)")
	cpu := flag.String("cpu", "", "write a CPU profile of the whole run here")
	goroutine := flag.String("goroutine", "", "write the goroutine profile (debug=0) here at the end")
	flag.Parse()
	if *rate > 0 {
		runtime.MemProfileRate = *rate
	}
	if err := run(*prefix, *text, *cpu, *goroutine); err != nil {
		fmt.Fprintln(os.Stderr, "growdemo:", err)
		os.Exit(1)
	}
}

func run(prefix string, text bool, cpu, goroutine string) error {
	if cpu != "" {
		f, err := os.Create(cpu)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	stages := []func(){stage0, stage1, stage2}
	for i, stage := range stages {
		stage()
		if err := snapshot(prefix, "t"+strconv.Itoa(i), text); err != nil {
			return err
		}
	}
	runtime.KeepAlive(cache)
	if goroutine != "" {
		f, err := os.Create(goroutine)
		if err != nil {
			return err
		}
		if err := pprof.Lookup("goroutine").WriteTo(f, 0); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	return nil
}
