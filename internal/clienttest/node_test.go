package clienttest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// nodePackages are what node_check.js requires; the test npm-installs them
// into nodeDir when they are missing there.
var nodePackages = []string{"pg@8", "pg-copy-streams@6"}

// nodeDir holds the npm-installed packages: $KAPPA_NODE_DIR, or
// $HOME/.cache/kappa-clienttest/node.
func nodeDir(t *testing.T) string {
	if d := os.Getenv("KAPPA_NODE_DIR"); d != "" {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil {
		missing(t, "a home directory for the npm cache: %v", err)
	}
	return filepath.Join(home, ".cache", "kappa-clienttest", "node")
}

// nodeReport installs node-postgres and pg-copy-streams if needed and
// returns the report that runs testdata/node_check.js.
func nodeReport(t *testing.T) report {
	node, err := exec.LookPath("node")
	if err != nil {
		missing(t, "node (apt-get install nodejs npm)")
	}
	dir := nodeDir(t)
	modules := filepath.Join(dir, "node_modules")
	installed := func() bool {
		for _, p := range []string{"pg", "pg-copy-streams"} {
			if _, err := os.Stat(filepath.Join(modules, p, "package.json")); err != nil {
				return false
			}
		}
		return true
	}
	if !installed() {
		npm, err := exec.LookPath("npm")
		if err != nil {
			missing(t, "npm (apt-get install npm)")
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		args := append([]string{"install", "--prefix", dir, "--no-audit", "--no-fund", "--no-save"}, nodePackages...)
		if out, err := exec.Command(npm, args...).CombinedOutput(); err != nil || !installed() {
			missing(t, "npm install %v into %s failed (no network?): %v\n%s", nodePackages, dir, err, out)
		}
	}
	src, _ := filepath.Abs(filepath.Join("testdata", "node_check.js"))
	return func(t *testing.T, tg target) string {
		cmd := exec.Command(node, src)
		out := runProgram(t, tg, withEnv(cmd, "NODE_PATH="+modules))
		return out
	}
}

// withEnv makes runProgram add env to the command's environment.
func withEnv(cmd *exec.Cmd, env ...string) *exec.Cmd {
	cmd.Env = append(cmd.Env, env...)
	return cmd
}
