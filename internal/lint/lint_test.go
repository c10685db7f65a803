package lint

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/kappa-db/kappa"

// allowed lists, for each package, the kappa packages it may import. The
// layering is DESIGN.md §4: cmd → server → engine → planner → catalog, sql;
// planner → exec's plan description; exec → storage, log; storage and log
// import nothing of kappa's but shared value types.
var allowed = map[string][]string{
	"pgerr":   {},
	"vfs":     {},
	"types":   {"pgerr"},
	"sql":     {"pgerr"},
	"pgwire":  {"pgerr"},
	"log":     {"pgerr", "vfs"},
	"storage": {"pgerr", "types"},
	"expr":    {"pgerr", "types"},
	"catalog": {"pgerr", "types", "storage"},
	"exec":    {"pgerr", "types", "expr", "storage", "log"},
	"planner": {"pgerr", "types", "expr", "sql", "catalog", "exec"},
	"engine":  {"pgerr", "types", "expr", "sql", "catalog", "exec", "planner", "storage", "log", "vfs", "pgwire", "connector/nexmark"},
	"server":  {"engine", "pgwire", "log"},
	// Connectors produce rows; the engine adapts them to the runtime.
	"connector/nexmark": {"pgerr", "types"},
	// Test harnesses talk to servers over the wire only.
	"sqllogictest":    {},
	"internal/pgtest": {},
	// Client tests start a kappa server and a PostgreSQL and drive real
	// clients against both.
	"internal/clienttest": {"server", "internal/pgtest"},
	"internal/oracle":     {},
	"internal/lint":       {},
	"internal/benchutil":  {},
	"bench/logbench":      {"log", "vfs"},
	"cmd/kappa":           {"server", "log"},
	"cmd/kappa-slt":       {"sqllogictest", "internal/pgtest"},
}

type pkg struct {
	ImportPath string
	Dir        string
	Imports    []string
	GoFiles    []string
}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", module+"/...")
	cmd.Dir = "../.."
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(out)
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	return pkgs
}

func TestImportDirection(t *testing.T) {
	for _, p := range listPackages(t) {
		name := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		ok, known := allowed[name]
		if !known {
			if strings.HasPrefix(name, "cmd/") || strings.HasPrefix(name, "bench/") {
				continue // commands and benchmarks sit above everything
			}
			t.Errorf("package %s has no import rule in internal/lint: add one that follows DESIGN.md §4", name)
			continue
		}
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, module+"/") {
				continue
			}
			dep := strings.TrimPrefix(imp, module+"/")
			if !contains(ok, dep) {
				t.Errorf("%s imports %s, which DESIGN.md §4 does not allow", name, dep)
			}
		}
	}
}

func TestEveryPackageHasDocGo(t *testing.T) {
	for _, p := range listPackages(t) {
		name := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		if name == "" || strings.HasPrefix(name, "cmd/") || len(p.GoFiles) == 0 {
			continue
		}
		if _, err := os.Stat(filepath.Join(p.Dir, "doc.go")); err != nil {
			t.Errorf("package %s has no doc.go (STYLE.md house rule 1)", name)
		}
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}
