// Command cgodemo writes a Go heap profile (MemProfileRate 1) whose stacks
// pass through C frames: Go calls the recursive C function c_recurse, which
// calls back into the exported Go function goAlloc, which allocates. The C
// frames come from runtime.SetCgoTraceback hooks in traceback.c (no
// symbolizer), so the runtime writes them as unsymbolized addresses.
package main

/*
#include "crec.h"
*/
import "C"

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"unsafe"
)

var keep [][]byte

// goAlloc is called from C (c_recurse and its inlined helper c_leaf).
//
//export goAlloc
func goAlloc(depth, size C.int) {
	keep = append(keep, make([]byte, int(size)))
}

//go:noinline
func callC(depth, size int) int {
	return int(C.c_recurse(C.int(depth), C.int(size)))
}

func main() {
	out := flag.String("out", "heap.pb.gz", "where to write the gzipped profile.proto heap profile")
	flag.Parse()
	runtime.MemProfileRate = 1
	runtime.SetCgoTraceback(0, unsafe.Pointer(C.cgodemo_traceback), unsafe.Pointer(C.cgodemo_context), nil)

	for i := 0; i < 40; i++ {
		callC(5, 4096)
	}

	runtime.GC()
	runtime.GC()
	f, err := os.Create(*out)
	if err == nil {
		err = pprof.WriteHeapProfile(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "cgodemo:", err)
		os.Exit(1)
	}
}
