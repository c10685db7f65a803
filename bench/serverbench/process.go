package main

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"github.com/kappa-db/kappa/internal/benchutil"
)

// kappaProcess is `kappa serve` run as a process of its own, on a data
// directory under the benchmark's directory.
type kappaProcess struct {
	*benchutil.Kappa
	dir string
}

// startKappaProcess builds kappa and starts it on a new data directory.
func startKappaProcess(ctx context.Context, e *env) (*kappaProcess, error) {
	dir, err := os.MkdirTemp(e.cfg.dir, "kappa-serverbench-proc-")
	if err != nil {
		return nil, err
	}
	bin, err := benchutil.BuildKappa(ctx, dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	k, err := benchutil.StartKappa(bin, filepath.Join(dir, "data"), time.Minute)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return &kappaProcess{Kappa: k, dir: dir}, nil
}

func (p *kappaProcess) stop() {
	p.Stop()
	os.RemoveAll(p.dir)
}
