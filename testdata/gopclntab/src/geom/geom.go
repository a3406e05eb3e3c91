// Package geom holds small functions that the compiler inlines into package
// main, so that pclntab inline trees contain cross-package entries.
package geom

// Hook is called by the inlined helpers below; it is a variable so that the
// call through it is never inlined and stays visible as a call site.
var Hook func(tag string) int

// Vec is a 2D integer vector.
type Vec struct{ X, Y int }

// Add returns v+w.
func (v Vec) Add(w Vec) Vec { return Vec{v.X + w.X, v.Y + w.Y} }

// Visit reports the vector to Hook.
func Visit(v Vec) int {
	n := v.X + v.Y
	if Hook != nil {
		n += Hook("geom.Visit")
	}
	return n
}

// Sum is a generic function that is inlined into its callers.
func Sum[T int | float64](xs []T) T {
	var s T
	for _, x := range xs {
		s += x
	}
	if Hook != nil {
		s += T(Hook("geom.Sum"))
	}
	return s
}

// Stack is a generic type with an inlinable method.
type Stack[T any] struct{ items []T }

// Push appends x and reports to Hook.
func (s *Stack[T]) Push(x T) int {
	s.items = append(s.items, x)
	if Hook != nil {
		return Hook("geom.Stack.Push") + len(s.items)
	}
	return len(s.items)
}

// Pick is a small generic function that the compiler inlines.
func Pick[T any](x T, tag string) T {
	if Hook != nil {
		Hook(tag)
	}
	return x
}

// Len is a small method of a generic type that the compiler inlines.
func (s *Stack[T]) Len() int {
	if Hook != nil {
		Hook("geom.Stack.Len")
	}
	return len(s.items)
}
