package sql

import "unicode/utf8"

// CharPos converts a 0-based byte offset into text to the 1-based character
// position PostgreSQL reports in an ErrorResponse. It returns 0 (no position)
// for a negative offset and clamps offsets past the end.
func CharPos(text string, byteOff int) int32 {
	if byteOff < 0 {
		return 0
	}
	if byteOff > len(text) {
		byteOff = len(text)
	}
	return int32(utf8.RuneCountInString(text[:byteOff])) + 1
}

// byteOffset is the inverse of CharPos: the byte offset in text of the
// 1-based character position pos, or -1 when pos is 0 or negative.
func byteOffset(text string, pos int) int {
	if pos <= 0 {
		return -1
	}
	n := 1
	for i := range text {
		if n == pos {
			return i
		}
		n++
	}
	return len(text)
}
