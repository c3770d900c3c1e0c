package store

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"

	"github.com/hitch-hpc/hitch/elffacts"
)

// BumpSchema marks a catalog as written by a newer hitch.
func BumpSchema(s *Store) error {
	_, err := s.db.ExecContext(context.Background(), `UPDATE meta SET value = '99' WHERE key = 'schema_version'`)
	return err
}

// MakeV1 turns a fresh catalog into one written by schema 1, holding f
// as schema 1 stored facts (gzip-compressed JSON, no head).
func MakeV1(s *Store, f *elffacts.Facts) error {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := json.NewEncoder(zw).Encode(f); err != nil {
		return err
	}
	zw.Close()
	ctx := context.Background()
	for _, q := range []string{`DROP INDEX files_kind`, `ALTER TABLE objects DROP COLUMN head`, `UPDATE meta SET value = '1' WHERE key = 'schema_version'`} {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO objects(sha256, size, class, machine, type, soname, facts) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		f.SHA256, f.Size, f.Class, f.Machine, f.Type, f.Soname, buf.Bytes())
	return err
}
