package engine

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/pgwire"
)

// errStatementTimeout is the cause of a statement's context when
// statement_timeout ends it.
var errStatementTimeout = errors.New("statement timeout")

// withTimeout bounds ctx by the session's statement_timeout (none if 0).
func (s *Session) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if s.stmtTimeout <= 0 {
		return ctx, nil
	}
	return context.WithTimeoutCause(ctx, s.stmtTimeout, errStatementTimeout)
}

// timeoutError turns the cancellation a statement_timeout caused into
// PostgreSQL's error for it; other errors pass unchanged.
func timeoutError(ctx context.Context, err error) error {
	if context.Cause(ctx) != errStatementTimeout {
		return err
	}
	var pe *pgerr.Error
	if errors.As(err, &pe) && pe.Code != pgerr.QueryCanceled {
		return err
	}
	if pe == nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
		return err
	}
	return pgerr.New(pgerr.QueryCanceled, "canceling statement due to statement timeout")
}

// msUnits are the units of a time setting, largest first, in milliseconds.
var msUnits = []struct {
	name string
	ms   int64
}{{"d", 86_400_000}, {"h", 3_600_000}, {"min", 60_000}, {"s", 1000}, {"ms", 1}}

// parseMillis parses a time setting given in milliseconds by default
// ("100", "100ms", "2s", "1min", "1h", "1d"; "us" rounds) and returns it
// in milliseconds.
func parseMillis(name, value string) (int64, error) {
	bad := func() error {
		return pgerr.New(pgerr.InvalidParameterValue, "invalid value for parameter %q: %q", name, value)
	}
	v := strings.TrimSpace(value)
	i := 0
	for i < len(v) && (v[i] >= '0' && v[i] <= '9' || v[i] == '.' || (i == 0 && (v[i] == '-' || v[i] == '+'))) {
		i++
	}
	num, unit := v[:i], strings.TrimSpace(v[i:])
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, bad()
	}
	mult := 0.0
	switch unit {
	case "", "ms":
		mult = 1
	case "us":
		mult = 0.001
	case "s":
		mult = 1000
	case "min":
		mult = 60_000
	case "h":
		mult = 3_600_000
	case "d":
		mult = 86_400_000
	default:
		return 0, pgerr.New(pgerr.InvalidParameterValue, "invalid value for parameter %q: %q", name, value).
			WithHint(`Valid units for this parameter are "us", "ms", "s", "min", "h", and "d".`)
	}
	ms := f * mult
	if ms < 0 || ms > 2147483647 {
		return 0, pgerr.New(pgerr.InvalidParameterValue, "%s is outside the valid range for parameter %q (0 .. 2147483647)", strings.TrimSpace(value), name)
	}
	if ms > 0 && ms < 1 {
		ms = 1 // PostgreSQL rounds a nonzero value up to the unit
	}
	return int64(ms + 0.5), nil
}

// formatMillis prints milliseconds as SHOW does: in the largest unit that
// divides them.
func formatMillis(ms int64) string {
	if ms == 0 {
		return "0"
	}
	for _, u := range msUnits {
		if ms%u.ms == 0 {
			return strconv.FormatInt(ms/u.ms, 10) + u.name
		}
	}
	return strconv.FormatInt(ms, 10) + "ms"
}

// resetSettings is RESET ALL: every changeable setting back to its default,
// reported to the client when it changed and is reported (w may be nil).
func (s *Session) resetSettings(w pgwire.ResultWriter) {
	for k, v := range settings {
		def := s.defaultSetting(k)
		if v.fixed || s.settings[k] == def {
			continue
		}
		_ = s.set(k, def) // the defaults are valid
		if v.report && w != nil {
			w.SetParameter(v.name, def)
		}
	}
	for k := range s.placeholders {
		s.settings[k] = ""
	}
}

// ParseMemory parses a memory size as query_memory takes it ("512MB",
// "1GB", a bare number in kB, -1 for no bound) and returns bytes (-1: no
// bound).
func ParseMemory(value string) (int64, error) { return parseBytes("query_memory", value) }

// parseBytes parses a memory setting as PostgreSQL does (a bare number is
// kB; units B, kB, MB, GB, TB), -1 meaning no bound, and returns bytes.
func parseBytes(name, value string) (int64, error) {
	v := strings.TrimSpace(value)
	if v == "-1" {
		return -1, nil
	}
	i := 0
	for i < len(v) && v[i] >= '0' && v[i] <= '9' {
		i++
	}
	n, err := strconv.ParseInt(v[:i], 10, 64)
	if err != nil {
		return 0, pgerr.New(pgerr.InvalidParameterValue, "invalid value for parameter %q: %q", name, value)
	}
	var unit int64
	switch strings.TrimSpace(v[i:]) {
	case "B":
		unit = 1
	case "", "kB":
		unit = 1 << 10
	case "MB":
		unit = 1 << 20
	case "GB":
		unit = 1 << 30
	case "TB":
		unit = 1 << 40
	default:
		return 0, pgerr.New(pgerr.InvalidParameterValue, "invalid value for parameter %q: %q", name, value).
			WithHint(`Valid units for this parameter are "B", "kB", "MB", "GB", and "TB".`)
	}
	if n > (1<<62)/unit {
		return 0, pgerr.New(pgerr.InvalidParameterValue, "%s is outside the valid range for parameter %q", v, name)
	}
	return n * unit, nil
}
