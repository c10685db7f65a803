package nexmark

import (
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kappa-db/kappa/pgerr"
)

// Kind is the kind of an event.
type Kind uint8

// Event kinds.
const (
	Person Kind = iota
	Auction
	Bid
)

func (k Kind) String() string { return [...]string{"person", "auction", "bid"}[k] }

// Proportions of the event kinds: for event id e, e % TotalProportion picks
// the kind: below PersonProportion a person, then auctions, then bids.
const (
	PersonProportion  = 1
	AuctionProportion = 3
	BidProportion     = 46
	TotalProportion   = PersonProportion + AuctionProportion + BidProportion
)

// Fixed parameters of the Beam generator.
const (
	FirstPersonID   = 1000
	FirstAuctionID  = 1000
	FirstCategoryID = 10
	NumCategories   = 5
	// HotAuctionBlock and friends: the hot auction (bidder, seller) is the
	// first (second, first) of each block of this many.
	HotAuctionBlock = 100
	HotBidderBlock  = 100
	HotSellerBlock  = 100
	AuctionIDLead   = 10
	PersonIDLead    = 10
	NumChannels     = 10000
	minStringLength = 3
)

// DefaultBaseTime is the Beam generator's base time, 2015-07-15 00:00:00
// UTC, in µs since 2000-01-01 (kappa's timestamp epoch).
const DefaultBaseTime = (1436918400 - 946684800) * 1000000

// Config configures a Generator. The zero value of a field means its
// default (DefaultConfig).
type Config struct {
	Kind Kind
	// Events is the number of events (of all kinds) the stream has; 0 is
	// unbounded.
	Events uint64
	// Rate is events per second of event time: event e happens at
	// BaseTime + e × 1e6/Rate µs.
	Rate uint64
	// BaseTime is the event time of event 0, µs since 2000-01-01.
	BaseTime int64
	// Seed varies every random draw.
	Seed uint64
	// MinEventGap paces the stream in wall-clock time: event e becomes
	// available MinEventGap × e after the stream starts. 0 is as fast as
	// the reader reads.
	MinEventGap time.Duration
	// Partitions is how many parallel partitions a read is split into.
	Partitions int

	// The generator parameters of NEXMARK.md.
	ActivePeople     uint64 // bidders and sellers come from about the last this many persons
	InFlightAuctions uint64 // bids go to about the last this many auctions
	HotAuctionRatio  uint64 // 1 - 1/ratio of bids go to the hot auction
	HotBidderRatio   uint64 // 1 - 1/ratio of bids come from the hot bidder
	HotSellerRatio   uint64 // 1 - 1/ratio of auctions come from the hot seller
	HotChannelRatio  uint64 // 1 - 1/ratio of bids use a hot channel
	AvgPersonSize    int    // bytes, padded by extra
	AvgAuctionSize   int
	AvgBidSize       int
}

// DefaultConfig returns the defaults: the Beam generator's parameters, 10,000
// events per second of event time, unbounded and unpaced.
func DefaultConfig() Config {
	return Config{
		Kind:             Bid,
		Rate:             10000,
		BaseTime:         DefaultBaseTime,
		Partitions:       runtime.GOMAXPROCS(0),
		ActivePeople:     1000,
		InFlightAuctions: 100,
		HotAuctionRatio:  2,
		HotBidderRatio:   4,
		HotSellerRatio:   4,
		HotChannelRatio:  2,
		AvgPersonSize:    200,
		AvgAuctionSize:   500,
		AvgBidSize:       100,
	}
}

// Option keys of CREATE SOURCE ... WITH (connector = 'nexmark', ...), in the
// style of RisingWave's Nexmark source.
const (
	OptTableType        = "nexmark.table.type"
	OptEventNum         = "nexmark.event.num"
	OptEventRate        = "nexmark.event.rate"
	OptMinEventGap      = "nexmark.min.event.gap.in.ns"
	OptSplitNum         = "nexmark.split.num"
	OptBaseTime         = "nexmark.base.time"
	OptSeed             = "nexmark.seed"
	OptActivePeople     = "nexmark.active.people"
	OptInFlightAuctions = "nexmark.in.flight.auctions"
	OptHotAuctionRatio  = "nexmark.hot.auction.ratio"
	OptHotBidderRatio   = "nexmark.hot.bidder.ratio"
	OptHotSellerRatio   = "nexmark.hot.seller.ratio"
	OptHotChannelRatio  = "nexmark.hot.channel.ratio"
	OptAvgPersonSize    = "nexmark.avg.person.byte.size"
	OptAvgAuctionSize   = "nexmark.avg.auction.byte.size"
	OptAvgBidSize       = "nexmark.avg.bid.byte.size"
)

// OptionKeys lists the option keys ParseConfig knows, sorted.
func OptionKeys() []string {
	keys := []string{OptTableType, OptEventNum, OptEventRate, OptMinEventGap, OptSplitNum, OptBaseTime, OptSeed,
		OptActivePeople, OptInFlightAuctions, OptHotAuctionRatio, OptHotBidderRatio, OptHotSellerRatio,
		OptHotChannelRatio, OptAvgPersonSize, OptAvgAuctionSize, OptAvgBidSize}
	sort.Strings(keys)
	return keys
}

// ParseConfig builds a Config from a source's options (keys lowercased,
// connector already removed). On error it also returns the offending key.
//
// nexmark.table.type ('person', 'auction' or 'bid') is required. Without
// nexmark.min.event.gap.in.ns, a bounded source (nexmark.event.num) is read
// as fast as possible and an unbounded one is paced at nexmark.event.rate,
// so that its event time follows the wall clock.
func ParseConfig(opts map[string]string) (Config, string, error) {
	c := DefaultConfig()
	typ, ok := opts[OptTableType]
	if !ok {
		return c, "", pgerr.New(pgerr.InvalidParameterValue, "a nexmark source needs %s = 'person', 'auction' or 'bid'", OptTableType).
			WithHint("Create one source per event kind; they share one event stream.")
	}
	switch strings.ToLower(typ) {
	case "person":
		c.Kind = Person
	case "auction":
		c.Kind = Auction
	case "bid":
		c.Kind = Bid
	default:
		return c, OptTableType, pgerr.New(pgerr.InvalidParameterValue, "invalid value for %s: %q (want 'person', 'auction' or 'bid')", OptTableType, typ)
	}
	keys := make([]string, 0, len(opts))
	for k := range opts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	gapSet := false
	for _, k := range keys {
		v := opts[k]
		var err error
		uint := func(dst *uint64, min uint64) {
			var n uint64
			n, err = strconv.ParseUint(strings.TrimSpace(v), 10, 64)
			if err == nil && n < min {
				err = strconv.ErrRange
			}
			if err == nil {
				*dst = n
			}
		}
		size := func(dst *int) {
			var n uint64
			uint(&n, 1)
			if err == nil && n > 1<<20 {
				err = strconv.ErrRange
			}
			*dst = int(n)
		}
		switch k {
		case OptTableType:
		case OptEventNum:
			uint(&c.Events, 0)
		case OptEventRate:
			uint(&c.Rate, 1)
			if err == nil && c.Rate > 1000000 {
				err = strconv.ErrRange
			}
		case OptMinEventGap:
			var n uint64
			uint(&n, 0)
			c.MinEventGap = time.Duration(n)
			gapSet = true
		case OptSplitNum:
			var n uint64
			uint(&n, 1)
			if err == nil && n > 1024 {
				err = strconv.ErrRange
			}
			c.Partitions = int(n)
		case OptBaseTime:
			// Milliseconds since 1970-01-01, as RisingWave's option.
			var ms int64
			ms, err = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err == nil && (ms < -1e14 || ms > 1e14) {
				err = strconv.ErrRange
			}
			c.BaseTime = (ms - 946684800000) * 1000
		case OptSeed:
			uint(&c.Seed, 0)
		case OptActivePeople:
			uint(&c.ActivePeople, 1)
		case OptInFlightAuctions:
			uint(&c.InFlightAuctions, 1)
		case OptHotAuctionRatio:
			uint(&c.HotAuctionRatio, 1)
		case OptHotBidderRatio:
			uint(&c.HotBidderRatio, 1)
		case OptHotSellerRatio:
			uint(&c.HotSellerRatio, 1)
		case OptHotChannelRatio:
			uint(&c.HotChannelRatio, 1)
		case OptAvgPersonSize:
			size(&c.AvgPersonSize)
		case OptAvgAuctionSize:
			size(&c.AvgAuctionSize)
		case OptAvgBidSize:
			size(&c.AvgBidSize)
		default:
			return c, k, pgerr.New(pgerr.InvalidParameterValue, "unrecognized nexmark option %q", k).
				WithHint("Known options: %s.", strings.Join(OptionKeys(), ", "))
		}
		if err != nil {
			return c, k, pgerr.New(pgerr.InvalidParameterValue, "invalid value for %s: %q", k, v)
		}
	}
	if !gapSet && c.Events == 0 {
		c.MinEventGap = time.Second / time.Duration(c.Rate)
	}
	return c, "", nil
}
