package exec

import "fmt"

// Inputs returns the addresses of n's inputs, left before right (none for
// Scan and Values), so that a pass over a plan can walk it, or replace an
// input in place, without a case per node type. A plan node type with
// inputs must be listed here and in ShallowCopy (TestInputsKnowsEveryNode).
func Inputs(n Node) []*Node {
	switch x := n.(type) {
	case *Scan, *Values:
		return nil
	case *Filter:
		return []*Node{&x.Input}
	case *Project:
		return []*Node{&x.Input}
	case *ProjectSet:
		return []*Node{&x.Input}
	case *Aggregate:
		return []*Node{&x.Input}
	case *Sort:
		return []*Node{&x.Input}
	case *Limit:
		return []*Node{&x.Input}
	case *Window:
		return []*Node{&x.Input}
	case *GroupTopN:
		return []*Node{&x.Input}
	case *TimeWindow:
		return []*Node{&x.Input}
	case *SessionWindow:
		return []*Node{&x.Input}
	case *TemporalFilter:
		return []*Node{&x.Input}
	case *Join:
		return []*Node{&x.Left, &x.Right}
	case *Union:
		return []*Node{&x.Left, &x.Right}
	case *SetOp:
		return []*Node{&x.Left, &x.Right}
	}
	panic(fmt.Sprintf("exec.Inputs: unknown plan node %T", n))
}

// ShallowCopy returns a new node equal to n: it shares n's inputs,
// expressions and slices, so a pass that rewrites only inputs copies a node
// with it and then sets the copy's Inputs.
func ShallowCopy(n Node) Node {
	switch x := n.(type) {
	case *Scan:
		c := *x
		return &c
	case *Values:
		c := *x
		return &c
	case *Filter:
		c := *x
		return &c
	case *Project:
		c := *x
		return &c
	case *ProjectSet:
		c := *x
		return &c
	case *Aggregate:
		c := *x
		return &c
	case *Sort:
		c := *x
		return &c
	case *Limit:
		c := *x
		return &c
	case *Window:
		c := *x
		return &c
	case *GroupTopN:
		c := *x
		return &c
	case *TimeWindow:
		c := *x
		return &c
	case *SessionWindow:
		c := *x
		return &c
	case *TemporalFilter:
		c := *x
		return &c
	case *Join:
		c := *x
		return &c
	case *Union:
		c := *x
		return &c
	case *SetOp:
		c := *x
		return &c
	}
	panic(fmt.Sprintf("exec.ShallowCopy: unknown plan node %T", n))
}
