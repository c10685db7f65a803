package expr

import "github.com/kappa-db/kappa/types"

// The session's identity. Volatile, so that a cached plan never freezes the
// role a statement first ran as (SET ROLE changes it without re-planning).
// A materialized view's dataflow has no session: the planner refuses them
// there (and they would be NULL).
func init() {
	user := func(get func(*EvalContext) string) func(*EvalContext) (types.Value, error) {
		return func(ctx *EvalContext) (types.Value, error) {
			if ctx == nil || get(ctx) == "" {
				return types.Null, nil
			}
			return types.NewText(get(ctx)), nil
		}
	}
	addFunc0("current_user", types.Name, user(func(c *EvalContext) string { return c.User })).Volatile = true
	addFunc0("session_user", types.Name, user(func(c *EvalContext) string { return c.SessionUser })).Volatile = true
}
