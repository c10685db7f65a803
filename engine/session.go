package engine

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kappa-db/kappa/exec"
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/pgwire"
	"github.com/kappa-db/kappa/planner"
	"github.com/kappa-db/kappa/sql"
	"github.com/kappa-db/kappa/types"
)

// ServerVersion is what kappa reports as server_version: clients switch
// features on it, so it names the PostgreSQL release whose protocol and
// catalogs kappa follows.
const ServerVersion = "15.0"

// Session is one client connection.
type Session struct {
	e        *Engine
	user     string
	database string
	settings map[string]string
	// placeholders are the placeholder settings (my.x) this session has
	// set; like PostgreSQL's, they exist in the session that set them.
	placeholders map[string]setting
	// settingsSnap is the last settings snapshot handed to the planner
	// (settingsSnapshot), in settingOrder order.
	settingsSnap [][2]string
	loc          *time.Location
	// writes holds, per table log partition (its source id), the offset
	// just past this session's last
	// append: reads wait until the epoch containing it has committed.
	writes map[uint64]uint64
	// tx is 'I' idle, 'T' in a transaction block, 'E' failed block.
	tx byte
	// txn holds the uncommitted writes of the block or of the implicit
	// transaction (txn.go); nil when there are none.
	txn *txn
	// txDDL: DDL ran in the current block (ROLLBACK warns it stays).
	txDDL bool
	// id numbers the session (lock wait notices name the holder).
	id uint64
	// waitingFor is the lock the session waits for (Engine.lockMu).
	waitingFor *writeLock
	// w is the running statement's writer (lock wait notices), or nil.
	w pgwire.ResultWriter
	// authRole is the role that logged in, sessionRole the session user
	// (SET SESSION AUTHORIZATION), currentRole the role whose privileges
	// apply (SET ROLE); roleSet says SET ROLE is in effect (role.go).
	authRole, sessionRole, currentRole uint64
	roleSet                            bool
	// userName and sessionUserName are current_user and session_user.
	userName, sessionUserName string
	// cursors are the open cursors by name (cursor.go).
	cursors map[string]*cursor
	// prepared are the statements of SQL PREPARE by name (prepare.go).
	prepared map[string]*sqlPrepared
	// stmtTimeout is statement_timeout (timeout.go); 0 is none.
	stmtTimeout time.Duration
	// queryMemory is query_memory in bytes (negative: no bound).
	queryMemory int64
	// startup are the settings the client's startup packet gave (its
	// parameters and its "options"): RESET and RESET ALL return to them,
	// as in PostgreSQL.
	startup map[string]string
}

// defaultSetting is the value RESET gives setting k: the startup packet's
// value when it set one, else the server's default.
func (s *Session) defaultSetting(k string) string {
	if v, ok := s.startup[k]; ok {
		return v
	}
	if k == "query_memory" {
		m := s.e.cfg.QueryMemory
		switch {
		case m == 0:
			m = exec.DefaultQueryMemory
		case m < 0:
			return "-1"
		}
		return exec.FormatBytes(m)
	}
	if k == "max_connections" && s.e.cfg.MaxConnections > 0 {
		return strconv.Itoa(s.e.cfg.MaxConnections)
	}
	return settings[k].def
}

// setting describes a run-time parameter a session can SET and SHOW.
type setting struct {
	name   string // as SHOW prints it
	def    string
	report bool // sent as ParameterStatus
	// fixed settings cannot be changed.
	fixed bool
}

// settings are the built-in settings, keyed by lower-case name; fixed
// after init, so sessions read it without a lock.
var settings = map[string]setting{}

// settingOrder is settings' keys in the order SHOW ALL prints them.
var settingOrder = sync.OnceValue(func() []string {
	keys := make([]string, 0, len(settings))
	for k := range settings {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return settings[keys[i]].name < settings[keys[j]].name })
	return keys
})

// lookupSetting finds a built-in setting or a placeholder this session has
// set.
func (s *Session) lookupSetting(name string) (setting, bool) {
	if st, ok := settings[name]; ok {
		return st, true
	}
	st, ok := s.placeholders[name]
	return st, ok
}

func init() {
	for _, s := range []setting{
		{name: "server_version", def: ServerVersion, report: true, fixed: true},
		{name: "server_version_num", def: "150000", fixed: true},
		{name: "server_encoding", def: "UTF8", report: true, fixed: true},
		{name: "client_encoding", def: "UTF8", report: true},
		{name: "DateStyle", def: "ISO, MDY", report: true},
		{name: "IntervalStyle", def: "postgres", report: true},
		{name: "TimeZone", def: "UTC", report: true},
		{name: "integer_datetimes", def: "on", report: true, fixed: true},
		{name: "standard_conforming_strings", def: "on", report: true},
		{name: "application_name", def: "", report: true},
		{name: "is_superuser", def: "on", report: true, fixed: true},
		{name: "session_authorization", def: "kappa", report: true, fixed: true},
		{name: "search_path", def: `"$user", public`},
		{name: "extra_float_digits", def: "1"},
		{name: "statement_timeout", def: "0"},
		// query_memory's default comes from the engine (defaultSetting).
		{name: "query_memory", def: ""},
		{name: "lock_timeout", def: "0"},
		{name: "idle_in_transaction_session_timeout", def: "0"},
		{name: "client_min_messages", def: "notice"},
		{name: "transaction_isolation", def: "serializable"},
		{name: "default_transaction_isolation", def: "serializable"},
		{name: "transaction_read_only", def: "off"},
		{name: "default_transaction_read_only", def: "off"},
		{name: "bytea_output", def: "hex"},
		{name: "max_identifier_length", def: "63", fixed: true},
		// pgjdbc's getImportedKeys/getExportedKeys read it from pg_settings.
		{name: "max_index_keys", def: "32", fixed: true},
		// The server's connection limit (kappa serve --max-connections);
		// 0 when it has none. DBeaver and pgAdmin read it.
		{name: "max_connections", def: "0", fixed: true},
		{name: "jit", def: "off"},
		{name: "role", def: "none"},
		{name: "password_encryption", def: "scram-sha-256"},
	} {
		// Keyed by lower case: SET and SHOW fold the name.
		settings[strings.ToLower(s.name)] = s
	}
}

func newSession(e *Engine, p pgwire.SessionParams) *Session {
	s := &Session{e: e, user: p.User, database: p.Database, settings: map[string]string{}, loc: time.UTC, writes: map[uint64]uint64{}, tx: 'I', id: e.sessions.Add(1)}
	for k := range settings {
		s.settings[k] = s.defaultSetting(k)
	}
	_ = s.set("query_memory", s.settings["query_memory"])
	if s.user == "" {
		s.user = "kappa"
	}
	s.settings["session_authorization"] = s.user
	s.settings["application_name"] = p.ApplicationName
	startup := func(k, v string) {
		if st, ok := settings[k]; !ok || st.fixed || s.set(k, v) != nil {
			return
		}
		if s.startup == nil {
			s.startup = map[string]string{}
		}
		s.startup[k] = s.settings[k]
	}
	for k, v := range p.Options {
		startup(strings.ToLower(k), v)
	}
	for k, v := range commandLineOptions(p.Options["options"]) {
		startup(k, v)
	}
	return s
}

// commandLineOptions parses the startup parameter "options" as PostgreSQL
// does: "-c name=value" and "--name=value", separated by spaces, a
// backslash escaping the next character.
func commandLineOptions(opts string) map[string]string {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(opts); i++ {
		switch c := opts[i]; {
		case c == '\\' && i+1 < len(opts):
			i++
			cur.WriteByte(opts[i])
			inWord = true
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	out := map[string]string{}
	for i := 0; i < len(words); i++ {
		w := words[i]
		switch {
		case w == "-c" && i+1 < len(words):
			i++
			w = words[i]
		case strings.HasPrefix(w, "-c"):
			w = w[2:]
		case strings.HasPrefix(w, "--"):
			w = w[2:]
		default:
			continue
		}
		if k, v, ok := strings.Cut(w, "="); ok {
			out[strings.ToLower(strings.ReplaceAll(k, "-", "_"))] = v
		}
	}
	return out
}

// notice sends the running statement's client a notice, if it has one.
func (s *Session) notice(severity, code, msg string) {
	if s.w != nil {
		s.w.Notice(severity, code, msg)
	}
}

// set changes a setting, validating what must be valid.
func (s *Session) set(name, value string) error {
	switch name {
	case "timezone":
		loc, err := loadLocation(value)
		if err != nil {
			return pgerr.New(pgerr.InvalidParameterValue, "invalid value for parameter \"TimeZone\": %q", value)
		}
		s.loc = loc
	case "client_encoding":
		v := strings.ToUpper(strings.ReplaceAll(value, "-", ""))
		if v != "UTF8" && v != "UNICODE" {
			return pgerr.New(pgerr.FeatureNotSupported, "client_encoding %q is not supported: kappa speaks UTF8 only", value)
		}
		value = "UTF8"
	case "query_memory":
		n, err := parseBytes("query_memory", value)
		if err != nil {
			return err
		}
		s.queryMemory = n
		if n < 0 {
			value = "-1"
		} else {
			value = exec.FormatBytes(n)
		}
	case "statement_timeout":
		ms, err := parseMillis("statement_timeout", value)
		if err != nil {
			return err
		}
		s.stmtTimeout = time.Duration(ms) * time.Millisecond
		value = formatMillis(ms)
	}
	s.settings[name] = value
	return nil
}

func loadLocation(v string) (*time.Location, error) {
	switch strings.ToLower(v) {
	case "utc", "gmt", "z", "zulu", "etc/utc":
		return time.UTC, nil
	}
	return time.LoadLocation(v)
}

// ParameterStatus implements pgwire.Session.
func (s *Session) ParameterStatus() map[string]string {
	out := map[string]string{}
	for k, st := range settings {
		if st.report {
			out[st.name] = s.settings[k]
		}
	}
	return out
}

// TxStatus implements pgwire.Session.
func (s *Session) TxStatus() byte { return s.tx }

// Close implements pgwire.Session.
func (s *Session) Close() error {
	s.closeCursors(func(*cursor) bool { return true })
	s.endTxn()
	s.e.endLogin(s.authRole)
	return nil
}

// Parse implements pgwire.Session.
func (s *Session) Parse(ctx context.Context, query string) ([]pgwire.Statement, error) {
	stmts, err := sql.Parse(query)
	if err != nil {
		return nil, err
	}
	out := make([]pgwire.Statement, len(stmts))
	for i, st := range stmts {
		out[i] = &statement{s: s, ast: st, src: query}
	}
	return out, nil
}

// Prepare implements pgwire.Session.
func (s *Session) Prepare(ctx context.Context, query string, paramTypes []uint32) (pgwire.Statement, error) {
	stmts, err := sql.Parse(query)
	if err != nil {
		return nil, err
	}
	if len(stmts) > 1 {
		return nil, pgerr.New(pgerr.SyntaxError, "cannot insert multiple commands into a prepared statement")
	}
	st := &statement{s: s, src: query, paramOIDs: paramTypes}
	if len(stmts) == 1 {
		st.ast = stmts[0]
	}
	return st, nil
}

func (s *Session) showAll() [][]string {
	// Placeholders are left out, as PostgreSQL leaves them out.
	keys := settingOrder()
	rows := make([][]string, 0, len(keys))
	for _, k := range keys {
		rows = append(rows, []string{settings[k].name, s.settings[k]})
	}
	return rows
}

// settingsSnapshot returns the settings as the planner sees them. The
// snapshot is kept between statements and rebuilt only when a setting's
// value differs from it (a map lookup per setting, no allocation), so
// statements that change nothing pay no copy.
func (s *Session) settingsSnapshot() [][2]string {
	keys := settingOrder()
	if len(s.settingsSnap) == len(keys) {
		same := true
		for i, k := range keys {
			if s.settingsSnap[i][1] != s.settings[k] {
				same = false
				break
			}
		}
		if same {
			return s.settingsSnap
		}
	}
	snap := make([][2]string, len(keys))
	for i, k := range keys {
		snap[i] = [2]string{settings[k].name, s.settings[k]}
	}
	// Full capacity: a planner that appends to it gets a copy.
	s.settingsSnap = snap[:len(snap):len(snap)]
	return s.settingsSnap
}

// plannerSession is what the system catalogs show of the session.
func (s *Session) plannerSession(query string) *planner.Session {
	// User is the current role (SET ROLE changes it), as current_user.
	user := s.userName
	if user == "" {
		user = s.user
	}
	ps := &planner.Session{User: user, Database: s.database, ApplicationName: s.settings["application_name"], Query: query}
	ps.Settings = s.settingsSnapshot()
	if len(s.cursors) > 0 {
		ps.Cursors = s.cursorRows()
	}
	if len(s.prepared) > 0 {
		ps.Prepared = s.preparedRows()
	}
	for k, st := range s.placeholders {
		ps.Placeholders = append(ps.Placeholders, [2]string{st.name, s.settings[k]})
	}
	return ps
}

// paramTypes turns declared OIDs into types (zero Type: infer).
func paramTypes(oids []uint32) ([]types.Type, error) {
	out := make([]types.Type, len(oids))
	for i, o := range oids {
		if o == 0 || o == types.OidUnknown {
			continue
		}
		t, ok := types.TypeByOID(o)
		if !ok {
			return nil, pgerr.New(pgerr.UndefinedObject, "type with OID %d does not exist", o)
		}
		out[i] = t
	}
	return out, nil
}
