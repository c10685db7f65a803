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

// LogInfo is one partition of a table's log.
type LogInfo struct {
	Table          string
	Partition      int
	Start, End     uint64 // offsets: the records [Start, End) are kept
	Bytes          int64
	Segments       int
	Retention      time.Duration // 0: none
	RetentionBytes int64         // 0: none
	Compaction     bool
}

func init() {
	addKappaSys(&sysRel{oid: 13103, schema: "kappa_catalog", name: "kappa_logs", kind: 'v',
		cols: cols("table_name name, start_offset int8, end_offset int8, bytes int8, segments int4, " +
			"retention interval, retention_bytes int8, compaction bool, partition int4"),
		rows: func(env *sysEnv) [][]any {
			if env.p == nil || env.p.Logs == nil {
				return nil
			}
			var out [][]any
			for _, l := range env.p.Logs() {
				var ret, retBytes any
				if l.Retention > 0 {
					day := 24 * time.Hour
					ret = types.NewInterval(0, int32(l.Retention/day), (l.Retention % day).Microseconds())
				}
				if l.RetentionBytes > 0 {
					retBytes = l.RetentionBytes
				}
				out = append(out, []any{l.Table, int64(l.Start), int64(l.End), l.Bytes, int32(l.Segments), ret, retBytes, l.Compaction, int32(l.Partition)})
			}
			return out
		}})
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
