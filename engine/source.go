package engine

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/kappa-db/kappa/catalog"
	"github.com/kappa-db/kappa/connector/nexmark"
	"github.com/kappa-db/kappa/exec"
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/pgwire"
	"github.com/kappa-db/kappa/planner"
	"github.com/kappa-db/kappa/sql"
	"github.com/kappa-db/kappa/types"
)

// A source is an append-only relation fed by a connector. The built-in
// Nexmark connector is read directly by the dataflows that use it (an
// exec.Feed): its records are a pure function of their offsets, so a view
// replays it from its committed offset as it would a log, without the cost
// of appending the events to one (docs/ARCHITECTURE.md, "Sources").

func (e *Engine) createSource(ctx context.Context, st *statement, x *sql.CreateSource, w pgwire.ResultWriter) (string, error) {
	e.ddlMu.Lock()
	defer e.ddlMu.Unlock()
	const tag = "CREATE SOURCE"
	if exists, err := st.checkName(x.Name, x.IfNotExists, w); err != nil || exists {
		return tag, err
	}
	switch {
	case len(x.Constraints) > 0:
		return "", st.errAt(x.Constraints[0].Pos, pgerr.FeatureNotSupported, "a source has no constraints: it is append-only")
	case x.Format != "":
		return "", st.errAt(x.Name.Pos, pgerr.FeatureNotSupported, "FORMAT ... ENCODE does not apply to a nexmark source")
	}
	conn, ok := x.Options.Lookup("connector")
	if !ok {
		return "", st.errAt(x.Name.Pos, pgerr.InvalidParameterValue, "CREATE SOURCE needs WITH (connector = '...')").
			WithHint("The built-in connector is 'nexmark'.")
	}
	if strings.ToLower(conn.Value) != "nexmark" {
		return "", st.errAt(conn.Pos, pgerr.FeatureNotSupported, "connector %q is not supported yet", conn.Value).
			WithHint("The built-in connector is 'nexmark'.")
	}
	opts := map[string]string{}
	pos := map[string]int{}
	for _, o := range x.Options {
		k := strings.ToLower(o.Key)
		if k == "connector" {
			continue
		}
		if k == optPartitions {
			// docs/partitions.md: a nexmark source has no log; its
			// partitions are the generator's (nexmark.split.num), which
			// a read generates in parallel.
			if _, dup := x.Options.Lookup(nexmark.OptSplitNum); dup {
				return "", st.errAt(o.Pos, pgerr.InvalidParameterValue, "give partitions or %s, not both", nexmark.OptSplitNum)
			}
			k = nexmark.OptSplitNum
		}
		opts[k], pos[k] = o.Value, o.Pos
	}
	cfg, key, err := nexmark.ParseConfig(opts)
	if err != nil {
		p, ok := pos[key]
		if !ok {
			p = x.Name.Pos
		}
		pe := pgerr.As(err)
		pe.Position = sql.CharPos(st.src, p)
		return "", pe
	}
	o := &catalog.Object{Kind: catalog.KindSource, Name: x.Name.Name, CreateSQL: x.Info().Text,
		Created: time.Now().UTC(), Connector: "nexmark", Options: opts, Owner: st.s.currentRole}
	schema := nexmark.Schema(cfg.Kind)
	for _, c := range schema {
		o.Columns = append(o.Columns, catalog.Column{Name: c.Name, Type: c.Type})
	}
	if len(x.Columns) > 0 {
		// The columns may be spelled out (RisingWave requires it); they
		// must then be the kind's columns.
		ok := len(x.Columns) == len(schema)
		for i := 0; ok && i < len(schema); i++ {
			t, err := e.planner.BindType(st.src, x.Columns[i].Type)
			if err != nil {
				return "", err
			}
			ok = x.Columns[i].Name == schema[i].Name && t.Kind == schema[i].Type.Kind
		}
		if !ok {
			var want []string
			for _, c := range schema {
				want = append(want, c.Name+" "+c.Type.String())
			}
			return "", st.errAt(x.Columns[0].Pos, pgerr.InvalidTableDefinition, "the columns of a nexmark %s source are (%s)", cfg.Kind, strings.Join(want, ", ")).
				WithHint("Leave the column list out to get them.")
		}
	}
	if x.Watermark != nil {
		wm, err := e.planner.BindWatermark(st.src, x.Watermark, o.Columns)
		if err != nil {
			return "", err
		}
		o.Watermark = wm
	}
	id, err := e.cat.ReserveID()
	if err != nil {
		return "", err
	}
	o.ID = id
	return tag, e.cat.Create(o, nil)
}

// sourceFeed returns the input of source o, built once per source.
func (e *Engine) sourceFeed(o *catalog.Object) (exec.Feed, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if f, ok := e.mu.feeds[o.ID]; ok {
		return f, nil
	}
	if o.Connector != "nexmark" {
		return nil, pgerr.New(pgerr.FeatureNotSupported, "connector %q of source %q is not supported", o.Connector, o.Name)
	}
	cfg, _, err := nexmark.ParseConfig(o.Options)
	if err != nil {
		return nil, pgerr.As(err).WithDetail("in source %q", o.Name)
	}
	f := &nexmarkFeed{g: nexmark.New(cfg), start: o.Created}
	e.mu.feeds[o.ID] = f
	return f, nil
}

// nexmarkFeed adapts the generator to the runtime: offsets are event ids,
// and a paced stream starts when the source was created.
type nexmarkFeed struct {
	g     *nexmark.Generator
	start time.Time
}

func (f *nexmarkFeed) End() uint64 {
	n := f.g.Available(time.Since(f.start))
	if n == ^uint64(0) {
		return exec.FeedUnbounded
	}
	return n
}

func (f *nexmarkFeed) Bounded() bool { return f.g.Config().Events > 0 }

// Key is the generator's key of its kind's rows (ids are unique by
// construction).
func (f *nexmarkFeed) Key() []int { return nexmark.Key(f.g.Config().Kind) }

func (f *nexmarkFeed) AppendRows(dst []types.Row, from, to uint64, use exec.FeedUse) []types.Row {
	return f.g.Read(dst, from, to, nexmark.ReadOptions{Need: use.Need, Slab: use.Slab})
}

// Generator exposes a nexmark source's generator (for the benchmark).
func (e *Engine) Generator(name string) (*nexmark.Generator, time.Time, bool) {
	o, ok := e.cat.Lookup(name)
	if !ok || o.Kind != catalog.KindSource {
		return nil, time.Time{}, false
	}
	f, err := e.sourceFeed(o)
	if err != nil {
		return nil, time.Time{}, false
	}
	nf := f.(*nexmarkFeed)
	return nf.g, nf.start, true
}

// inputEnd is the end of input id now: a table's log partition's end, or
// the records a source has (0 for an endless unpaced source: a view over
// it never catches up, so CREATE does not wait for it).
func (e *Engine) inputEnd(id uint64) (uint64, error) {
	if o, ok := e.cat.Get(exec.SourceTable(id)); ok && o.Kind == catalog.KindSource {
		f, err := e.sourceFeed(o)
		if err != nil {
			return 0, err
		}
		if end := f.End(); end != exec.FeedUnbounded {
			return end, nil
		}
		return 0, nil
	}
	lg, err := e.tableLog(id)
	if err != nil {
		return 0, err
	}
	return lg.End(), nil
}

// watermarkInfo names the watermarked inputs of the running dataflows, for
// kappa_catalog.kappa_late_rows, sorted by relation and input.
func (e *Engine) watermarkInfo() []planner.WatermarkInfo {
	var out []planner.WatermarkInfo
	for _, w := range e.rt.Watermarks() {
		rel, ok := e.cat.Get(w.Dataflow)
		if !ok {
			continue // a replacement not yet in the catalog
		}
		in, ok := e.cat.Get(w.Input)
		if !ok {
			continue
		}
		out = append(out, planner.WatermarkInfo{Relation: rel.Name, Input: in.Name, Watermark: w.Watermark, Has: w.Has, Late: w.Late})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Relation != out[j].Relation {
			return out[i].Relation < out[j].Relation
		}
		return out[i].Input < out[j].Input
	})
	return out
}
