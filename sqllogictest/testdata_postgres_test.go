package sqllogictest

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kappa-db/kappa/internal/pgtest"
)

// sltDir is the repository's own sqllogictest files, shared by every package.
const sltDir = "../testdata/slt"

// sltFiles lists the *.slt files under testdata/slt, sorted; it skips the
// test when there are none yet.
func sltFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(sltDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(path, ".slt") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Skipf("no .slt files under %s", sltDir)
	}
	return files
}

// subtestName is a file's path under testdata/slt without its extension.
func subtestName(path string) string {
	rel, err := filepath.Rel(sltDir, path)
	if err != nil {
		rel = path
	}
	return strings.TrimSuffix(filepath.ToSlash(rel), ".slt")
}

// reportFile fails t for each failure in res, and for err.
func reportFile(t *testing.T, res Result, err error) {
	t.Helper()
	for _, f := range res.Failures {
		t.Error(f.String())
	}
	if err != nil {
		t.Error(err)
	}
	t.Logf("%d passed, %d failed, %d skipped", res.Passed, res.Failed, res.Skipped)
}

// TestSLTPostgres runs testdata/slt against a real PostgreSQL, which proves
// the expected outputs right. Records of kappa-only syntax opt out with
// "onlyif kappa"; a kappa-only file starts with "skipif kappa" and "halt".
func TestSLTPostgres(t *testing.T) {
	files := sltFiles(t)
	pg := pgtest.Start(t)
	for _, path := range files {
		t.Run(subtestName(path), func(t *testing.T) {
			r := &Runner{Connect: freshDatabase(t, pg), EngineNames: []string{"postgresql"}}
			res, err := r.RunFile(context.Background(), path)
			reportFile(t, res, err)
		})
	}
}
