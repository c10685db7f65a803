package main

import "testing"

func TestParseDD(t *testing.T) {
	out := "256+0 records in\n256+0 records out\n268435456 bytes (268 MB, 256 MiB) copied, 1.23456 s, 217 MB/s\n"
	r, err := parseDD(out)
	if err != nil {
		t.Fatal(err)
	}
	if r.bytes != 268435456 || r.seconds != 1.23456 {
		t.Fatalf("parsed %+v", r)
	}
	if _, err := parseDD("dd: error"); err == nil {
		t.Fatal("parsed garbage")
	}
}
