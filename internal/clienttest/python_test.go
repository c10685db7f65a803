package clienttest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// python is Debian's interpreter, which python3-psycopg2 and
// python3-sqlalchemy install into (another python3 on PATH may lack them).
const python = "/usr/bin/python3"

// pythonReport returns the report that runs testdata/file with args,
// checking first that the interpreter has the modules.
func pythonReport(t *testing.T, file string, modules string, args ...string) report {
	if _, err := os.Stat(python); err != nil {
		missing(t, "%s", python)
	}
	if out, err := exec.Command(python, "-c", "import "+modules).CombinedOutput(); err != nil {
		missing(t, "python modules %s (apt-get install python3-psycopg2 python3-sqlalchemy): %s", modules, out)
	}
	src, _ := filepath.Abs(filepath.Join("testdata", file))
	return func(t *testing.T, tg target) string {
		return runProgram(t, tg, exec.Command(python, append([]string{src}, args...)...))
	}
}
