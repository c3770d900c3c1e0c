package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"
)

// engines returns, for each engine, a function that makes a fresh empty
// catalog target: an SQLite file, and a new database on the PostgreSQL
// server of $HITCH_TEST_POSTGRES (scripts/test-postgres.sh starts one;
// .ci/run does). Without that variable PostgreSQL is skipped, except
// under CI, where its absence fails the test.
func engines(t *testing.T) map[string]func(t *testing.T) string {
	t.Helper()
	e := map[string]func(t *testing.T) string{
		"sqlite": func(t *testing.T) string { return filepath.Join(t.TempDir(), "catalog.db") },
	}
	base := os.Getenv("HITCH_TEST_POSTGRES")
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("HITCH_TEST_POSTGRES is not set: .ci/run starts a PostgreSQL for these tests")
		}
		return e
	}
	e["postgres"] = func(t *testing.T) string { return freshDatabase(t, base) }
	return e
}

// freshDatabase creates a database for one test and drops it afterwards.
func freshDatabase(t *testing.T, base string) string {
	t.Helper()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	name := fmt.Sprintf("hitch_test_%d", rand.Uint64())
	if _, err := admin.ExecContext(context.Background(), "CREATE DATABASE "+name); err != nil {
		t.Fatalf("creating a test database: %v", err)
	}
	t.Cleanup(func() {
		admin.ExecContext(context.Background(), "DROP DATABASE "+name+" WITH (FORCE)")
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}
