// Package store is hitch's ABI catalog: the systems it has scanned
// (images and hosts), their file trees as far as the loader needs them
// (ELF objects, symbolic links, directories, the loader's configuration
// files) and the facts of every object, stored once per SHA-256 however
// many systems hold it. SQL stays inside this package.
//
// Two engines hold one schema: SQLite (modernc.org/sqlite: pure Go, no
// server), a file, by default $XDG_DATA_HOME/hitch/hitch.db; and
// PostgreSQL (pgx) for a catalog many scanners share, named by a
// postgres:// URL. The schema is versioned and migrated when the catalog
// is opened; a catalog written by a newer hitch is refused rather than
// misread. Writes are one transaction per system, retried when they lose
// a race with another writer.
package store

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hitch-hpc/hitch/elffacts"
	"github.com/klauspost/compress/zstd"

	_ "modernc.org/sqlite" // the database/sql driver "sqlite"
)

// SchemaVersion is the catalog schema this hitch writes.
const SchemaVersion = 3

// ErrNewerSchema is returned for a catalog written by a newer hitch.
var ErrNewerSchema = errors.New("the catalog was written by a newer hitch")

// ErrNameTaken is returned when a name already catalogs another system.
var ErrNameTaken = errors.New("the name is taken")

// ErrNotFound is returned for a system or object the catalog lacks.
var ErrNotFound = errors.New("not in the catalog")

// Store is an open catalog. It is safe for concurrent use.
type Store struct {
	db   *sql.DB
	path string
	d    *dialect

	// stmts holds the prepared lookups of objects, made on first use:
	// a matrix asks thousands of them, and compiling each is most of
	// their cost.
	stmtMu sync.Mutex
	stmts  map[string]*sql.Stmt
}

// dialect is what differs between the engines: the schema's DDL, how to
// tell whether a schema exists, how to serialise migrations.
type dialect struct {
	name       string
	migrations []string
	hasMeta    string // query: 1 when the meta table exists
	lock       string // statement run first in a migration transaction
}

// DefaultPath is the catalog used when none is named.
func DefaultPath() (string, error) {
	dir := os.Getenv("XDG_DATA_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(home, ".local", "share")
	}
	return filepath.Join(dir, "hitch", "hitch.db"), nil
}

// Open opens the catalog named by target and brings its schema up to
// date: a PostgreSQL URL (postgres://…), or the path of an SQLite file,
// created if needed.
func Open(ctx context.Context, target string) (*Store, error) {
	if strings.HasPrefix(target, "postgres://") || strings.HasPrefix(target, "postgresql://") {
		return openPostgres(ctx, target)
	}
	if strings.Contains(target, "://") {
		return nil, fmt.Errorf("catalog %q: want a PostgreSQL URL (postgres://…) or an SQLite file path", target)
	}
	path := target
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	// WAL lets readers work while a scan writes; the busy timeout lets
	// two scans share a file, and immediate transactions take the write
	// lock when they begin, so a second writer waits rather than failing
	// to upgrade a read lock.
	dsn := "file:" + path + "?_pragma=busy_timeout(30000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_pragma=mmap_size(1073741824)&_pragma=cache_size(-32768)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("opening catalog %s: %w", path, err)
	}
	s := &Store{db: db, path: path, d: sqliteDialect}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("opening catalog %s: %w", path, err)
	}
	return s, nil
}

// OpenSQLiteDB makes a catalog of an SQLite database opened by the
// caller through any database/sql driver (a cgo build may prefer
// mattn/go-sqlite3), and brings its schema up to date. The caller sets
// the driver's options: WAL, a busy timeout, foreign keys and immediate
// transactions, as Open does. Closing the Store closes db.
func OpenSQLiteDB(ctx context.Context, db *sql.DB) (*Store, error) {
	s := &Store{db: db, d: sqliteDialect}
	if err := s.migrate(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Close closes the catalog.
func (s *Store) Close() error {
	s.stmtMu.Lock()
	for _, st := range s.stmts {
		st.Close()
	}
	s.stmts = nil
	s.stmtMu.Unlock()
	return s.db.Close()
}

// sqliteDialect: migrations[i] brings the schema from version i to i+1.
var sqliteDialect = &dialect{
	name: "sqlite",
	migrations: []string{
		`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
	CREATE TABLE objects (
		id INTEGER PRIMARY KEY,
		sha256 TEXT NOT NULL UNIQUE,
		size INTEGER NOT NULL,
		class TEXT NOT NULL,
		machine TEXT NOT NULL,
		type TEXT NOT NULL,
		soname TEXT NOT NULL,
		facts BLOB NOT NULL -- the Facts as gzip-compressed JSON (schema 2: gob)
	);
	CREATE INDEX objects_soname ON objects(soname);
	CREATE TABLE object_symbols (
		object_id INTEGER NOT NULL REFERENCES objects(id),
		name TEXT NOT NULL,
		version TEXT NOT NULL,
		defined INTEGER NOT NULL,
		PRIMARY KEY (object_id, name, version, defined)
	) WITHOUT ROWID;
	CREATE INDEX object_symbols_name ON object_symbols(name, version);
	CREATE TABLE object_versions (
		object_id INTEGER NOT NULL REFERENCES objects(id),
		name TEXT NOT NULL,
		need_from TEXT NOT NULL,
		PRIMARY KEY (object_id, name, need_from)
	) WITHOUT ROWID;
	CREATE INDEX object_versions_name ON object_versions(name);
	CREATE TABLE systems (
		id INTEGER PRIMARY KEY,
		name TEXT NOT NULL UNIQUE,
		role TEXT NOT NULL CHECK (role IN ('image', 'host')),
		ref TEXT NOT NULL,
		kind TEXT NOT NULL,
		digest TEXT NOT NULL,
		tree TEXT NOT NULL,
		arch TEXT NOT NULL,
		os_release TEXT NOT NULL,
		config TEXT NOT NULL,
		scanned_at TEXT NOT NULL
	);
	CREATE TABLE files (
		system_id INTEGER NOT NULL REFERENCES systems(id) ON DELETE CASCADE,
		path TEXT NOT NULL,
		kind TEXT NOT NULL CHECK (kind IN ('dir', 'link', 'elf', 'config')),
		object_id INTEGER REFERENCES objects(id),
		target TEXT,
		content BLOB,
		package TEXT,
		PRIMARY KEY (system_id, path)
	) WITHOUT ROWID;
	CREATE INDEX files_object ON files(object_id);`,
		// 2: the facts without their symbol tables (plain JSON), for
		// load graphs; facts of new objects are stored as gzip gob.
		`ALTER TABLE objects ADD COLUMN head BLOB;`,
		// 3: a system's ELF files without reading its whole tree (a
		// catalogued tree already recreated needs only those); new
		// facts are zstd gob.
		`CREATE INDEX files_kind ON files(system_id, kind);`,
	},
	hasMeta: `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'`,
}

// postgresDialect is the same schema for PostgreSQL.
var postgresDialect = &dialect{
	name: "postgres",
	migrations: []string{
		`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
	CREATE TABLE objects (
		id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		sha256 TEXT NOT NULL UNIQUE,
		size BIGINT NOT NULL,
		class TEXT NOT NULL,
		machine TEXT NOT NULL,
		type TEXT NOT NULL,
		soname TEXT NOT NULL,
		facts BYTEA NOT NULL
	);
	CREATE INDEX objects_soname ON objects(soname);
	CREATE TABLE object_symbols (
		object_id BIGINT NOT NULL REFERENCES objects(id),
		name TEXT NOT NULL,
		version TEXT NOT NULL,
		defined SMALLINT NOT NULL,
		PRIMARY KEY (object_id, name, version, defined)
	);
	CREATE INDEX object_symbols_name ON object_symbols(name, version);
	CREATE TABLE object_versions (
		object_id BIGINT NOT NULL REFERENCES objects(id),
		name TEXT NOT NULL,
		need_from TEXT NOT NULL,
		PRIMARY KEY (object_id, name, need_from)
	);
	CREATE INDEX object_versions_name ON object_versions(name);
	CREATE TABLE systems (
		id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		name TEXT NOT NULL UNIQUE,
		role TEXT NOT NULL CHECK (role IN ('image', 'host')),
		ref TEXT NOT NULL,
		kind TEXT NOT NULL,
		digest TEXT NOT NULL,
		tree TEXT NOT NULL,
		arch TEXT NOT NULL,
		os_release TEXT NOT NULL,
		config TEXT NOT NULL,
		scanned_at TEXT NOT NULL
	);
	CREATE TABLE files (
		system_id BIGINT NOT NULL REFERENCES systems(id) ON DELETE CASCADE,
		path TEXT NOT NULL,
		kind TEXT NOT NULL CHECK (kind IN ('dir', 'link', 'elf', 'config')),
		object_id BIGINT REFERENCES objects(id),
		target TEXT,
		content BYTEA,
		package TEXT,
		PRIMARY KEY (system_id, path)
	);
	CREATE INDEX files_object ON files(object_id);`,
		`ALTER TABLE objects ADD COLUMN head BYTEA;`,
		`CREATE INDEX files_kind ON files(system_id, kind);`,
	},
	hasMeta: `SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'meta'`,
	// Many scans may open a fresh catalog at once: one migrates.
	lock: `SELECT pg_advisory_xact_lock(7466557)`,
}

func (s *Store) migrate(ctx context.Context) error {
	for {
		done, err := s.migrateStep(ctx)
		if err != nil || done {
			return err
		}
	}
}

// migrateStep applies the next migration, if any, in a transaction that
// reads the version itself, so concurrent openers do not both migrate.
func (s *Store) migrateStep(ctx context.Context) (done bool, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	if s.d.lock != "" {
		if _, err := tx.ExecContext(ctx, s.d.lock); err != nil {
			return false, err
		}
	}
	version := 0
	var have int
	if err := tx.QueryRowContext(ctx, s.d.hasMeta).Scan(&have); err != nil {
		return false, fmt.Errorf("reading the schema (is it a catalog?): %w", err)
	}
	if have > 0 {
		var v string
		if err := tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'schema_version'`).Scan(&v); err != nil {
			return false, fmt.Errorf("reading the schema version: %w", err)
		}
		if version, err = strconv.Atoi(v); err != nil {
			return false, fmt.Errorf("schema version %q: %w", v, err)
		}
	}
	if version > SchemaVersion {
		return false, fmt.Errorf("%w (schema %d; this hitch knows up to %d)", ErrNewerSchema, version, SchemaVersion)
	}
	if version == SchemaVersion {
		return true, nil
	}
	if _, err := tx.ExecContext(ctx, s.d.migrations[version]); err != nil {
		return false, fmt.Errorf("migrating to schema %d: %w", version+1, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO meta(key, value) VALUES ('schema_version', $1)
		ON CONFLICT(key) DO UPDATE SET value = excluded.value`, strconv.Itoa(version+1)); err != nil {
		return false, err
	}
	return false, tx.Commit()
}

// System is a scanned image or host.
type System struct {
	Name   string `json:"name"`
	Role   string `json:"role"` // "image" or "host"
	Ref    string `json:"ref"`
	Kind   string `json:"kind"`
	Digest string `json:"digest,omitempty"`
	// Tree is a digest of the scanned tree (paths, kinds, object hashes,
	// link targets, configuration contents): a rescan that finds the same
	// tree changes nothing.
	Tree      string            `json:"tree"`
	Arch      string            `json:"arch,omitempty"`
	OSRelease map[string]string `json:"os_release,omitempty"`
	// Config is the image configuration (Env, Entrypoint, …) as JSON.
	Config    json.RawMessage `json:"config,omitempty"`
	ScannedAt time.Time       `json:"scanned_at"`
	// Counts, filled by Systems.
	Files   int `json:"files"`
	Objects int `json:"objects"`
}

// File is one entry of a system's tree.
type File struct {
	Path    string `json:"path"`
	Kind    string `json:"kind"` // "dir", "link", "elf", "config"
	SHA256  string `json:"sha256,omitempty"`
	Target  string `json:"target,omitempty"`
	Content []byte `json:"content,omitempty"`
	Package string `json:"package,omitempty"`
}

// Snapshot is what a scan found in one system.
type Snapshot struct {
	System  System
	Files   []File
	Objects map[string]*elffacts.Facts // by SHA-256
	// Known marks objects whose facts came from this catalog (and may
	// lack symbols): Put does not store them again, and fails if the
	// catalog does not hold them.
	Known map[string]bool
}

// TreeDigest computes Snapshot.System.Tree from the files.
func (sn *Snapshot) TreeDigest() string {
	files := append([]File(nil), sn.Files...)
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	h := newHash()
	for _, f := range files {
		fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%d\x00", f.Path, f.Kind, f.SHA256, f.Target, len(f.Content))
		h.Write(f.Content)
	}
	return fmt.Sprintf("sha256:%x", h.Sum(nil))
}

// PutResult says what Put changed.
type PutResult struct {
	// Unchanged is set when the catalog already held this system with
	// the same tree: nothing was written.
	Unchanged bool
	// NewObjects counts objects the catalog did not know.
	NewObjects int
}

// Put stores a snapshot atomically: the system, its files and the
// objects the catalog lacks. A rescan of the same reference under the
// same name replaces the system (or writes nothing when its tree is the
// same); a name that catalogs another reference or role is refused.
func (s *Store) Put(ctx context.Context, sn *Snapshot) (PutResult, error) {
	var res PutResult
	sys := sn.System
	if sys.Tree == "" {
		sys.Tree = sn.TreeDigest()
	}
	var oldTree, oldRef, oldRole string
	err := s.db.QueryRowContext(ctx, `SELECT tree, ref, role FROM systems WHERE name = $1`, sys.Name).Scan(&oldTree, &oldRef, &oldRole)
	switch {
	case err == nil && (oldRef != sys.Ref || oldRole != sys.Role):
		return res, fmt.Errorf("%w: %q is the %s %s", ErrNameTaken, sys.Name, oldRole, oldRef)
	case err == nil && oldTree == sys.Tree:
		res.Unchanged = true
		return res, nil
	case err != nil && !errors.Is(err, sql.ErrNoRows):
		return res, err
	}
	// A transaction that loses a race with another scan (PostgreSQL) is
	// retried from the start; it writes nothing until it commits.
	for attempt := 0; ; attempt++ {
		r, err := s.putTx(ctx, sn, sys)
		if err == nil || !retryable(err) || attempt == 9 {
			return r, err
		}
		select {
		case <-ctx.Done():
			return r, ctx.Err()
		case <-time.After(time.Duration(attempt+1) * 50 * time.Millisecond):
		}
	}
}

// putTx is Put's one transaction.
func (s *Store) putTx(ctx context.Context, sn *Snapshot, sys System) (PutResult, error) {
	var res PutResult
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return res, err
	}
	defer tx.Rollback()
	shas := make([]string, 0, len(sn.Objects))
	for sha := range sn.Objects {
		shas = append(shas, sha)
	}
	sort.Strings(shas)
	insObj, err := tx.PrepareContext(ctx, `INSERT INTO objects(sha256, size, class, machine, type, soname, facts, head) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT(sha256) DO NOTHING`)
	if err != nil {
		return res, err
	}
	getID, err := tx.PrepareContext(ctx, `SELECT id FROM objects WHERE sha256 = $1`)
	if err != nil {
		return res, err
	}
	insSym := s.newBatch(tx, `INSERT INTO object_symbols(object_id, name, version, defined) VALUES `, ` ON CONFLICT DO NOTHING`, 4)
	insVer := s.newBatch(tx, `INSERT INTO object_versions(object_id, name, need_from) VALUES `, ` ON CONFLICT DO NOTHING`, 3)
	ids := make(map[string]int64, len(shas))
	for _, sha := range shas {
		f := sn.Objects[sha]
		if sn.Known[sha] {
			var id int64
			if err := getID.QueryRowContext(ctx, sha).Scan(&id); err != nil {
				return res, fmt.Errorf("object %s, known to the scan, is not in the catalog: %w", sha, err)
			}
			ids[sha] = id
			continue
		}
		b, err := compress(f)
		if err != nil {
			return res, err
		}
		hb, err := headOf(f)
		if err != nil {
			return res, err
		}
		r, err := insObj.ExecContext(ctx, sha, f.Size, f.Class, f.Machine, f.Type, f.Soname, b, hb)
		if err != nil {
			return res, fmt.Errorf("storing object %s: %w", sha, err)
		}
		var id int64
		if err := getID.QueryRowContext(ctx, sha).Scan(&id); err != nil {
			return res, err
		}
		ids[sha] = id
		if n, _ := r.RowsAffected(); n == 0 {
			continue // known: its symbols are there
		}
		res.NewObjects++
		for _, d := range f.Defined {
			if err := insSym.add(ctx, id, d.Name, d.Version, 1); err != nil {
				return res, err
			}
		}
		for _, r := range f.Required {
			if err := insSym.add(ctx, id, r.Name, r.Version, 0); err != nil {
				return res, err
			}
		}
		for _, vn := range f.VersionNeeds {
			for _, v := range vn.Versions {
				if err := insVer.add(ctx, id, v.Name, vn.File); err != nil {
					return res, err
				}
			}
		}
	}
	if err := insSym.flush(ctx); err != nil {
		return res, err
	}
	if err := insVer.flush(ctx); err != nil {
		return res, err
	}
	osr, _ := json.Marshal(sys.OSRelease)
	cfg := sys.Config
	if cfg == nil {
		cfg = json.RawMessage("{}")
	}
	if sys.ScannedAt.IsZero() {
		sys.ScannedAt = time.Now().UTC()
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM systems WHERE name = $1`, sys.Name); err != nil {
		return res, err
	}
	var id int64
	err = tx.QueryRowContext(ctx, `INSERT INTO systems(name, role, ref, kind, digest, tree, arch, os_release, config, scanned_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
		sys.Name, sys.Role, sys.Ref, sys.Kind, sys.Digest, sys.Tree, sys.Arch, string(osr), string(cfg), sys.ScannedAt.Format(time.RFC3339Nano)).Scan(&id)
	if err != nil {
		return res, fmt.Errorf("storing system %s: %w", sys.Name, err)
	}
	insFile := s.newBatch(tx, `INSERT INTO files(system_id, path, kind, object_id, target, content, package) VALUES `, ``, 7)
	for _, f := range sn.Files {
		var obj any
		if f.SHA256 != "" {
			oid, ok := ids[f.SHA256]
			if !ok {
				return res, fmt.Errorf("%s of %s: object %s is not in the snapshot", f.Path, sys.Name, f.SHA256)
			}
			obj = oid
		}
		if err := insFile.add(ctx, id, f.Path, f.Kind, obj, nullable(f.Target), f.Content, nullable(f.Package)); err != nil {
			return res, fmt.Errorf("storing the files of %s: %w", sys.Name, err)
		}
	}
	if err := insFile.flush(ctx); err != nil {
		return res, fmt.Errorf("storing the files of %s: %w", sys.Name, err)
	}
	return res, tx.Commit()
}

// batch sends the rows of one INSERT: on PostgreSQL many to a statement
// (a statement per row is a round trip per row); on SQLite, in process,
// one prepared statement per row is faster than compiling long ones.
type batch struct {
	tx         *sql.Tx
	head, tail string
	cols, rows int
	max        int // rows per statement
	args       []any
	one        *sql.Stmt // the one-row statement, when max is 1
}

// batchRows bounds the rows of one PostgreSQL statement (and so its
// parameters, well under the limit of 65,535).
const batchRows = 500

func (s *Store) newBatch(tx *sql.Tx, head, tail string, cols int) *batch {
	b := &batch{tx: tx, head: head, tail: tail, cols: cols, max: batchRows}
	if s.d == sqliteDialect {
		b.max = 1
	}
	return b
}

func (b *batch) add(ctx context.Context, vals ...any) error {
	b.args = append(b.args, vals...)
	b.rows++
	if b.rows == b.max {
		return b.flush(ctx)
	}
	return nil
}

func (b *batch) flush(ctx context.Context) error {
	if b.rows == 0 {
		return nil
	}
	var err error
	switch {
	case b.max > 1:
		_, err = b.tx.ExecContext(ctx, b.query(), b.args...)
	case b.one == nil:
		if b.one, err = b.tx.PrepareContext(ctx, b.query()); err == nil {
			_, err = b.one.ExecContext(ctx, b.args...)
		}
	default:
		_, err = b.one.ExecContext(ctx, b.args...)
	}
	b.args, b.rows = b.args[:0], 0
	return err
}

// query is the INSERT for the rows held: ($1, $2, …), ($n, …), ….
func (b *batch) query() string {
	var q strings.Builder
	q.WriteString(b.head)
	n := 1
	for r := 0; r < b.rows; r++ {
		if r > 0 {
			q.WriteByte(',')
		}
		q.WriteByte('(')
		for c := 0; c < b.cols; c++ {
			if c > 0 {
				q.WriteByte(',')
			}
			fmt.Fprintf(&q, "$%d", n)
			n++
		}
		q.WriteByte(')')
	}
	q.WriteString(b.tail)
	return q.String()
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Systems lists the catalog's systems by name.
func (s *Store) Systems(ctx context.Context) ([]System, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT s.name, s.role, s.ref, s.kind, s.digest, s.tree, s.arch, s.os_release, s.config, s.scanned_at,
		(SELECT count(*) FROM files f WHERE f.system_id = s.id),
		(SELECT count(DISTINCT f.object_id) FROM files f WHERE f.system_id = s.id AND f.object_id IS NOT NULL)
		FROM systems s ORDER BY s.name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []System
	for rows.Next() {
		var sys System
		var osr, cfg, at string
		if err := rows.Scan(&sys.Name, &sys.Role, &sys.Ref, &sys.Kind, &sys.Digest, &sys.Tree, &sys.Arch, &osr, &cfg, &at, &sys.Files, &sys.Objects); err != nil {
			return nil, err
		}
		json.Unmarshal([]byte(osr), &sys.OSRelease)
		sys.Config = json.RawMessage(cfg)
		sys.ScannedAt, _ = time.Parse(time.RFC3339Nano, at)
		out = append(out, sys)
	}
	return out, rows.Err()
}

// Object returns the facts stored for a SHA-256.
func (s *Store) Object(ctx context.Context, sha string) (*elffacts.Facts, error) {
	return s.object(ctx, sha, `SELECT facts FROM objects WHERE sha256 = $1`, decompress)
}

// Has reports whether the catalog holds the object with this SHA-256.
func (s *Store) Has(ctx context.Context, sha string) (bool, error) {
	st, err := s.prepared(ctx, `SELECT count(*) FROM objects WHERE sha256 = $1`)
	if err != nil {
		return false, err
	}
	var n int
	if err := st.QueryRowContext(ctx, sha).Scan(&n); err != nil {
		return false, err
	}
	return n > 0, nil
}

// ObjectHead returns the facts stored for a SHA-256 without the symbol
// tables (Defined and Required), which are most of them: what a load
// graph needs, several times faster to decode.
func (s *Store) ObjectHead(ctx context.Context, sha string) (*elffacts.Facts, error) {
	// Objects stored under schema 1 have no head: skip their symbols.
	return s.object(ctx, sha, `SELECT coalesce(head, facts) FROM objects WHERE sha256 = $1`, decodeHead)
}

func (s *Store) object(ctx context.Context, sha, query string, decode func([]byte) (*elffacts.Facts, error)) (*elffacts.Facts, error) {
	st, err := s.prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	var b []byte
	if err := st.QueryRowContext(ctx, sha).Scan(&b); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("object %s: %w", sha, ErrNotFound)
		}
		return nil, err
	}
	f, err := decode(b)
	if err != nil {
		return nil, fmt.Errorf("object %s: %w", sha, err)
	}
	return f, nil
}

// prepared returns query prepared once per Store.
func (s *Store) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	s.stmtMu.Lock()
	defer s.stmtMu.Unlock()
	if st := s.stmts[query]; st != nil {
		return st, nil
	}
	st, err := s.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if s.stmts == nil {
		s.stmts = map[string]*sql.Stmt{}
	}
	s.stmts[query] = st
	return st, nil
}

// Heads returns the heads (facts without symbol tables) of every object
// of a system, by SHA-256: one query rather than one per object.
func (s *Store) Heads(ctx context.Context, name string) (map[string]*elffacts.Facts, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT o.sha256, coalesce(o.head, o.facts) FROM objects o
		WHERE o.id IN (SELECT f.object_id FROM files f JOIN systems s ON s.id = f.system_id WHERE s.name = $1)`, name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]*elffacts.Facts{}
	for rows.Next() {
		var sha string
		var b []byte
		if err := rows.Scan(&sha, &b); err != nil {
			return nil, err
		}
		f, err := decodeHead(b)
		if err != nil {
			return nil, fmt.Errorf("object %s: %w", sha, err)
		}
		out[sha] = f
	}
	return out, rows.Err()
}

// Files returns a system's files, by path.
func (s *Store) Files(ctx context.Context, name string) ([]File, error) {
	return s.files(ctx, name, "")
}

// Objects returns a system's ELF files, by path: what a tree already
// recreated needs.
func (s *Store) Objects(ctx context.Context, name string) ([]File, error) {
	return s.files(ctx, name, "elf")
}

func (s *Store) files(ctx context.Context, name, kind string) ([]File, error) {
	const cols = `SELECT f.path, f.kind, coalesce(o.sha256, ''), coalesce(f.target, ''), f.content, coalesce(f.package, '')
		FROM files f %s JOIN systems s ON s.id = f.system_id LEFT JOIN objects o ON o.id = f.object_id`
	var rows *sql.Rows
	var err error
	if kind == "" {
		rows, err = s.db.QueryContext(ctx, fmt.Sprintf(cols, "")+` WHERE s.name = $1 ORDER BY f.path`, name)
	} else {
		// Through the (system_id, kind) index, which SQLite without
		// statistics would pass over for the primary key: the tree's
		// 1,000 objects, not its 17,000 entries.
		hint := ""
		if s.d == sqliteDialect {
			hint = "INDEXED BY files_kind"
		}
		rows, err = s.db.QueryContext(ctx, fmt.Sprintf(cols, hint)+` WHERE s.name = $1 AND f.kind = $2 ORDER BY f.path`, name, kind)
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []File
	for rows.Next() {
		var f File
		if err := rows.Scan(&f.Path, &f.Kind, &f.SHA256, &f.Target, &f.Content, &f.Package); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		var n int
		if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM systems WHERE name = $1`, name).Scan(&n); err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, fmt.Errorf("system %q: %w", name, ErrNotFound)
		}
	}
	return out, nil
}

// Stats counts what the catalog holds.
type Stats struct {
	Systems int `json:"systems"`
	Objects int `json:"objects"`
	Files   int `json:"files"`
}

// Stats returns the catalog's counts.
func (s *Store) Stats(ctx context.Context) (Stats, error) {
	var st Stats
	err := s.db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM systems), (SELECT count(*) FROM objects), (SELECT count(*) FROM files)`).Scan(&st.Systems, &st.Objects, &st.Files)
	return st, err
}

func newHash() hash.Hash { return sha256.New() }

// compress stores facts as zstd-compressed gob (schema 2 wrote gzip,
// and schema 1 gzip-compressed JSON: both still read): symbol tables
// compress about fourfold, gob decodes several times faster than JSON,
// and zstd inflates five times faster than gzip (libc's facts: 0.09 ms
// against 0.48 ms).
func compress(f *elffacts.Facts) ([]byte, error) {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(f); err != nil {
		return nil, err
	}
	return zstdEncoder.EncodeAll(buf.Bytes(), nil), nil
}

// One zstd encoder and decoder for the process: their EncodeAll and
// DecodeAll are safe for concurrent use.
var (
	zstdEncoder, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(1))
	zstdDecoder, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(1<<30))
)

// zstdMagic starts a zstd frame.
var zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}

// headOf is the facts without their symbol tables, as plain JSON: small,
// and decoded without inflating anything.
func headOf(f *elffacts.Facts) ([]byte, error) {
	h := *f
	h.Defined, h.Required = nil, nil
	return json.Marshal(&h)
}

var gzipReaders sync.Pool

func decompress(b []byte) (*elffacts.Facts, error) {
	if bytes.HasPrefix(b, zstdMagic) {
		raw, err := zstdDecoder.DecodeAll(b, nil)
		if err != nil {
			return nil, err
		}
		f := &elffacts.Facts{}
		return f, gob.NewDecoder(bytes.NewReader(raw)).Decode(f)
	}
	zr, _ := gzipReaders.Get().(*gzip.Reader)
	var err error
	if zr == nil {
		zr, err = gzip.NewReader(bytes.NewReader(b))
	} else {
		err = zr.Reset(bytes.NewReader(b))
	}
	if err != nil {
		return nil, err
	}
	defer gzipReaders.Put(zr)
	br := bufio.NewReader(zr)
	f := &elffacts.Facts{}
	if first, err := br.Peek(1); err == nil && first[0] == '{' {
		err = json.NewDecoder(br).Decode(f)
		return f, err
	}
	return f, gob.NewDecoder(br).Decode(f)
}

// head decodes facts but for their symbol tables: its fields shadow the
// embedded ones and keep nothing.
type head struct {
	elffacts.Facts
	Defined  skipped `json:"defined"`
	Required skipped `json:"required"`
}

type skipped struct{}

func (skipped) UnmarshalJSON([]byte) error { return nil }

// decodeHead reads a head, or, for an object stored under schema 1
// without one, its full facts less the symbols.
func decodeHead(b []byte) (*elffacts.Facts, error) {
	if len(b) > 0 && b[0] == '{' {
		var h head
		if err := json.Unmarshal(b, &h); err != nil {
			return nil, err
		}
		return &h.Facts, nil
	}
	f, err := decompress(b)
	if err != nil {
		return nil, err
	}
	f.Defined, f.Required = nil, nil
	return f, nil
}
