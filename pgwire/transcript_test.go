package pgwire

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgproto3"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected output of the data-driven testdata files")

// TestProtocolTranscripts replays testdata/protocol/*.txt: each file is one
// connection; each case sends frontend messages and lists the backend
// messages that come back. Format:
//
//	# comment
//	send [until=<MessageType>]
//	<Type> [<json> | <text for Query, Go-quoted string for CopyData>]
//	...
//	----
//	<one line per backend message>
//
// "raw" instead of "send" takes hex bytes to write as is. Output is read
// until ReadyForQuery (or the until type), "<closed>" or "<timeout>". Run
// with -rewrite to regenerate the expected output and review the diff.
func TestProtocolTranscripts(t *testing.T) {
	files, err := filepath.Glob("testdata/protocol/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			runTranscript(t, file)
		})
	}
}

type transcriptCase struct {
	comments []string
	cmd      string
	input    []string
	want     []string
}

func readTranscript(t *testing.T, file string) []*transcriptCase {
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []*transcriptCase
	var cur *transcriptCase
	var comments []string
	inOutput := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case cur == nil && (strings.HasPrefix(line, "#") || strings.TrimSpace(line) == ""):
			comments = append(comments, line)
		case cur == nil:
			cur = &transcriptCase{comments: comments, cmd: line}
			comments = nil
		case !inOutput && line == "----":
			inOutput = true
		case !inOutput:
			cur.input = append(cur.input, line)
		case strings.TrimSpace(line) == "":
			cases = append(cases, cur)
			cur, inOutput = nil, false
			comments = append(comments, line)
		default:
			cur.want = append(cur.want, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if cur != nil {
		cases = append(cases, cur)
	}
	// Trailing blank lines belong to the separator, not to a comment.
	for len(comments) > 0 && strings.TrimSpace(comments[len(comments)-1]) == "" {
		comments = comments[:len(comments)-1]
	}
	if len(comments) > 0 {
		cases = append(cases, &transcriptCase{comments: comments})
	}
	return cases
}

func runTranscript(t *testing.T, file string) {
	ts := startServer(t, Config{MaxMessageSize: 4096})
	c := ts.startRaw(t)
	runDataFile(t, file, func(tc *transcriptCase) []string {
		return runTranscriptCase(t, c, tc)
	})
}

// runDataFile runs every case of a data-driven file through run and compares
// (or, with -rewrite, replaces) the expected output.
func runDataFile(t *testing.T, file string, run func(*transcriptCase) []string) {
	cases := readTranscript(t, file)
	var out strings.Builder
	for _, tc := range cases {
		for _, l := range tc.comments {
			out.WriteString(l + "\n")
		}
		if tc.cmd == "" {
			continue
		}
		got := run(tc)
		out.WriteString(tc.cmd + "\n")
		for _, l := range tc.input {
			out.WriteString(l + "\n")
		}
		out.WriteString("----\n")
		for _, l := range got {
			out.WriteString(l + "\n")
		}
		if !*rewrite && !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %s %q:\ngot:\n  %s\nwant:\n  %s", file, tc.cmd, tc.input,
				strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
		}
	}
	if *rewrite {
		if err := os.WriteFile(file, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func runTranscriptCase(t *testing.T, c *rawClient, tc *transcriptCase) []string {
	fields := strings.Fields(tc.cmd)
	until := "ReadyForQuery"
	for _, a := range fields[1:] {
		if v, ok := strings.CutPrefix(a, "until="); ok {
			until = v
		}
	}
	switch fields[0] {
	case "send":
		for _, l := range tc.input {
			c.fe.Send(parseFrontend(t, l))
		}
		if err := c.fe.Flush(); err != nil {
			return []string{"<send failed>"}
		}
	case "raw":
		b, err := hex.DecodeString(strings.ReplaceAll(strings.Join(tc.input, ""), " ", ""))
		if err != nil {
			t.Fatalf("raw: %v", err)
		}
		if _, err := c.nc.Write(b); err != nil {
			return []string{"<send failed>"}
		}
	default:
		t.Fatalf("unknown command %q", tc.cmd)
	}
	return c.readUntil(until)
}

// parseFrontend builds a frontend message from "Type [json]".
func parseFrontend(t *testing.T, line string) pgproto3.FrontendMessage {
	typ, arg, _ := strings.Cut(line, " ")
	var msg pgproto3.FrontendMessage
	switch typ {
	case "Query":
		if !strings.HasPrefix(arg, "{") {
			return &pgproto3.Query{String: arg}
		}
		msg = &pgproto3.Query{}
	case "CopyData":
		s, err := strconv.Unquote(arg)
		if err != nil {
			t.Fatalf("CopyData wants a Go-quoted string: %v", err)
		}
		return &pgproto3.CopyData{Data: []byte(s)}
	case "Parse":
		msg = &pgproto3.Parse{}
	case "Bind":
		msg = &pgproto3.Bind{}
	case "Describe":
		msg = &pgproto3.Describe{}
	case "Execute":
		msg = &pgproto3.Execute{}
	case "Close":
		msg = &pgproto3.Close{}
	case "Sync":
		return &pgproto3.Sync{}
	case "Flush":
		return &pgproto3.Flush{}
	case "CopyDone":
		return &pgproto3.CopyDone{}
	case "CopyFail":
		msg = &pgproto3.CopyFail{}
	case "Terminate":
		return &pgproto3.Terminate{}
	default:
		t.Fatalf("unknown frontend message %q", typ)
	}
	if arg != "" {
		if err := json.Unmarshal([]byte(arg), msg); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
	}
	return msg
}

func msgType(msg pgproto3.BackendMessage) string {
	return reflect.TypeOf(msg).Elem().Name()
}

// formatBackend renders a backend message on one line.
func formatBackend(msg pgproto3.BackendMessage) string {
	switch m := msg.(type) {
	case *pgproto3.DataRow:
		vals := make([]string, len(m.Values))
		for i, v := range m.Values {
			vals[i] = formatValue(v)
		}
		return "DataRow " + strings.Join(vals, " | ")
	case *pgproto3.RowDescription:
		cols := make([]string, len(m.Fields))
		for i, f := range m.Fields {
			cols[i] = fmt.Sprintf("%s:%d:%d", f.Name, f.DataTypeOID, f.Format)
		}
		return "RowDescription " + strings.Join(cols, " ")
	case *pgproto3.ParameterDescription:
		return fmt.Sprintf("ParameterDescription %v", m.ParameterOIDs)
	case *pgproto3.CommandComplete:
		return "CommandComplete " + string(m.CommandTag)
	case *pgproto3.ReadyForQuery:
		return "ReadyForQuery " + string(m.TxStatus)
	case *pgproto3.ErrorResponse:
		s := fmt.Sprintf("ErrorResponse %s %s %q", m.Severity, m.Code, m.Message)
		if m.Position != 0 {
			s += fmt.Sprintf(" position=%d", m.Position)
		}
		return s
	case *pgproto3.NoticeResponse:
		return fmt.Sprintf("NoticeResponse %s %s %q", m.Severity, m.Code, m.Message)
	case *pgproto3.ParameterStatus:
		return fmt.Sprintf("ParameterStatus %s=%s", m.Name, m.Value)
	case *pgproto3.CopyData:
		return "CopyData " + strconv.Quote(string(m.Data))
	case *pgproto3.CopyInResponse:
		return fmt.Sprintf("CopyInResponse %d %v", m.OverallFormat, m.ColumnFormatCodes)
	case *pgproto3.CopyOutResponse:
		return fmt.Sprintf("CopyOutResponse %d %v", m.OverallFormat, m.ColumnFormatCodes)
	case *pgproto3.BackendKeyData:
		return "BackendKeyData"
	case *pgproto3.NegotiateProtocolVersion:
		return fmt.Sprintf("NegotiateProtocolVersion %d %v", m.NewestMinorProtocol, m.UnrecognizedOptions)
	}
	return msgType(msg)
}

func formatValue(v []byte) string {
	if v == nil {
		return "NULL"
	}
	for _, b := range v {
		if b < 0x20 || b == 0x7f {
			return `\x` + hex.EncodeToString(v)
		}
	}
	if !utf8.Valid(v) {
		return `\x` + hex.EncodeToString(v)
	}
	return string(v)
}
