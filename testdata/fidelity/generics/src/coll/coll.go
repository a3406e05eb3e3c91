// Package coll holds generic containers used by package main, so that the
// profile has generic names with a package path other than "main".
package coll

// List is a generic slice wrapper.
type List[T any] struct{ items []T }

// Push appends v. It is not inlined, so it is a physical frame of its own,
// once per shape it is instantiated with.
//
//go:noinline
func (l *List[T]) Push(v T) {
	l.items = append(l.items, v)
}

// Len is tiny and gets inlined into its callers.
func (l *List[T]) Len() int { return len(l.items) }

// Grow is small enough to be inlined into its callers (cross-package inlining
// of a generic method); it allocates.
func (l *List[T]) Grow(n int) {
	l.items = make([]T, len(l.items), len(l.items)+n)
}

// Index maps keys to values.
type Index[K comparable, V any] struct{ m map[K]V }

// Put stores v under k (not inlined: the map insert allocates).
//
//go:noinline
func (ix *Index[K, V]) Put(k K, v V) {
	if ix.m == nil {
		ix.m = make(map[K]V)
	}
	ix.m[k] = v
}

// Collect builds a list by calling gen n times (not inlined). gen is a
// closure created in the caller; it allocates.
//
//go:noinline
func Collect[T any](n int, gen func(int) T) *List[T] {
	l := &List[T]{}
	for i := 0; i < n; i++ {
		l.Push(gen(i))
	}
	return l
}
