// Command heapdemo is a small, deterministic-ish Go program whose only job is
// to produce heap profiles with a known shape for pprofsym's test suite.
//
// Allocation sites (all in package main):
//   - buildIndex:   map[string]*Record with many entries, retained in a global.
//   - growSlice:    a slice grown by append, final slice retained in a global.
//   - churn:        many buffers allocated and dropped (alloc >> inuse).
//   - makeBuf / newRecord: tiny helpers the compiler inlines; they allocate,
//     so their stacks carry an inline frame.
//   - indirectBuffers: calls makeBuf through a func variable, so makeBuf is
//     also reached out of line (mixed inline / non-inline callers).
//   - deepA/deepB/deepLeaf: mutual recursion giving a stack deeper than 30 frames.
//   - recurse:      a recursive function that allocates at several depths.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
)

// Record is the value type stored in the index map.
type Record struct {
	ID    int
	Name  string
	Score [12]int64
}

// Globals keep some allocations alive so that inuse differs from alloc.
var (
	keepIndex   map[string]*Record
	keepSlice   []int64
	keepBufs    [][]byte
	keepRecords []*Record
	keepDeep    [][]byte
	keepRec     [][]byte
	sink        []byte
)

// makeBuf is small enough to be inlined into its callers.
func makeBuf(n int) []byte {
	return make([]byte, n)
}

// newRecord is small enough to be inlined into its callers.
func newRecord(id int) *Record {
	return &Record{ID: id}
}

//go:noinline
func buildIndex(n int) map[string]*Record {
	m := make(map[string]*Record)
	for i := 0; i < n; i++ {
		key := "rec-" + strconv.Itoa(i)
		m[key] = &Record{ID: i, Name: key}
	}
	return m
}

//go:noinline
func growSlice(n int) []int64 {
	var s []int64
	for i := 0; i < n; i++ {
		s = append(s, int64(i))
	}
	return s
}

//go:noinline
func churn(rounds, size int) {
	for i := 0; i < rounds; i++ {
		b := make([]byte, size)
		b[i%size] = byte(i)
		sink = b
	}
	sink = nil
}

//go:noinline
func keepBuffers(count, size int) {
	for i := 0; i < count; i++ {
		keepBufs = append(keepBufs, makeBuf(size))
	}
	// Same inlined helper, but these buffers are dropped.
	for i := 0; i < count*4; i++ {
		sink = makeBuf(size)
	}
	sink = nil
}

// makeBufFn is a package-level func variable: calls through it cannot be
// inlined, so makeBuf also has an out-of-line copy that shows up in the
// profile next to its inlined uses (pprof prints it as "(partial-inline)").
var makeBufFn = makeBuf

//go:noinline
func indirectBuffers(count, size int) {
	for i := 0; i < count; i++ {
		b := makeBufFn(size)
		if i%2 == 0 {
			keepBufs = append(keepBufs, b)
		}
	}
}

//go:noinline
func makeRecords(count int) {
	for i := 0; i < count; i++ {
		r := newRecord(i)
		if i%4 == 0 {
			keepRecords = append(keepRecords, r)
		}
	}
}

//go:noinline
func deepA(n, size int) {
	if n == 0 {
		deepLeaf(size)
		return
	}
	deepB(n, size)
}

//go:noinline
func deepB(n, size int) {
	deepA(n-1, size)
}

//go:noinline
func deepLeaf(size int) {
	keepDeep = append(keepDeep, make([]byte, size))
}

//go:noinline
func recurse(depth, size int) {
	if depth == 0 {
		return
	}
	b := make([]byte, size)
	if depth%3 == 0 {
		keepRec = append(keepRec, b)
	} else {
		sink = b
	}
	recurse(depth-1, size)
}

func run() {
	keepIndex = buildIndex(60000)
	keepSlice = growSlice(2000000)
	churn(2500, 96<<10)
	keepBuffers(500, 8<<10)
	indirectBuffers(600, 4<<10)
	makeRecords(40000)
	for i := 0; i < 12; i++ {
		deepA(20, 512<<10)
	}
	for i := 0; i < 8; i++ {
		recurse(6, 192<<10)
	}
}

func main() {
	rate := flag.Int("rate", 0, "runtime.MemProfileRate (0 = leave the runtime default)")
	out := flag.String("out", "heap.pb.gz", "where to write the gzipped profile.proto heap profile")
	text := flag.String("text", "", "where to write the legacy text heap profile (debug=1); empty = skip")
	flag.Parse()
	if *rate > 0 {
		runtime.MemProfileRate = *rate
	}

	run()

	runtime.GC()
	runtime.GC()

	if err := writeProfiles(*out, *text); err != nil {
		fmt.Fprintln(os.Stderr, "heapdemo:", err)
		os.Exit(1)
	}
	runtime.KeepAlive(keepIndex)
}

func writeProfiles(out, text string) error {
	f, err := os.Create(out)
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
	if text == "" {
		return nil
	}
	t, err := os.Create(text)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("heap").WriteTo(t, 1); err != nil {
		t.Close()
		return err
	}
	return t.Close()
}
