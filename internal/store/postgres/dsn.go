package postgres

import (
	"fmt"
	"net/url"

	"github.com/jackc/pgx/v5"
)

// Redacted is dsn without its password, for logs and messages. A value that
// is not a postgres:// or postgresql:// URL (pgx also takes keyword/value
// strings, which net/url reads as a path and would give back whole) or that
// does not parse is replaced whole: it may hold a password in a form this
// function does not take apart.
func Redacted(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "postgres://(unreadable URL)"
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// ConnConfig parses dsn; password, when not empty, replaces any password in
// it (the password comes from a file or the environment, never from the
// config file). Errors never quote the URL.
func ConnConfig(dsn, password string) (*pgx.ConnConfig, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("database URL %s does not parse (see the PostgreSQL connection URI format)", Redacted(dsn))
	}
	if password != "" {
		cfg.Password = password
	}
	return cfg, nil
}
