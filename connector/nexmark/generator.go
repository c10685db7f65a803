package nexmark

import (
	"math"
	"math/bits"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/kappa-db/kappa/types"
)

// Column is one column of a kind's rows.
type Column struct {
	Name string
	Type types.Type
}

var schemas = [...][]Column{
	Person: {
		{"id", types.Int8}, {"name", types.Varchar}, {"email_address", types.Varchar},
		{"credit_card", types.Varchar}, {"city", types.Varchar}, {"state", types.Varchar},
		{"date_time", types.Timestamp}, {"extra", types.Varchar},
	},
	Auction: {
		{"id", types.Int8}, {"item_name", types.Varchar}, {"description", types.Varchar},
		{"initial_bid", types.Int8}, {"reserve", types.Int8}, {"date_time", types.Timestamp},
		{"expires", types.Timestamp}, {"seller", types.Int8}, {"category", types.Int8},
		{"extra", types.Varchar},
	},
	Bid: {
		{"auction", types.Int8}, {"bidder", types.Int8}, {"price", types.Int8},
		{"channel", types.Varchar}, {"url", types.Varchar}, {"date_time", types.Timestamp},
		{"extra", types.Varchar},
	},
}

// Schema returns the columns of kind k's rows.
func Schema(k Kind) []Column { return schemas[k] }

// Key returns the columns of kind k's rows that no two of its rows share,
// never NULL, or nil: a person's and an auction's id are their event's
// number among the events of that kind (lastPerson, lastAuction), so each
// id is made by exactly one event. Bids have no key.
func Key(k Kind) []int {
	if k == Person || k == Auction {
		return []int{0}
	}
	return nil
}

var (
	firstNames  = []string{"Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter"}
	lastNames   = []string{"Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris"}
	cities      = []string{"Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond", "Seattle", "Kent", "Cheyenne"}
	states      = []string{"AZ", "CA", "ID", "OR", "WA", "WY"}
	hotChannels = []string{"Google", "Facebook", "Baidu", "Apple"}
)

// KindOf returns the kind of event e.
func KindOf(e uint64) Kind {
	switch r := e % TotalProportion; {
	case r < PersonProportion:
		return Person
	case r < PersonProportion+AuctionProportion:
		return Auction
	}
	return Bid
}

// kindRange is the range [lo, hi) of e % TotalProportion of kind k.
func kindRange(k Kind) (lo, hi uint64) {
	switch k {
	case Person:
		return 0, PersonProportion
	case Auction:
		return PersonProportion, PersonProportion + AuctionProportion
	}
	return PersonProportion + AuctionProportion, TotalProportion
}

// lastPerson is the base-0 id of the last person generated at or before
// event e.
func lastPerson(e uint64) int64 {
	epoch, off := int64(e/TotalProportion), e%TotalProportion
	if off >= PersonProportion {
		off = PersonProportion - 1
	}
	return epoch*PersonProportion + int64(off)
}

// lastAuction is the base-0 id of the last auction generated at or before
// event e (-1 before the first).
func lastAuction(e uint64) int64 {
	epoch, off := int64(e/TotalProportion), int64(e%TotalProportion)
	switch {
	case off < PersonProportion:
		epoch--
		off = AuctionProportion - 1
	case off >= PersonProportion+AuctionProportion:
		off = AuctionProportion - 1
	default:
		off -= PersonProportion
	}
	return epoch*AuctionProportion + off
}

// Generator generates the events of one kind. It is safe for concurrent
// use.
type Generator struct {
	cfg      Config
	channels [NumChannels]string
	urls     [NumChannels]string
	hotURLs  [4]string
	names    []string
}

// New returns a generator for cfg (zero fields take their defaults).
func New(cfg Config) *Generator {
	d := DefaultConfig()
	if cfg.Rate == 0 {
		cfg.Rate = d.Rate
	}
	if cfg.Partitions <= 0 {
		cfg.Partitions = d.Partitions
	}
	def := func(p *uint64, v uint64) {
		if *p == 0 {
			*p = v
		}
	}
	def(&cfg.ActivePeople, d.ActivePeople)
	def(&cfg.InFlightAuctions, d.InFlightAuctions)
	def(&cfg.HotAuctionRatio, d.HotAuctionRatio)
	def(&cfg.HotBidderRatio, d.HotBidderRatio)
	def(&cfg.HotSellerRatio, d.HotSellerRatio)
	def(&cfg.HotChannelRatio, d.HotChannelRatio)
	if cfg.AvgPersonSize == 0 {
		cfg.AvgPersonSize = d.AvgPersonSize
	}
	if cfg.AvgAuctionSize == 0 {
		cfg.AvgAuctionSize = d.AvgAuctionSize
	}
	if cfg.AvgBidSize == 0 {
		cfg.AvgBidSize = d.AvgBidSize
	}
	g := &Generator{cfg: cfg}
	// The channels' urls are fixed per channel number (Flink caches them);
	// here they are drawn from a generator seeded by the channel number.
	var buf []byte
	for i := range g.hotURLs {
		r := newRNG(cfg.Seed^0x5eed, uint64(i))
		g.hotURLs[i] = string(baseURL(buf[:0], &r))
	}
	for i := range g.channels {
		r := newRNG(cfg.Seed^0xc4a77e1, uint64(i))
		g.channels[i] = "channel-" + strconv.Itoa(i)
		buf = baseURL(buf[:0], &r)
		if r.intn(10) > 0 {
			buf = append(buf, "&channel_id="...)
			id := int64(int32(bits.Reverse32(uint32(i))))
			if id < 0 {
				id = -id
			}
			buf = strconv.AppendInt(buf, id, 10)
		}
		g.urls[i] = string(buf)
	}
	for _, f := range firstNames {
		for _, l := range lastNames {
			g.names = append(g.names, f+" "+l)
		}
	}
	return g
}

// Config returns the generator's configuration (defaults filled in).
func (g *Generator) Config() Config { return g.cfg }

// Columns returns the columns of the generator's rows.
func (g *Generator) Columns() []Column { return schemas[g.cfg.Kind] }

// EventTime returns the event time of event e (µs since 2000-01-01).
func (g *Generator) EventTime(e uint64) int64 {
	return g.cfg.BaseTime + int64(e*1000000/g.cfg.Rate)
}

// Available returns how many events of the stream exist elapsed after it
// started: all of them when unpaced (MaxUint64 when unbounded).
func (g *Generator) Available(elapsed time.Duration) uint64 {
	n := uint64(math.MaxUint64)
	if g.cfg.MinEventGap > 0 {
		if elapsed < 0 {
			elapsed = 0
		}
		n = uint64(elapsed/g.cfg.MinEventGap) + 1
	}
	if g.cfg.Events > 0 && n > g.cfg.Events {
		n = g.cfg.Events
	}
	return n
}

// AvailableAt returns when event e becomes available after the stream
// starts (0 when unpaced).
func (g *Generator) AvailableAt(e uint64) time.Duration {
	return time.Duration(e) * g.cfg.MinEventGap
}

// Count returns how many events of the generator's kind are among [from, to).
func (g *Generator) Count(from, to uint64) uint64 {
	lo, hi := kindRange(g.cfg.Kind)
	below := func(n uint64) uint64 { // events of the kind in [0, n)
		full, rem := n/TotalProportion, n%TotalProportion
		c := full * (hi - lo)
		if rem > lo {
			c += min(rem, hi) - lo
		}
		return c
	}
	if to <= from {
		return 0
	}
	return below(to) - below(from)
}

// parallelMin is the smallest read worth splitting across partitions.
const parallelMin = 2048

// AppendRows appends the rows of the generator's kind among events
// [from, to), in event id order. The rows share one backing array; a row's
// values are never modified afterwards.
func (g *Generator) AppendRows(dst []types.Row, from, to uint64) []types.Row {
	return g.Read(dst, from, to, ReadOptions{})
}

// ReadOptions say what a reader needs of the rows Read makes.
type ReadOptions struct {
	// Need, when not nil, says which columns the reader uses: the others
	// may be left NULL (the extra padding then costs nothing). A column
	// left out never changes the values of the others.
	Need []bool
	// Slab, when large enough (rows × columns), is the memory the rows
	// are made in instead of a new array: for a reader that is done with
	// the rows before its next Read.
	Slab []types.Value
}

// Read appends the rows of the generator's kind among events [from, to),
// in event id order, as opts say. Partition p of n fills the rows of the
// ids ≡ p (mod n), each at its place in one array, so no merge is needed.
func (g *Generator) Read(dst []types.Row, from, to uint64, opts ReadOptions) []types.Row {
	if to <= from {
		return dst
	}
	cnt := int(g.Count(from, to))
	ncols := len(schemas[g.cfg.Kind])
	slab := opts.Slab
	if len(slab) < cnt*ncols {
		slab = make([]types.Value, cnt*ncols)
	}
	base := len(dst)
	dst = slices.Grow(dst, cnt)[:base+cnt]
	rows := dst[base:]
	skipExtra := opts.Need != nil && !opts.Need[ncols-1]
	n := g.cfg.Partitions
	if n <= 1 || to-from < parallelMin {
		g.fillPartition(rows, slab, from, to, 0, 1, skipExtra)
		return dst
	}
	var wg sync.WaitGroup
	for p := 1; p < n; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g.fillPartition(rows, slab, from, to, uint64(p), uint64(n), skipExtra)
		}()
	}
	g.fillPartition(rows, slab, from, to, 0, uint64(n), skipExtra)
	wg.Wait()
	return dst
}

// fillPartition makes the rows of partition p of n: events e in [from, to)
// of the generator's kind with e ≡ p (mod n), each into rows[i] from
// slab's i-th stretch of columns, i being e's place among [from, to)'s
// events of the kind.
func (g *Generator) fillPartition(rows []types.Row, slab []types.Value, from, to, p, n uint64, skipExtra bool) {
	first := from + (p+n-from%n)%n
	lo, hi := kindRange(g.cfg.Kind)
	ncols := len(schemas[g.cfg.Kind])
	var scratch []byte
	for e := first; e < to; e += n {
		if r := e % TotalProportion; r < lo || r >= hi {
			continue
		}
		i := int(g.Count(from, e))
		row := slab[i*ncols : (i+1)*ncols : (i+1)*ncols]
		scratch = g.fill(row, e, scratch, skipExtra)
		rows[i] = row
	}
}

// Row returns event e as a row if it is of the generator's kind.
func (g *Generator) Row(e uint64) (types.Row, bool) {
	if KindOf(e) != g.cfg.Kind {
		return nil, false
	}
	row := make(types.Row, len(schemas[g.cfg.Kind]))
	g.fill(row, e, nil, false)
	return row, true
}

// fill generates event e (of the generator's kind) into row, every column
// of it. scratch is a reusable buffer; the row's strings are copied out of
// it. skipExtra leaves the last column, the padding, NULL: it is drawn
// last, so the other columns do not change.
func (g *Generator) fill(row types.Row, e uint64, scratch []byte, skipExtra bool) []byte {
	r := newRNG(g.cfg.Seed, e)
	ts := g.EventTime(e)
	buf := scratch[:0]
	switch g.cfg.Kind {
	case Person:
		id := lastPerson(e) + FirstPersonID
		name := g.names[r.intn(uint64(len(g.names)))]
		buf = nextString(buf, &r, 7, ' ')
		buf = append(buf, '@')
		buf = nextString(buf, &r, 5, ' ')
		buf = append(buf, ".com"...)
		emailEnd := len(buf)
		for i := 0; i < 4; i++ {
			if i > 0 {
				buf = append(buf, ' ')
			}
			d := r.intn(10000)
			buf = append(buf, byte('0'+d/1000), byte('0'+d/100%10), byte('0'+d/10%10), byte('0'+d%10))
		}
		ccEnd := len(buf)
		city := cities[r.intn(uint64(len(cities)))]
		state := states[r.intn(uint64(len(states)))]
		size := 8 + len(name) + emailEnd + (ccEnd - emailEnd) + len(city) + len(state)
		if !skipExtra {
			buf = nextExtra(buf, &r, size, g.cfg.AvgPersonSize)
		}
		s := string(buf)
		row[0] = types.NewInt8(id)
		row[1] = types.NewText(name)
		row[2] = types.NewText(s[:emailEnd])
		row[3] = types.NewText(s[emailEnd:ccEnd])
		row[4] = types.NewText(city)
		row[5] = types.NewText(state)
		row[6] = types.NewTimestamp(ts)
		row[7] = types.NewText(s[ccEnd:])
		if skipExtra {
			row[7] = types.Null
		}
	case Auction:
		id := lastAuction(e) + FirstAuctionID
		var seller int64
		if r.intn(g.cfg.HotSellerRatio) > 0 {
			seller = lastPerson(e) / HotSellerBlock * HotSellerBlock
		} else {
			seller = g.nextPerson(e, &r)
		}
		seller += FirstPersonID
		category := FirstCategoryID + int64(r.intn(NumCategories))
		initial := nextPrice(&r)
		// Auctions last up to twice the time it takes to generate
		// InFlightAuctions more auctions.
		horizon := g.EventTime(e+g.cfg.InFlightAuctions*TotalProportion/AuctionProportion) - ts
		expires := ts + 1 + int64(r.intn(uint64(max(2*horizon, 1))))
		buf = nextString(buf, &r, 20, ' ')
		nameEnd := len(buf)
		buf = nextString(buf, &r, 100, ' ')
		descEnd := len(buf)
		reserve := initial + nextPrice(&r)
		size := 8 + nameEnd + (descEnd - nameEnd) + 8 + 8 + 8 + 8 + 8
		if !skipExtra {
			buf = nextExtra(buf, &r, size, g.cfg.AvgAuctionSize)
		}
		s := string(buf)
		row[0] = types.NewInt8(id)
		row[1] = types.NewText(s[:nameEnd])
		row[2] = types.NewText(s[nameEnd:descEnd])
		row[3] = types.NewInt8(initial)
		row[4] = types.NewInt8(reserve)
		row[5] = types.NewTimestamp(ts)
		row[6] = types.NewTimestamp(expires)
		row[7] = types.NewInt8(seller)
		row[8] = types.NewInt8(category)
		row[9] = types.NewText(s[descEnd:])
		if skipExtra {
			row[9] = types.Null
		}
	case Bid:
		var auction, bidder int64
		if r.intn(g.cfg.HotAuctionRatio) > 0 {
			auction = lastAuction(e) / HotAuctionBlock * HotAuctionBlock
		} else {
			last := lastAuction(e)
			lo := max(last-int64(g.cfg.InFlightAuctions), 0)
			auction = lo + int64(r.intn(uint64(last-lo+1+AuctionIDLead)))
		}
		auction += FirstAuctionID
		if r.intn(g.cfg.HotBidderRatio) > 0 {
			bidder = lastPerson(e)/HotBidderBlock*HotBidderBlock + 1
		} else {
			bidder = g.nextPerson(e, &r)
		}
		bidder += FirstPersonID
		price := nextPrice(&r)
		var channel, url string
		if r.intn(g.cfg.HotChannelRatio) > 0 {
			i := r.intn(uint64(len(hotChannels)))
			channel, url = hotChannels[i], g.hotURLs[i]
		} else {
			i := r.intn(NumChannels)
			channel, url = g.channels[i], g.urls[i]
		}
		row[0] = types.NewInt8(auction)
		row[1] = types.NewInt8(bidder)
		row[2] = types.NewInt8(price)
		row[3] = types.NewText(channel)
		row[4] = types.NewText(url)
		row[5] = types.NewTimestamp(ts)
		row[6] = types.Null
		if !skipExtra {
			// As in Beam and Flink, the size counts the four numbers;
			// the channel and url Flink added come on top.
			buf = nextExtra(buf, &r, 8+8+8+8, g.cfg.AvgBidSize)
			row[6] = types.NewText(string(buf))
		}
	}
	return buf
}

// nextPerson draws a base-0 person id from about the last ActivePeople
// persons, plus a few not generated yet.
func (g *Generator) nextPerson(e uint64, r *rng) int64 {
	num := lastPerson(e) + 1
	active := min(num, int64(g.cfg.ActivePeople))
	return num - active + int64(r.intn(uint64(active+PersonIDLead)))
}

// nextPrice is log-uniform in [100, 100,000,000], a multiple of 100.
func nextPrice(r *rng) int64 {
	return int64(roundPow10(r.float()*6)) * 100
}

// pow10Steps[k] is 10^(k/64).
var pow10Steps = func() (t [6 * 64]float64) {
	for k := range t {
		t[k] = math.Pow(10, float64(k)/64)
	}
	return t
}()

// roundPow10 is math.Round(math.Pow(10, x)) for x in [0, 6), computed as
// 10^(k/64) from a table times e^(r·ln 10) by a short series (math.Pow was
// a tenth of q0's CPU). Its relative error is about 1e-15, math.Pow's is
// below 1e-15 too, so the two round alike unless the power lies within
// 1e-6 of a half, and then math.Pow decides (about one draw in 10^6): the
// prices are exactly the ones math.Pow gives.
func roundPow10(x float64) float64 {
	k := int(x * 64) // exact: 64 is a power of two
	if k < 0 || k >= len(pow10Steps) {
		return math.Round(math.Pow(10, x))
	}
	r := (x - float64(k)/64) * math.Ln10 // in [0, 0.036)
	e := 1 + r*(1+r*(1.0/2+r*(1.0/6+r*(1.0/24+r*(1.0/120+r*(1.0/720+r*(1.0/5040)))))))
	y := pow10Steps[k] * e
	if f := y - math.Floor(y); math.Abs(f-0.5) < 1e-6 {
		return math.Round(math.Pow(10, x))
	}
	return math.Round(y)
}

// nextString appends 3 to maxLength-1 random lowercase letters, about one
// in 13 of them the special character (leading and trailing spaces
// trimmed, as Beam's generator does).
func nextString(buf []byte, r *rng, maxLength int, special byte) []byte {
	n := minStringLength + int(r.intn(uint64(maxLength-minStringLength)))
	start := len(buf)
	for i := 0; i < n; i++ {
		v := r.next()
		if v%13 == 0 {
			buf = append(buf, special)
		} else {
			buf = append(buf, byte('a'+(v>>8)%26))
		}
	}
	if special == ' ' {
		s := buf[start:]
		lo, hi := 0, len(s)
		for lo < hi && s[lo] == ' ' {
			lo++
		}
		for hi > lo && s[hi-1] == ' ' {
			hi--
		}
		n := copy(s, s[lo:hi])
		buf = buf[:start+n]
	}
	return buf
}

// nextExtra appends padding that brings an event of size current to about
// avg bytes on average (±20%), as Beam's nextExtra.
func nextExtra(buf []byte, r *rng, current, avg int) []byte {
	if current > avg {
		return buf
	}
	avg -= current
	delta := int(math.Round(float64(avg) * 0.2))
	n := avg - delta
	if delta > 0 {
		n += int(r.intn(uint64(2 * delta)))
	}
	for n > 0 {
		v := r.next()
		for k := 0; k < 13 && n > 0; k++ {
			buf = append(buf, byte('a'+v%26))
			v /= 26
			n--
		}
	}
	return buf
}

// baseURL appends a url of three random five-letter directories.
func baseURL(buf []byte, r *rng) []byte {
	buf = append(buf, "https://www.nexmark.com/"...)
	for i := 0; i < 3; i++ {
		buf = nextString(buf, r, 5, '_')
		buf = append(buf, '/')
	}
	return append(buf, "item.htm?query=1"...)
}

// rng is splitmix64, seeded per event: cheap to create, and its stream for
// event e depends on nothing but (seed, e).
type rng struct{ s uint64 }

func newRNG(seed, e uint64) rng {
	r := rng{s: seed*0x9e3779b97f4a7c15 ^ e}
	r.next()
	return r
}

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// intn is uniform in [0, n) (Lemire's multiply-shift; the bias is below
// n/2^64).
func (r *rng) intn(n uint64) uint64 {
	hi, _ := bits.Mul64(r.next(), n)
	return hi
}

// float is uniform in [0, 1).
func (r *rng) float() float64 { return float64(r.next()>>11) / (1 << 53) }
