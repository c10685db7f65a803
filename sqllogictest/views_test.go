package sqllogictest

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// fakeSession answers a fixed set of queries, each with one integer column,
// and implements materialized views over them: a view returns its query's
// rows in reverse order, except that a view of "SELECT lossy" loses a row.
type fakeSession struct {
	answers map[string][]string
	views   map[string]string
}

var createView = regexp.MustCompile(`^CREATE MATERIALIZED VIEW (\w+)(?: \([^)]*\))? AS (.*)$`)

func (s *fakeSession) exec(_ context.Context, sql string) (resultSet, error) {
	rows := func(values []string) resultSet {
		rs := resultSet{names: []string{"x"}, oids: []uint32{20}}
		for _, v := range values {
			rs.rows = append(rs.rows, [][]byte{[]byte(v)})
		}
		return rs
	}
	if m := createView.FindStringSubmatch(sql); m != nil {
		if _, ok := s.answers[m[2]]; !ok {
			return resultSet{}, errors.New("no such query: " + m[2])
		}
		s.views[m[1]] = m[2]
		return resultSet{}, nil
	}
	if name, ok := strings.CutPrefix(sql, "SELECT * FROM "); ok {
		q := s.views[name]
		values := slices.Clone(s.answers[q])
		slices.Reverse(values)
		if q == "SELECT lossy" {
			values = values[1:]
		}
		return rows(values), nil
	}
	if name, ok := strings.CutPrefix(sql, "DROP MATERIALIZED VIEW "); ok {
		delete(s.views, name)
		return resultSet{}, nil
	}
	values, ok := s.answers[sql]
	if !ok {
		return resultSet{}, errors.New("no such query: " + sql)
	}
	return rows(values), nil
}

func (s *fakeSession) broken() bool                { return false }
func (s *fakeSession) inTransaction() bool         { return false }
func (s *fakeSession) close(context.Context) error { return nil }

func TestViews(t *testing.T) {
	s := &fakeSession{
		answers: map[string][]string{
			"SELECT good":  {"1", "2", "3"},
			"SELECT lossy": {"1", "2", "3"},
			"SHOW good":    {"7"},
		},
		views: map[string]string{},
	}
	r := &Runner{
		AsMaterializedViews: true,
		dial:                func(context.Context, string) (session, error) { return s, nil },
	}
	res, err := r.RunFile(context.Background(), "testdata/views.slt")
	if err != nil {
		t.Fatal(err)
	}
	if want := (Result{Records: 5, Passed: 4, Failed: 1, MVPassed: 2, MVFailed: 2}); !equalCounts(res, want) {
		t.Errorf("got %+v, want %+v", res, want)
	}
	var got []string
	for _, f := range res.Failures {
		got = append(got, strings.SplitN(f.String(), "\n", 2)[0])
	}
	want := []string{
		"testdata/views.slt:19: results differ",
		"testdata/views.slt:19: view has the ad hoc query's rows, which do not match the expected nosort hash (as a materialized view)",
		"testdata/views.slt:25: results differ (as a materialized view)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("failures:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(s.views) != 0 {
		t.Errorf("views left behind: %v", s.views)
	}
}
