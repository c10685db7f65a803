package exec

import (
	"fmt"
	"hash/maphash"
	"testing"
)

func TestKeyFilterHasEveryKeyAdded(t *testing.T) {
	f := newKeyFilter(10000, maphash.MakeSeed())
	for i := range 10000 {
		f.add(fmt.Sprintf("key%d", i))
	}
	for i := range 10000 {
		if !f.has([]byte(fmt.Sprintf("key%d", i))) {
			t.Fatalf("key%d added but not found", i)
		}
	}
	fp := 0
	for i := range 100000 {
		if f.has([]byte(fmt.Sprintf("other%d", i))) {
			fp++
		}
	}
	if fp > 1000 { // 1 %
		t.Errorf("%d false positives in 100000", fp)
	}
}
