package store

import (
	"strings"
	"testing"
)

// The rewrite of the store's SQLite queries for PostgreSQL: placeholders
// become $n outside literals, identifiers and comments, and each SQLite-only
// phrase the store uses becomes PostgreSQL's.
func TestPgDialect(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"positional", `SELECT a FROM t WHERE b = ? AND c > ?`, `SELECT a FROM t WHERE b = $1 AND c > $2`},
		{"numbered keep their number", `WHERE id = ?2 OR user_id = ?1 AND x = ?2`, `WHERE id = $2 OR user_id = $1 AND x = $2`},
		{"literals, identifiers and comments untouched", `SELECT '?', "a?" -- why?
			FROM t /* ? */ WHERE x = ?`, `SELECT '?', "a?" -- why?
			FROM t /* ? */ WHERE x = $1`},
		{"doubled quote stays inside the literal", `SELECT 'it''s ?' WHERE y = ?`, `SELECT 'it''s ?' WHERE y = $1`},
		{"is_active read as a boolean", `SELECT coalesce(u.is_active = 1, 0) FROM users u`, `SELECT coalesce(u.is_active, false) FROM users u`},
		{"odd-value columns of userSelect", `SELECT CASE WHEN typeof(u.artist_id) = 'integer' THEN u.artist_id END, typeof(u.artist_id) NOT IN ('integer', 'null'),
	coalesce(u.is_active = 1, 0), coalesce(u.is_active IN (0, 1), 0)`, `SELECT u.artist_id, false,
	coalesce(u.is_active, false), true`},
		{"case-insensitive equality", `WHERE username = ? COLLATE NOCASE AND id != ?`, `WHERE lower(username) = lower($1) AND id != $2`},
		{"trimmed case-insensitive equality", "WHERE trim(u.username, ' \t') = ? COLLATE NOCASE", "WHERE lower(btrim(u.username, ' \t')) = lower($1)"},
		{"trimmed of spaces, case-insensitive", `WHERE trim(u.email) = ? COLLATE NOCASE LIMIT 2`, `WHERE lower(btrim(u.email)) = lower($1) LIMIT 2`},
		{"group_concat", `SELECT group_concat(a.scope, ' ')`, `SELECT string_agg(a.scope, ' ')`},
		{"instr", `WHERE instr(lower(name), ?) > 0`, `WHERE strpos(lower(name), $1) > 0`},
		{"scalar max", `SELECT generation, max(coalesce(a, 0), coalesce(b, 0)) FROM g`, `SELECT generation, greatest(coalesce(a, 0), coalesce(b, 0)) FROM g`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := rebindQuery(pgDialect(tc.in)); got != tc.want {
				t.Errorf("rewrite\n  %s\n= %s\nwant %s", tc.in, got, tc.want)
			}
		})
	}
	// Named arguments (Prune's @cut, used twice) become their positions.
	got := rebindNamed(`DELETE FROM t WHERE a < @cut AND b < @cut AND c = @now AND d = '@cut'`, map[string]int{"cut": 1, "now": 2})
	if want := `DELETE FROM t WHERE a < $1 AND b < $1 AND c = $2 AND d = '@cut'`; got != want {
		t.Errorf("rebindNamed = %s, want %s", got, want)
	}
	// Every replacer is exercised above.
	for _, r := range pgReplacers {
		seen := false
		for _, tc := range tests {
			seen = seen || r.re.MatchString(tc.in)
		}
		if !seen {
			t.Errorf("replacer %s has no case here", r.re)
		}
	}
	if strings.Contains(rebindQuery(`SELECT 1`), "$") {
		t.Error("a query without placeholders changed")
	}
}
