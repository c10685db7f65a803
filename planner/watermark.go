package planner

import (
	"strconv"
	"strings"
	"time"

	"github.com/kappa-db/kappa/catalog"
	"github.com/kappa-db/kappa/exec"
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/sql"
	"github.com/kappa-db/kappa/types"
)

// BindWatermark checks `WATERMARK FOR col AS col - INTERVAL '…'` (or `AS
// col`) against the columns of a new source or table: col is a timestamp
// or timestamptz column and the delay a constant, non-negative interval
// without months.
func (p *Planner) BindWatermark(src string, wm *sql.Watermark, cols []catalog.Column) (*catalog.Watermark, error) {
	b := p.newBinder(src, nil)
	col := -1
	for i, c := range cols {
		if c.Name == wm.Column {
			col = i
		}
	}
	if col < 0 {
		return nil, b.errAt(wm.Pos, pgerr.UndefinedColumn, "column %q named in WATERMARK FOR does not exist", wm.Column)
	}
	if k := cols[col].Type.Kind; k != types.KindTimestamp && k != types.KindTimestampTZ {
		return nil, b.errAt(wm.Pos, pgerr.DatatypeMismatch, "the WATERMARK column %q must be a timestamp or timestamptz, not %s", wm.Column, cols[col].Type)
	}
	isCol := func(e sql.Expr) bool {
		r, ok := e.(*sql.ColumnRef)
		return ok && !r.Star && len(r.Names) == 1 && r.Names[0] == wm.Column
	}
	out := &catalog.Watermark{Column: col}
	switch x := wm.Expr.(type) {
	case *sql.ColumnRef:
		if !isCol(x) {
			return nil, b.errAt(x.Pos, pgerr.FeatureNotSupported, "a watermark must be %s - INTERVAL '...'", wm.Column)
		}
	case *sql.Binary:
		if x.Op != "-" || !isCol(x.Left) {
			return nil, b.errAt(x.Pos, pgerr.FeatureNotSupported, "a watermark must be %s - INTERVAL '...'", wm.Column)
		}
		us, err := b.windowSpan(x.Right, "watermark", false)
		if err != nil {
			return nil, err
		}
		if us < 0 {
			return nil, b.errAt(x.Right.Position(), pgerr.InvalidParameterValue, "the delay of a watermark must not be negative")
		}
		out.Delay = us
	default:
		return nil, b.errAt(wm.Expr.Position(), pgerr.FeatureNotSupported, "a watermark must be %s - INTERVAL '...'", wm.Column)
	}
	return out, nil
}

// scanWatermark is the watermark a Scan of o carries.
func scanWatermark(o *catalog.Object) *exec.ScanWatermark {
	if o.Watermark == nil {
		return nil
	}
	return &exec.ScanWatermark{Col: o.Watermark.Column, Delay: o.Watermark.Delay}
}

// planEmitOnWindowClose makes the view's windowed aggregate emit each
// window once, when the watermark closes it: the aggregate under the
// view's projections and filters (HAVING), grouped by a column that
// carries a watermark (window_start or window_end of a TUMBLE or HOP over
// an input with a WATERMARK).
func (b *binder) planEmitOnWindowClose(n exec.Node, pos int) error {
	for {
		switch x := n.(type) {
		case *exec.Project:
			n = x.Input
			continue
		case *exec.Filter:
			n = x.Input
			continue
		case *exec.Sort:
			n = x.Input
			continue
		case *exec.Aggregate:
			if x.GroupingSets != nil {
				return b.errAt(pos, pgerr.FeatureNotSupported, "EMIT ON WINDOW CLOSE is not supported with GROUPING SETS, ROLLUP or CUBE")
			}
			if x.EmitOnWindowClose {
				return nil
			}
			if sessionFusable(x) && exec.SessionAggregateCloses(x) {
				// Sessions close when the watermark of their time column
				// passes their window_end.
				x.Session, x.EmitOnWindowClose = true, true
				return nil
			}
			if exec.WindowCloseColumn(x) < 0 {
				return b.errAt(pos, pgerr.FeatureNotSupported, "EMIT ON WINDOW CLOSE needs a GROUP BY column with a watermark").
					WithHint("Group by window_start or window_end of TUMBLE, HOP or SESSION over a source or table declared WITH a WATERMARK FOR its time column.")
			}
			x.EmitOnWindowClose = true
			return nil
		}
		return b.errAt(pos, pgerr.FeatureNotSupported, "EMIT ON WINDOW CLOSE needs a windowed aggregate at the top of the query").
			WithHint("Group by window_start or window_end of TUMBLE, HOP or SESSION over a source or table declared WITH a WATERMARK FOR its time column.")
	}
}

// explainWatermarks describes the columns of n that carry a watermark.
func explainWatermarks(n exec.Node) string {
	var cols []string
	for i, ok := range exec.ColumnWatermarks(n) {
		if ok {
			cols = append(cols, "#"+itoa(i))
		}
	}
	if len(cols) == 0 {
		return ""
	}
	return " watermark=" + strings.Join(cols, ",")
}

func itoa(i int) string { return strconv.Itoa(i) }

func explainDelay(us int64) string { return time.Duration(us * 1000).String() }
