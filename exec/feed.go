package exec

import (
	"math"

	"github.com/kappa-db/kappa/types"
)

// Feed is an input that replays like a log without being one: the rows of
// records [from, to) are a pure function of the offsets, so a dataflow
// reads it from its committed offset exactly as it reads a table's log, and
// after a crash it reads the same rows again. The Nexmark generator is one
// (its offsets are event ids); a feed costs no log append, no fsync and no
// decoding.
//
// A feed's rows arrive with weight +1 (a feed is append-only).
type Feed interface {
	// End is the offset below which records exist now; FeedUnbounded
	// when every offset does (an unpaced, endless generator).
	End() uint64
	// Bounded reports whether the feed has a last record (ad hoc queries
	// can read only those).
	Bounded() bool
	// AppendRows appends the rows of records [from, to) in offset order.
	// A record may have no row (a generator of bids skips persons). The
	// rows are never modified afterwards, unless use.Slab says so.
	AppendRows(dst []types.Row, from, to uint64, use FeedUse) []types.Row
}

// KeyedFeed is a Feed whose rows have a key its connector guarantees:
// Key's columns are never NULL and no two rows the feed ever makes share
// their values (Nexmark's person and auction ids). The planner puts it on
// the Scan (Scan.Unique), where a join may treat the input as a lookup
// table (Join.Lookup).
type KeyedFeed interface {
	Feed
	Key() []int
}

// FeedUse says what a reader of a feed does with its rows (leafUse): a
// feed may use it to make less.
type FeedUse struct {
	// Need, when not nil, says which columns are read: the feed may leave
	// the others NULL.
	Need []bool
	// Slab, when not nil, is memory for the rows: the reader is done with
	// them before its next AppendRows, so the feed may make them there
	// (when it is large enough) instead of in a new array.
	Slab []types.Value
}

// FeedUnbounded is the End of a feed whose every offset exists.
const FeedUnbounded = math.MaxUint64
