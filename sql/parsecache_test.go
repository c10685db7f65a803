package sql

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// sltTexts returns the SQL texts of the statement and query records of the
// sqllogictest files.
func sltTexts(t testing.TB) []string {
	var files []string
	err := filepath.WalkDir("..", func(path string, d os.DirEntry, err error) error {
		if err == nil && (strings.HasSuffix(path, ".slt") && strings.Contains(path, "testdata/slt/") ||
			strings.Contains(path, "sql/testdata/parse/")) && !d.IsDir() {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, rec := range strings.Split(string(b), "\n\n") {
			lines := strings.Split(strings.TrimSpace(rec), "\n")
			for len(lines) > 0 && (strings.HasPrefix(lines[0], "#") || strings.HasPrefix(lines[0], "onlyif") || strings.HasPrefix(lines[0], "skipif")) {
				lines = lines[1:]
			}
			if len(lines) < 2 || !(strings.HasPrefix(lines[0], "statement") || strings.HasPrefix(lines[0], "query") ||
				strings.HasPrefix(lines[0], "parse") || strings.HasPrefix(lines[0], "error")) {
				continue
			}
			var body []string
			for _, l := range lines[1:] {
				if l == "----" {
					break
				}
				body = append(body, l)
			}
			texts = append(texts, strings.Join(body, "\n"))
		}
	}
	return texts
}

// TestParseCacheSameResult parses every sqllogictest text uncached and then
// twice from the cache: the cached parses must equal the uncached one (the
// converter must not change the shared pg_query tree or tokens).
func TestParseCacheSameResult(t *testing.T) {
	texts := sltTexts(t)
	if len(texts) < 1000 {
		t.Fatalf("only %d texts found", len(texts))
	}
	old := rawCache
	defer func() { rawCache = old }()
	rawCache = &parseCache{m: map[string]rawParse{}}
	cached := 0
	for _, text := range texts {
		want, werr := Parse(text)
		if _, ok := rawCache.get(text); ok {
			cached++
		}
		for range 2 {
			got, gerr := Parse(text)
			if (werr == nil) != (gerr == nil) || (werr != nil && werr.Error() != gerr.Error()) {
				t.Fatalf("%q: error %v, cached %v", text, werr, gerr)
			}
			if !reflect.DeepEqual(want, got) {
				t.Fatalf("%q: cached parse differs:\n%#v\n%#v", text, want, got)
			}
		}
	}
	if cached == 0 {
		t.Fatal("nothing was cached")
	}
	t.Logf("%d texts, %d cached", len(texts), cached)
}

func BenchmarkParseCache(b *testing.B) {
	const q = "SELECT k, n, total FROM kv WHERE k = 12345"
	b.Run("repeated", func(b *testing.B) {
		for b.Loop() {
			if _, err := Parse(q); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("uncached", func(b *testing.B) {
		old := rawCache
		defer func() { rawCache = old }()
		for b.Loop() {
			rawCache = &parseCache{m: map[string]rawParse{}}
			if _, err := Parse(q); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestFastScanMatchesPgQuery checks that, wherever the Go scanner takes a
// text, it produces exactly pg_query's tokens.
func TestFastScanMatchesPgQuery(t *testing.T) {
	texts := sltTexts(t)
	// Pieces that sit at the edges of what fastScan takes.
	texts = append(texts, "SELECT 2147483647, 2147483648, 00000000002147483648, 1.5, .5, 5., t.1",
		"SELECT 'a''b', \"x\"\"y\", $1, a::int, a<=b, a>=b, a<>b, a!=b, -1, +2, a%b, a^b",
		"SELECT 'a'\n'b'", "SELECT 'a' 'b'", "SELECT E'x'", "SELECT U&\"x\"", "SELECT 1e5",
		"SELECT /* a /* nested */ comment */ 1 -- tail", "SELECT a-->b\n", "SELECT 0x1F, 1_000",
		"select ABORT, Abort, \"abort\", SELECT", "SELECT $$x$$", "SELECT 'é', ré", "SELECT '",
		"SELECT \"\"", "SELECT a[1:2], b.c, (d)", "SELECT 1..2", "SELECT x := 1", "SELECT ;;")
	// Every text's substrings: cut strings, comments and operators.
	rng := rand.New(rand.NewPCG(1, 2))
	for _, text := range texts[:len(texts):len(texts)] {
		for range 3 {
			a := rng.IntN(len(text) + 1)
			b := a + rng.IntN(len(text)-a+1)
			texts = append(texts, text[a:b])
		}
	}
	took := 0
	for _, text := range texts {
		got, ok := fastScan(text)
		if !ok {
			continue
		}
		took++
		want, err := pgScanTokens(text)
		if err != nil {
			t.Fatalf("%q: fastScan took a text pg_query cannot scan: %v", text, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\nfastScan %v\npg_query %v", text, got, want)
		}
	}
	t.Logf("fastScan took %d of %d texts", took, len(texts))
	if took < len(texts)/2 {
		t.Fatalf("fastScan took only %d of %d texts", took, len(texts))
	}
}

func BenchmarkScan(b *testing.B) {
	const q = "SELECT k, n, total FROM kv WHERE k = 12345"
	b.Run("go", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := fastScan(q); !ok {
				b.Fatal("not taken")
			}
		}
	})
	b.Run("pg_query", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := pgScanTokens(q); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestParseCacheBounded fills the cache past its bounds.
func TestParseCacheBounded(t *testing.T) {
	old := rawCache
	defer func() { rawCache = old }()
	rawCache = &parseCache{m: map[string]rawParse{}}
	pad := strings.Repeat(" ", 3000)
	for i := range 3000 {
		if _, err := Parse("SELECT " + strconv.Itoa(i) + pad); err != nil {
			t.Fatal(err)
		}
	}
	n, bytes := len(rawCache.m), 0
	for k := range rawCache.m {
		bytes += len(k)
	}
	if n > rawCacheEntries || bytes > rawCacheBytes || bytes != rawCache.bytes || n == 0 {
		t.Fatalf("%d entries of %d bytes (counted %d)", n, bytes, rawCache.bytes)
	}
}
