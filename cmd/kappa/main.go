// Command kappa is the kappa streaming database server.
package main

import (
	"context"
	"os"
)

func main() {
	os.Exit((&Main{Stdout: os.Stdout, Stderr: os.Stderr}).Run(context.Background(), os.Args[1:]))
}
