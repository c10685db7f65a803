package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"

	"github.com/kappa-db/kappa/catalog"
	"github.com/kappa-db/kappa/exec"
	"github.com/kappa-db/kappa/planner"
	"github.com/kappa-db/kappa/storage"
)

// planFingerprint identifies the layout of a materialized view's stored
// state: its plan as EXPLAIN prints it (every operator, in the order that
// numbers their state, with the choices that shape it) and the state
// encodings' version. Names in it come from the view's own definition, so
// the same binary plans the same fingerprint at every start.
func planFingerprint(plan exec.Node) string {
	h := sha256.New()
	h.Write([]byte("state " + strconv.Itoa(exec.StateVersion) + "\n"))
	for _, l := range planner.Explain(plan) {
		h.Write([]byte(l))
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// refreshPlan makes a materialized view's stored state fit plan, its plan
// at this start. When another kappa version planned the view differently
// (or did not record a fingerprint), the old state would be read in the
// wrong layout: the view's rows, state and offsets are deleted, with the
// new fingerprint, in one catalog commit, so that its dataflow recomputes
// it from its sources like a new view. Readers wait for that as for any
// recovery (Session.waitForReads).
func (e *Engine) refreshPlan(o *catalog.Object, plan exec.Node) (*catalog.Object, error) {
	fp := planFingerprint(plan)
	if o.PlanHash == fp {
		return o, nil
	}
	e.cfg.Logger.Warn("materialized view planned differently than when its state was written: recomputing it from its sources",
		"name", o.Name, "stored", o.PlanHash, "now", fp)
	n := *o
	n.PlanHash = fp
	if err := e.cat.Replace(o, &n, func(b *storage.Batch) error { return exec.DeleteRelationData(b, o.ID) }); err != nil {
		return nil, err
	}
	e.mu.Lock()
	e.mu.replanned++
	e.mu.Unlock()
	return &n, nil
}

// Replanned counts the materialized views this engine recomputed at start
// because their plan had changed (for tests and tools).
func (e *Engine) Replanned() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.mu.replanned
}
