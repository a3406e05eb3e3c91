// Command generics writes a heap profile (MemProfileRate 1) whose stacks go
// through Go generic functions: non-inlined generic functions instantiated with
// several shapes, generic functions and methods inlined into their callers,
// methods on generic types (in package main and in package generics/coll), and
// closures created inside generic functions. The names runtime/pprof writes for
// these frames are the reference spelling of each Go version.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"

	"generics/coll"
)

// Pair is a generic key/value pair.
type Pair[K comparable, V any] struct {
	Key K
	Val V
}

// MyInt has the same shape as int: makePairs[MyInt,string] shares the code of
// makePairs[int,string].
type MyInt int

// Point is a struct type argument; its shape name spells out the struct.
type Point struct{ X, Y int }

// Stringer is an interface type argument.
type Stringer interface{ String() string }

type named string

func (n named) String() string { return string(n) }

var (
	keepPairsIS  []Pair[int, string]
	keepPairsSI  []Pair[string, int]
	keepPairsMI  []Pair[MyInt, string]
	keepPairsPtr []Pair[*Point, []byte]
	keepPairsPt  []Pair[Point, Stringer]
	keepBoxes    []*Box[int]
	keepSBoxes   []*Box[string]
	keepStack    *Stack[float64]
	keepStackS   *Stack[string]
	keepList     *coll.List[int]
	keepListS    *coll.List[string]
	keepIndex    coll.Index[string, *Point]
	keepGrown    coll.List[Point]
	keepMapped   [][]byte
	keepClosures []func() int
	sink         any
)

// makePairs is never inlined: one physical function per shape.
//
//go:noinline
func makePairs[K comparable, V any](keys []K, val func(K) V) []Pair[K, V] {
	out := make([]Pair[K, V], 0, len(keys))
	for _, k := range keys {
		out = append(out, Pair[K, V]{k, val(k)})
	}
	return out
}

// Box is a generic box.
type Box[T any] struct{ v T }

// newBox is small and gets inlined into its (non-generic) callers.
func newBox[T any](v T) *Box[T] { return &Box[T]{v: v} }

// Stack is a generic type with a non-inlined and an inlined method.
type Stack[T any] struct{ items []T }

// Push is not inlined.
//
//go:noinline
func (s *Stack[T]) Push(v T) {
	s.items = append(s.items, v)
}

// Reserve is inlined into its callers and allocates.
func (s *Stack[T]) Reserve(n int) {
	s.items = make([]T, 0, n)
}

// mapAll applies f through a closure that allocates. The closure is passed to
// a non-inlined function, so it is a physical frame (main.mapAll[...].func1).
//
//go:noinline
func mapAll[T, U any](xs []T, f func(T) U, size int) [][]byte {
	var out [][]byte
	add := func(x T) {
		_ = f(x)
		out = append(out, make([]byte, size))
	}
	each(xs, add)
	return out
}

// each is not inlined (and not generic in its own parameters' shapes beyond T).
//
//go:noinline
func each[T any](xs []T, fn func(T)) {
	for _, x := range xs {
		fn(x)
	}
}

// counters returns closures created inside a generic function; calling one
// allocates from the closure body.
//
//go:noinline
func counters[T any](v T, n int) []func() int {
	var fs []func() int
	for i := 0; i < n; i++ {
		i := i
		fs = append(fs, func() int {
			b := make([]T, i+1)
			b[0] = v
			sink = b
			return len(b)
		})
	}
	return fs
}

// wrapTwice is a generic function that is inlined and itself calls an inlined
// generic function: two inlined generic frames over one PC.
func wrapTwice[T any](v T) *Box[*Box[T]] { return newBox(newBox(v)) }

//go:noinline
func useInlined(n int) {
	for i := 0; i < n; i++ {
		keepBoxes = append(keepBoxes, newBox(i))
		keepSBoxes = append(keepSBoxes, newBox("s"+strconv.Itoa(i)))
		sink = wrapTwice(float32(i))
	}
	st := &Stack[string]{}
	st.Reserve(n)
	for i := 0; i < n; i++ {
		st.Push(strconv.Itoa(i))
	}
	keepStackS = st
}

//go:noinline
func run() {
	ints := make([]int, 2000)
	strs := make([]string, 2000)
	mys := make([]MyInt, 2000)
	ptrs := make([]*Point, 500)
	pts := make([]Point, 500)
	for i := range ints {
		ints[i] = i
		strs[i] = "k" + strconv.Itoa(i)
		mys[i] = MyInt(i)
	}
	for i := range ptrs {
		ptrs[i] = &Point{i, -i}
		pts[i] = Point{i, i}
	}
	keepPairsIS = makePairs(ints, strconv.Itoa)
	keepPairsSI = makePairs(strs, func(s string) int { return len(s) })
	keepPairsMI = makePairs(mys, func(m MyInt) string { return "m" + strconv.Itoa(int(m)) })
	keepPairsPtr = makePairs(ptrs, func(p *Point) []byte { return make([]byte, 48) })
	keepPairsPt = makePairs(pts, func(p Point) Stringer { return named(strconv.Itoa(p.X)) })

	useInlined(3000)

	keepStack = &Stack[float64]{}
	for i := 0; i < 5000; i++ {
		keepStack.Push(float64(i))
	}

	keepList = coll.Collect(4000, func(i int) int { return i * 2 })
	keepListS = coll.Collect(1500, func(i int) string { return strconv.Itoa(i) + "-x" })
	for i := 0; i < 3000; i++ {
		keepIndex.Put("p"+strconv.Itoa(i), &Point{i, i})
	}
	keepGrown.Grow(700)
	if keepGrown.Len() != 0 {
		panic("unexpected length")
	}

	keepMapped = append(keepMapped, mapAll(ints[:300], strconv.Itoa, 256)...)
	keepMapped = append(keepMapped, mapAll(strs[:200], func(s string) *Point { return nil }, 1024)...)

	keepClosures = append(keepClosures, counters(int64(7), 40)...)
	keepClosures = append(keepClosures, counters("x", 30)...)
	for _, f := range keepClosures {
		f()
	}
}

func main() {
	out := flag.String("out", "heap.pb.gz", "where to write the gzipped profile.proto heap profile")
	frames := flag.String("frames", "", "also write the runtime.CallersFrames / FuncForPC view of every heap-profile PC here")
	flag.Parse()
	runtime.MemProfileRate = 1

	run()

	runtime.GC()
	runtime.GC()

	f, err := os.Create(*out)
	if err == nil {
		err = pprof.WriteHeapProfile(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err == nil && *frames != "" {
		err = writeFrames(*frames)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "generics:", err)
		os.Exit(1)
	}
}

// writeFrames prints how the runtime's public API names the frames of every
// distinct stack in the runtime's memory profile records: a "stack" line with
// the record's PCs (return addresses, as runtime.Callers gives them, with one
// entry per inlined frame), then one "frame" line per frame that
// runtime.CallersFrames expands the whole stack into: Frame.PC, Frame.Function,
// file:line, and runtime.FuncForPC(Frame.PC).Name(), separated by tabs.
func writeFrames(path string) error {
	var recs []runtime.MemProfileRecord
	n, _ := runtime.MemProfile(nil, true)
	for {
		recs = make([]runtime.MemProfileRecord, n+50)
		var ok bool
		n, ok = runtime.MemProfile(recs, true)
		if ok {
			recs = recs[:n]
			break
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, r := range recs {
		stk := r.Stack()
		key := fmt.Sprint(stk)
		if seen[key] {
			continue
		}
		seen[key] = true
		fmt.Fprint(f, "stack")
		for _, pc := range stk {
			fmt.Fprintf(f, " %#x", pc)
		}
		fmt.Fprintln(f)
		fr := runtime.CallersFrames(stk)
		for {
			frame, more := fr.Next()
			name := "?"
			if fn := runtime.FuncForPC(frame.PC); fn != nil {
				name = fn.Name()
			}
			fmt.Fprintf(f, "frame\t%#x\t%s\t%s:%d\t%s\n", frame.PC, frame.Function, frame.File, frame.Line, name)
			if !more {
				break
			}
		}
	}
	return f.Close()
}
