// Package lint holds the project's lint rules as Go tests, in the manner of
// pebble's internal/lint: which kappa package may import which (DESIGN.md
// §4), and that every package has a doc.go. It has no code of its own.
package lint
