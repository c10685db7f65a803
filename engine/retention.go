package engine

import (
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kappa-db/kappa/catalog"
	"github.com/kappa-db/kappa/exec"
	"github.com/kappa-db/kappa/log"
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/planner"
	"github.com/kappa-db/kappa/sql"
	"github.com/kappa-db/kappa/types"
)

// Table options (CREATE TABLE ... WITH (...)) that bound a table's log.
// They bound only the log's history: a table's rows, and so ad hoc reads
// and new views, never lose anything to them (docs/retention.md).
const (
	optRetention      = "retention"       // an interval: '7 days'
	optRetentionBytes = "retention_bytes" // bytes of log segment files
	// optCompaction ('on' or 'off') compacts the log of a table with a
	// primary key by key (log.Log.Compact).
	optCompaction = "compaction"
	// optPartitions is the number of partitions of a table's log
	// (docs/partitions.md); fixed at CREATE TABLE.
	optPartitions = "partitions"
)

// partitionsOf is the number of partitions of table o's log.
func partitionsOf(o *catalog.Object) int {
	v, ok := o.Options[optPartitions]
	if !ok {
		return 1 // without allocating Atoi's error: every query asks
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 1
	}
	return n
}

// DefaultRetentionInterval is how often retention is enforced.
const DefaultRetentionInterval = 10 * time.Second

// tableOptions checks a CREATE TABLE's WITH options and returns them as the
// catalog keeps them.
func (st *statement) tableOptions(opts sql.Options, hasPK bool) (map[string]string, error) {
	if len(opts) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	for _, o := range opts {
		if !o.HasValue && (o.Key == optRetention || o.Key == optRetentionBytes || o.Key == optCompaction || o.Key == optPartitions) {
			return nil, st.errAt(o.Pos, pgerr.InvalidParameterValue, "option %q needs a value", o.Key)
		}
		switch o.Key {
		case optRetention:
			if _, err := parseRetentionAge(o.Value); err != nil {
				return nil, st.errAt(o.Pos, pgerr.InvalidParameterValue, "invalid value for option %q: %s", o.Key, err)
			}
		case optRetentionBytes:
			if _, err := parseRetentionBytes(o.Value); err != nil {
				return nil, st.errAt(o.Pos, pgerr.InvalidParameterValue, "invalid value for option %q: %s", o.Key, err)
			}
		case optCompaction:
			on, ok := parseOnOff(o.Value)
			if !ok {
				return nil, st.errAt(o.Pos, pgerr.InvalidParameterValue, "invalid value for option %q: %q is not on or off", o.Key, o.Value)
			}
			if on && !hasPK {
				return nil, st.errAt(o.Pos, pgerr.InvalidTableDefinition, "compaction needs a primary key: it keeps the newest row of each key")
			}
			o.Value = onOff(on)
		case optPartitions:
			n, err := strconv.Atoi(strings.TrimSpace(o.Value))
			if err != nil || n < 1 || n > exec.MaxPartitions {
				return nil, st.errAt(o.Pos, pgerr.InvalidParameterValue, "invalid value for option %q: %q is not an integer from 1 to %d", o.Key, o.Value, exec.MaxPartitions)
			}
			o.Value = strconv.Itoa(n)
		default:
			return nil, st.errAt(o.Pos, pgerr.InvalidParameterValue, "unrecognized table option %q", o.Key)
		}
		out[o.Key] = o.Value
	}
	return out, nil
}

// parseRetentionAge reads an interval ('7 days', '36 hours', 'PT1H'); a
// month counts 30 days, as in PostgreSQL's EXTRACT(EPOCH FROM interval).
func parseRetentionAge(s string) (time.Duration, error) {
	v, err := types.ParseText(types.Interval, s, time.UTC)
	if err != nil {
		return 0, err
	}
	d := time.Duration(v.Mon)*30*24*time.Hour + time.Duration(v.Day)*24*time.Hour + time.Duration(v.I)*time.Microsecond
	if d <= 0 {
		return 0, pgerr.New(pgerr.InvalidParameterValue, "retention must be a positive interval, not %q", s)
	}
	return d, nil
}

func parseRetentionBytes(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, pgerr.New(pgerr.InvalidParameterValue, "retention_bytes must be a positive integer, not %q", s)
	}
	return n, nil
}

// retentionOf is the retention policy of table o; ok is false when it keeps
// its whole log.
func retentionOf(o *catalog.Object) (p log.Retention, ok bool) {
	if s, has := o.Options[optRetention]; has {
		p.Age, _ = parseRetentionAge(s)
	}
	if s, has := o.Options[optRetentionBytes]; has {
		p.Bytes, _ = parseRetentionBytes(s)
	}
	return p, p.Age > 0 || p.Bytes > 0
}

func parseOnOff(s string) (on, ok bool) {
	switch strings.ToLower(s) {
	case "on", "true", "1", "yes":
		return true, true
	case "off", "false", "0", "no":
		return false, true
	}
	return false, false
}

// rollAge is how old a log's active segment may get before retention rolls
// it, so that age retention deletes records at most an eighth of the
// retention late (plus one retention interval).
func rollAge(retention time.Duration) time.Duration { return retention / 8 }

// EnforceRetention runs one pass over every table that has a retention
// policy or compaction: it rolls a log whose active segment is old, then,
// between epochs and up to the first offset some dataflow reading the table
// has not consumed, deletes the segments the policy lets go and compacts
// the rest. It also trims the transaction log (trimTxnLog). The background loop calls it every Config.RetentionInterval;
// tests call it directly.
func (e *Engine) EnforceRetention() error {
	// One pass at a time: Retain runs inside the epoch lock and takes the
	// log's compaction lock, Compact the other way round.
	e.retentionMu.Lock()
	defer e.retentionMu.Unlock()
	if err := e.trimTxnLog(); err != nil && !errors.Is(err, log.ErrClosed) {
		return err
	}
	for _, o := range e.cat.All() {
		if o.Kind != catalog.KindTable {
			continue
		}
		p, retain := retentionOf(o)
		compact := o.Options[optCompaction] == "on" && len(o.PrimaryKey) > 0
		if !retain && !compact {
			continue
		}
		for _, src := range e.partitionSources(o.ID) {
			if err := e.retainPartition(o, src, p, retain, compact); err != nil {
				return err
			}
		}
	}
	return nil
}

// retainPartition enforces table o's retention and compaction on one
// partition of its log (src): each partition is a log of its own, cut at
// the first offset of it that some dataflow has not consumed.
func (e *Engine) retainPartition(o *catalog.Object, src uint64, p log.Retention, retain, compact bool) error {
	lg, open := e.openLog(src)
	if !open {
		return nil
	}
	if p.Age > 0 {
		if err := lg.Roll(rollAge(p.Age)); err != nil {
			if errors.Is(err, log.ErrClosed) {
				return nil
			}
			return err
		}
	}
	var keep uint64
	err := e.rt.TrimLog(src, lg.End(), func(k uint64) error {
		keep = k
		if retain {
			if _, err := lg.Retain(p, keep); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil && compact {
		// Compaction reads and writes while epochs run; only its
		// install waits for a point between epochs at which every
		// dataflow is still past what it compacted (a view created
		// meanwhile, reading from the start, is not: the compaction
		// is dropped and the next pass tries again).
		var st log.CompactStats
		st, err = lg.Compact(keep, exec.CompactionKey(o.PrimaryKey), func(end uint64, install func() error) error {
			return e.rt.TrimLog(src, lg.End(), func(now uint64) error {
				if now < end {
					return log.ErrCompactionStale
				}
				return install()
			})
		})
		if err == nil && st.Segments > 0 {
			e.cfg.Logger.Info("compacted table log", "table", o.Name, "partition", exec.SourcePartition(src), "segments", st.Segments,
				"records_before", st.RecordsBefore, "records_after", st.RecordsAfter,
				"bytes_before", st.BytesBefore, "bytes_after", st.BytesAfter)
		}
	}
	if err != nil && !errors.Is(err, log.ErrClosed) {
		return err
	}
	return nil
}

// retentionLoop enforces retention until stop closes.
func (e *Engine) retentionLoop(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(e.cfg.RetentionInterval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		if err := e.EnforceRetention(); err != nil {
			e.cfg.Logger.Warn("enforcing log retention", "err", err)
		}
	}
}

// alterTableOptions runs ALTER TABLE name SET (...) / RESET (...) on the
// log options. The next retention pass applies them.
func (st *statement) alterTableOptions(x *sql.AlterTableOptions) (string, error) {
	s := st.s
	const tag = "ALTER TABLE"
	s.e.ddlMu.Lock()
	defer s.e.ddlMu.Unlock()
	o, ok := s.e.cat.Lookup(x.Name.Name)
	if !ok || (x.Name.Schema != "" && x.Name.Schema != "public") {
		return "", st.errAt(x.Name.Pos, pgerr.UndefinedTable, "relation %q does not exist", x.Name.Name)
	}
	if o.Kind != catalog.KindTable {
		return "", st.errAt(x.Name.Pos, pgerr.WrongObjectType, "%q is not a table", o.Name)
	}
	if !s.superuser() && !s.roles().Owns(o) {
		return "", mustBeOwner(o)
	}
	for _, opt := range append(slices.Clone(x.Set), x.Reset...) {
		if opt.Key == optPartitions {
			return "", st.errAt(opt.Pos, pgerr.FeatureNotSupported, "changing the partitions of a table's log is not supported").
				WithHint("Create a new table WITH (partitions = N) and copy the rows: INSERT INTO new SELECT * FROM old.")
		}
	}
	set, err := st.tableOptions(x.Set, len(o.PrimaryKey) > 0)
	if err != nil {
		return "", err
	}
	opts := maps.Clone(o.Options)
	if opts == nil {
		opts = map[string]string{}
	}
	for _, r := range x.Reset {
		switch r.Key {
		case optRetention, optRetentionBytes, optCompaction:
			delete(opts, r.Key)
		default:
			return "", st.errAt(r.Pos, pgerr.InvalidParameterValue, "unrecognized table option %q", r.Key)
		}
	}
	maps.Copy(opts, set)
	if len(opts) == 0 {
		opts = nil
	}
	cp := *o
	cp.Options = opts
	return tag, s.e.cat.UpdateObjects([]*catalog.Object{&cp})
}

// logInfo lists the tables' logs, for kappa_catalog.kappa_logs.
func (e *Engine) logInfo() []planner.LogInfo {
	var out []planner.LogInfo
	for _, o := range e.cat.All() {
		if o.Kind != catalog.KindTable {
			continue
		}
		p, _ := retentionOf(o)
		for _, src := range e.partitionSources(o.ID) {
			lg, open := e.openLog(src)
			if !open {
				continue
			}
			out = append(out, planner.LogInfo{
				Table: o.Name, Partition: exec.SourcePartition(src), Start: lg.Start(), End: lg.End(), Bytes: lg.Size(), Segments: lg.Segments(),
				Retention: p.Age, RetentionBytes: p.Bytes, Compaction: o.Options[optCompaction] == "on",
			})
		}
	}
	slices.SortFunc(out, func(a, b planner.LogInfo) int {
		if c := strings.Compare(a.Table, b.Table); c != 0 {
			return c
		}
		return a.Partition - b.Partition
	})
	return out
}
