// Command inlfix is a fixture program for pclntab decoding: it has several
// levels of inlining (within main, from package geom, and generic code) and
// prints the runtime's own view (runtime.CallersFrames) of some stacks.
package main

import (
	"os"
	"runtime"
	"strconv"
	"unsafe"

	"example.com/inlfix/geom"
)

var out []byte

// record prints the stack of its caller as runtime.Callers and
// runtime.CallersFrames report it.
//
//go:noinline
func record(tag string) int {
	pcs := make([]uintptr, 64)
	n := runtime.Callers(2, pcs)
	pcs = pcs[:n]
	out = append(out, "site "+tag+"\n"...)
	for _, pc := range pcs {
		out = append(out, "pc 0x"+strconv.FormatUint(uint64(pc), 16)+"\n"...)
	}
	frames := runtime.CallersFrames(pcs)
	for {
		f, more := frames.Next()
		out = append(out, "frame "+f.Function+"\t"+f.File+"\t"+strconv.Itoa(f.Line)+
			"\t0x"+strconv.FormatUint(uint64(f.PC), 16)+"\t0x"+strconv.FormatUint(uint64(f.Entry), 16)+"\n"...)
		if !more {
			break
		}
	}
	return n
}

func level3(v geom.Vec) int {
	w := v.Add(geom.Vec{X: 1, Y: 2})
	return geom.Visit(w) * 2
}

func level2(v geom.Vec) int {
	return level3(v) + 1
}

func level1(x int) int {
	return level2(geom.Vec{X: x, Y: x}) + 3
}

func sumInts(n int) int {
	xs := make([]int, n)
	for i := range xs {
		xs[i] = i * i
	}
	return geom.Sum(xs)
}

func pushAll(n int) int {
	var s geom.Stack[string]
	t := 0
	for i := 0; i < n; i++ {
		t += s.Push(strconv.Itoa(i))
	}
	return t + s.Len() + len(geom.Pick("x", "geom.Pick.string"))
}

func picky(x float64) int {
	return int(geom.Pick(x, "geom.Pick.float64")) + geom.Pick(2, "geom.Pick.int")
}

//go:noinline
func notInlined(x int) int {
	if x > 100 {
		return level1(x - 1)
	}
	return level1(x) + sumInts(x%7+1)
}

type adder struct{ base int }

func (a *adder) add(x int) int { return a.base + x }

//go:noinline
func (a *adder) run(n int) int {
	t := 0
	for i := 0; i < n; i++ {
		t = a.add(t) + level1(i)
	}
	return t
}

func funcEntry(f func()) uintptr {
	return **(**uintptr)(unsafe.Pointer(&f))
}

func main() {
	quiet := len(os.Args) > 1
	calls := 0
	geom.Hook = func(tag string) int {
		calls++
		if calls <= 4 || tag != "geom.Visit" {
			if !quiet && calls < 40 {
				return record(tag)
			}
		}
		return 1
	}
	t := level1(3)
	t += notInlined(5)
	t += sumInts(4)
	t += pushAll(2)
	t += picky(1.5)
	a := &adder{base: 7}
	t += a.run(2)
	out = append(out, "main.main entry 0x"+strconv.FormatUint(uint64(funcEntry(main)), 16)+"\n"...)
	out = append(out, "result "+strconv.Itoa(t)+"\n"...)
	os.Stdout.Write(out)
}
