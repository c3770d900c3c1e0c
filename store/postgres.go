package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // the database/sql driver "pgx"
)

// openPostgres opens a shared catalog in PostgreSQL. Many hitch scan
// processes may write to it at once: objects are upserted in one order,
// and transactions that lose a race are retried (Put).
func openPostgres(ctx context.Context, target string) (*Store, error) {
	shown := redact(target)
	db, err := sql.Open("pgx", target)
	if err != nil {
		return nil, fmt.Errorf("opening catalog %s: %w", shown, err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("opening catalog %s: %w", shown, err)
	}
	s := &Store{db: db, path: shown, d: postgresDialect}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("opening catalog %s: %w", shown, err)
	}
	return s, nil
}

// redact drops a password from a URL shown in errors.
func redact(target string) string {
	u, err := url.Parse(target)
	if err != nil || u.User == nil {
		return target
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// retryable reports whether a transaction failed only because another
// one won a race: a serialization failure, a deadlock, or a unique key
// taken meanwhile (two scans of one new system).
func retryable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "40001", "40P01", "23505":
			return true
		}
	}
	return false
}
