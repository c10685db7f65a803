package nexmark

import (
	"math"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/kappa-db/kappa/types"
)

func gen(k Kind, parts int) *Generator {
	c := DefaultConfig()
	c.Kind = k
	c.Partitions = parts
	return New(c)
}

// TestDeterministic: the rows of a range do not depend on partitioning, on
// how the range is split into reads, or on the run.
func TestDeterministic(t *testing.T) {
	for _, k := range []Kind{Person, Auction, Bid} {
		one := gen(k, 1).AppendRows(nil, 0, 20000)
		four := gen(k, 4).AppendRows(nil, 0, 20000)
		if !reflect.DeepEqual(one, four) {
			t.Fatalf("%s: 1 and 4 partitions differ", k)
		}
		var pieces []types.Row
		g := gen(k, 3)
		for from := uint64(0); from < 20000; from += 2999 {
			pieces = g.AppendRows(pieces, from, min(from+2999, 20000))
		}
		if !reflect.DeepEqual(one, pieces) {
			t.Fatalf("%s: reads in pieces differ", k)
		}
		if got, want := uint64(len(one)), gen(k, 1).Count(0, 20000); got != want {
			t.Fatalf("%s: %d rows, Count says %d", k, got, want)
		}
		row, ok := gen(k, 1).Row(12345 - 12345%50 + map[Kind]uint64{Person: 0, Auction: 2, Bid: 17}[k])
		if !ok {
			t.Fatalf("%s: Row", k)
		}
		if !reflect.DeepEqual(row, gen(k, 1).AppendRows(nil, 12345-12345%50, 12345-12345%50+50)[map[Kind]int{Person: 0, Auction: 1, Bid: 13}[k]]) {
			t.Fatalf("%s: Row differs from AppendRows", k)
		}
	}
	// The seed changes the draws.
	c := DefaultConfig()
	c.Seed = 7
	a, _ := New(c).Row(4)
	b, _ := gen(Bid, 1).Row(4)
	if reflect.DeepEqual(a, b) {
		t.Fatal("seed 7 gives the same bid as seed 0")
	}
}

func TestKindsAndTimes(t *testing.T) {
	counts := map[Kind]int{}
	for e := uint64(0); e < 5000; e++ {
		counts[KindOf(e)]++
	}
	if counts[Person] != 100 || counts[Auction] != 300 || counts[Bid] != 4600 {
		t.Fatalf("kinds %v", counts)
	}
	g := gen(Bid, 1)
	if g.EventTime(0) != DefaultBaseTime || g.EventTime(10000)-g.EventTime(0) != 1000000 {
		t.Fatal("event time is not base + e × 100 µs at 10,000 events/s")
	}
	persons := gen(Person, 1).AppendRows(nil, 0, 50000)
	for i, p := range persons {
		if p[0].I != int64(FirstPersonID+i) {
			t.Fatalf("person %d has id %d", i, p[0].I)
		}
		if p[6].I != DefaultBaseTime+int64(i)*50*100 {
			t.Fatalf("person %d at %d", i, p[6].I)
		}
	}
	auctions := gen(Auction, 1).AppendRows(nil, 0, 50000)
	for i, a := range auctions {
		if a[0].I != int64(FirstAuctionID+i) {
			t.Fatalf("auction %d has id %d", i, a[0].I)
		}
		if a[6].I <= a[5].I {
			t.Fatalf("auction %d expires before it starts", i)
		}
	}
}

func TestAvailable(t *testing.T) {
	c := DefaultConfig()
	c.Events = 1000
	g := New(c)
	if g.Available(0) != 1000 {
		t.Fatal("an unpaced bounded stream has all its events at once")
	}
	c.MinEventGap = time.Millisecond
	g = New(c)
	if g.Available(10*time.Millisecond) != 11 || g.Available(time.Hour) != 1000 {
		t.Fatal("paced stream")
	}
	if opts, _, err := ParseConfig(map[string]string{OptTableType: "bid"}); err != nil || opts.MinEventGap != 100*time.Microsecond {
		t.Fatal("an unbounded source is paced at its event rate by default", opts, err)
	}
	if _, key, err := ParseConfig(map[string]string{OptTableType: "bid", "nexmark.bogus": "1"}); err == nil || key != "nexmark.bogus" {
		t.Fatal("unknown option accepted")
	}
	if _, key, err := ParseConfig(map[string]string{OptTableType: "bid", OptEventNum: "-3"}); err == nil || key != OptEventNum {
		t.Fatal("negative event count accepted")
	}
}

func frac(n, of int) float64 { return float64(n) / float64(of) }

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol {
		t.Errorf("%s = %.4f, want %.4f ± %.4f", what, got, want, tol)
	}
}

func TestDistributions(t *testing.T) {
	const n = 500000
	bids := gen(Bid, 2).AppendRows(nil, 0, n)
	hotAuction, hotBidder, hotChannel, chanID, size := 0, 0, 0, 0, 0
	var prices []int64
	for i, b := range bids {
		e := uint64(i/46*50 + 4 + i%46)
		if b[0].I == lastAuction(e)/HotAuctionBlock*HotAuctionBlock+FirstAuctionID {
			hotAuction++
		}
		if b[1].I == lastPerson(e)/HotBidderBlock*HotBidderBlock+1+FirstPersonID {
			hotBidder++
		}
		if b[0].I > lastAuction(e)+FirstAuctionID+AuctionIDLead || b[0].I < FirstAuctionID {
			t.Fatalf("bid %d on auction %d, beyond the lead", i, b[0].I)
		}
		p := b[2].I
		if p < 100 || p > 100000000 || p%100 != 0 {
			t.Fatalf("price %d", p)
		}
		prices = append(prices, p)
		if !strings.HasPrefix(b[3].S, "channel-") {
			hotChannel++
			if !strings.HasPrefix(b[4].S, "https://www.nexmark.com/") {
				t.Fatalf("url %q", b[4].S)
			}
		} else if strings.Contains(b[4].S, "&channel_id=") {
			chanID++
		}
		size += 32 + len(b[6].S)
	}
	// Half of the bids go to the hot auction, plus the uniform ones that
	// happen to hit it.
	near(t, "hot auction share", frac(hotAuction, len(bids)), 0.5+0.5/111, 0.01)
	near(t, "hot bidder share", frac(hotBidder, len(bids)), 0.75, 0.01)
	near(t, "hot channel share", frac(hotChannel, len(bids)), 0.5, 0.01)
	near(t, "channel_id share", frac(chanID, len(bids)-hotChannel), 0.9, 0.01)
	near(t, "bid size", float64(size)/float64(len(bids)), 100, 2)
	// Log-uniform: log10(price/100) is uniform in [0, 6].
	sort.Slice(prices, func(i, j int) bool { return prices[i] < prices[j] })
	for _, q := range []float64{0.25, 0.5, 0.75} {
		near(t, "price quantile", math.Log10(float64(prices[int(q*float64(len(prices)))])/100)/6, q, 0.01)
	}

	auctions := gen(Auction, 2).AppendRows(nil, 0, 4*n)
	cats := map[int64]int{}
	hotSeller, asize := 0, 0
	for i, a := range auctions {
		e := uint64(i/3*50 + 1 + i%3)
		cats[a[8].I]++
		if a[7].I == lastPerson(e)/HotSellerBlock*HotSellerBlock+FirstPersonID {
			hotSeller++
		}
		if a[4].I <= a[3].I {
			t.Fatalf("reserve %d not above initial bid %d", a[4].I, a[3].I)
		}
		if len(a[1].S) > 20 || len(a[2].S) > 100 {
			t.Fatalf("item %q or description too long", a[1].S)
		}
		asize += 48 + len(a[1].S) + len(a[2].S) + len(a[9].S)
	}
	for c := int64(FirstCategoryID); c < FirstCategoryID+NumCategories; c++ {
		near(t, "category share", frac(cats[c], len(auctions)), 0.2, 0.01)
	}
	if len(cats) != NumCategories {
		t.Errorf("categories %v", cats)
	}
	near(t, "hot seller share", frac(hotSeller, len(auctions)), 0.75, 0.02)
	near(t, "auction size", float64(asize)/float64(len(auctions)), 500, 5)

	persons := gen(Person, 2).AppendRows(nil, 0, 4*n)
	psize := 0
	states := map[string]bool{}
	for _, p := range persons {
		first, last, _ := strings.Cut(p[1].S, " ")
		if !contains(firstNames, first) || !contains(lastNames, last) || !contains(cities, p[4].S) {
			t.Fatalf("person %v", p)
		}
		states[p[5].S] = true
		if !strings.HasSuffix(p[2].S, ".com") || !strings.Contains(p[2].S, "@") || len(p[3].S) != 19 {
			t.Fatalf("email %q, card %q", p[2].S, p[3].S)
		}
		psize += 8 + len(p[1].S) + len(p[2].S) + len(p[3].S) + len(p[4].S) + len(p[5].S) + len(p[7].S)
	}
	if len(states) != 6 {
		t.Errorf("states %v", states)
	}
	near(t, "person size", float64(psize)/float64(len(persons)), 200, 3)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// BenchmarkGenerator measures the generator alone, in events of the whole
// stream per second (a bid source skips the other 8%).
func BenchmarkGenerator(b *testing.B) {
	for _, tc := range []struct {
		name  string
		kind  Kind
		parts int
	}{{"bid/1", Bid, 1}, {"bid/all", Bid, 0}, {"auction/1", Auction, 1}, {"person/1", Person, 1}} {
		b.Run(tc.name, func(b *testing.B) {
			g := gen(tc.kind, tc.parts)
			if tc.parts == 0 {
				g = New(Config{Kind: tc.kind})
			}
			const chunk = 4096
			rows := make([]types.Row, 0, chunk)
			b.ReportAllocs()
			b.ResetTimer()
			e := uint64(0)
			for i := 0; i < b.N; i += chunk {
				rows = g.AppendRows(rows[:0], e, e+chunk)
				e += chunk
			}
			b.ReportMetric(float64(e)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// TestRoundPow10 checks the prices' fast power against math.Pow over many
// draws and the table's edges.
func TestRoundPow10(t *testing.T) {
	n := 20_000_000
	if testing.Short() {
		n = 1_000_000
	}
	r := newRNG(0, 12345)
	check := func(x float64) {
		if got, want := roundPow10(x), math.Round(math.Pow(10, x)); got != want {
			t.Fatalf("roundPow10(%v) = %v, math.Pow rounds to %v", x, got, want)
		}
	}
	for range n {
		check(r.float() * 6)
	}
	for k := range 6 * 64 {
		x := float64(k) / 64
		check(x)
		check(math.Nextafter(x, 0))
		check(math.Nextafter(x, 6))
	}
	// The powers nearest a half, where the fallback decides.
	for m := 1.0; m < 1e6; m = math.Ceil(m*1.37) + 0.5 {
		x := math.Log10(m)
		check(x)
		check(math.Nextafter(x, 0))
		check(math.Nextafter(x, 6))
	}
}

// TestReadOptions: leaving the padding out, or making the rows in a given
// slab, changes no other value.
func TestReadOptions(t *testing.T) {
	for _, k := range []Kind{Person, Auction, Bid} {
		g := gen(k, 2)
		all := g.AppendRows(nil, 1000, 9000)
		ncols := len(Schema(k))
		need := make([]bool, ncols)
		for i := range ncols - 1 {
			need[i] = true
		}
		slab := make([]types.Value, 8000*ncols)
		some := g.Read(nil, 1000, 9000, ReadOptions{Need: need, Slab: slab})
		if len(some) != len(all) {
			t.Fatalf("%s: %d rows, want %d", k, len(some), len(all))
		}
		for i := range all {
			if &some[i][0] != &slab[i*ncols] {
				t.Fatalf("%s: row %d not made in the slab", k, i)
			}
			if !some[i][ncols-1].IsNull() {
				t.Fatalf("%s: row %d: padding made although not needed", k, i)
			}
			if !reflect.DeepEqual(all[i][:ncols-1], some[i][:ncols-1]) {
				t.Fatalf("%s: row %d: %v, want %v", k, i, some[i], all[i])
			}
		}
		// A slab too small for the rows is not used.
		small := make([]types.Value, ncols)
		if rows := g.Read(nil, 1000, 9000, ReadOptions{Slab: small}); !reflect.DeepEqual(rows, all) || &rows[0][0] == &small[0] {
			t.Fatalf("%s: read with a small slab differs", k)
		}
	}
}
