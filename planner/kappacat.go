package planner

import (
	"time"

	"github.com/kappa-db/kappa/types"
)

// kappa_catalog holds kappa's own system relations, beside PostgreSQL's
// pg_catalog: what a streaming database has to say about its dataflows.
// Name them qualified (kappa_catalog.kappa_backfill_progress). They are not
// listed in pg_namespace, pg_class or information_schema, so that what
// clients see of the catalog (psql's \dn, say) stays PostgreSQL's.

// BackfillInfo is a materialized view being backfilled from its inputs'
// logs (by CREATE or CREATE OR REPLACE MATERIALIZED VIEW).
type BackfillInfo struct {
	View    string
	Done    uint64 // records consumed so far
	Total   uint64 // records the inputs held when the backfill began
	Started time.Time
	// ETA is the estimated time left; HasETA is false until there is a rate.
	ETA    time.Duration
	HasETA bool
}

// WatermarkInfo is one watermarked input of one dataflow (a table's own,
// or a materialized view's), as of the last committed epoch.
type WatermarkInfo struct {
	Relation, Input string
	// Watermark is µs since 2000-01-01; Has is false until a row was read.
	Watermark int64
	Has       bool
	Late      int64
}

func init() {
	addKappaSys(&sysRel{oid: 13102, schema: "kappa_catalog", name: "kappa_late_rows", kind: 'v',
		cols: cols("relation_name name, input_name name, watermark timestamp, late_rows int8"),
		rows: func(env *sysEnv) [][]any {
			if env.p == nil || env.p.Watermarks == nil {
				return nil
			}
			var out [][]any
			for _, w := range env.p.Watermarks() {
				var wm any
				if w.Has {
					wm = types.NewTimestamp(w.Watermark)
				}
				out = append(out, []any{w.Relation, w.Input, wm, w.Late})
			}
			return out
		}})
	addKappaSys(&sysRel{oid: 13101, schema: "kappa_catalog", name: "kappa_backfill_progress", kind: 'v',
		cols: cols("view_name name, records_done int8, records_total int8, percent_done float8, " +
			"started timestamptz, elapsed interval, eta interval"),
		rows: func(env *sysEnv) [][]any {
			if env.p == nil || env.p.Backfills == nil {
				return nil
			}
			var out [][]any
			for _, b := range env.p.Backfills() {
				pct := 100.0
				if b.Total > 0 {
					pct = 100 * float64(b.Done) / float64(b.Total)
				}
				var eta any
				if b.HasETA {
					eta = interval(b.ETA)
				}
				out = append(out, []any{b.View, int64(b.Done), int64(b.Total), pct, b.Started, interval(time.Since(b.Started)), eta})
			}
			return out
		}})
}

// interval is d as an SQL interval (microseconds).
func interval(d time.Duration) types.Value { return types.NewInterval(0, 0, d.Microseconds()) }

// addKappaSys makes r resolvable by its qualified name only.
func addKappaSys(r *sysRel) { sysByName[r.schema+"."+r.name] = r }
