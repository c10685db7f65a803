package clienttest

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
)

const pgjdbcJar = "/usr/share/java/postgresql.jar"

// jdbcReport compiles testdata/JdbcCheck.java once and returns the report
// that runs it.
func jdbcReport(t *testing.T) report {
	javac, err := exec.LookPath("javac")
	if err != nil {
		missing(t, "javac (apt-get install default-jdk-headless)")
	}
	if _, err := os.Stat(pgjdbcJar); err != nil {
		missing(t, "pgjdbc (apt-get install libpostgresql-jdbc-java)")
	}
	dir := t.TempDir()
	src, _ := filepath.Abs(filepath.Join("testdata", "JdbcCheck.java"))
	if out, err := exec.Command(javac, "-cp", pgjdbcJar, "-d", dir, src).CombinedOutput(); err != nil {
		t.Fatalf("javac: %v\n%s", err, out)
	}
	return func(t *testing.T, tg target) string {
		url := "jdbc:postgresql://" + tg.host + ":" + tg.port + "/" + tg.db + "?user=" + tg.user + "&sslmode=disable"
		return runProgram(t, tg, exec.Command("java", "-Duser.timezone=UTC", "-cp", pgjdbcJar+":"+dir, "JdbcCheck", url))
	}
}

// jdbcDiffers are pgjdbc's legitimate differences.
var jdbcDiffers = []difference{
	{
		// getIndexInfo's CARDINALITY and PAGES are the index's
		// pg_class.reltuples and relpages: planner statistics. PostgreSQL's
		// index build counted the (then empty) table: 0 tuples, 1 page (the
		// metapage). kappa keeps no statistics and says so the way
		// PostgreSQL does for a relation never analyzed: -1 and 0.
		why:   "index statistics",
		pg:    regexp.MustCompile(`^(getIndexInfo .*) CARDINALITY=0 PAGES=1 (.*)$`),
		kappa: "$1 CARDINALITY=-1 PAGES=0 $2",
	},
}
