package store

import "context"

// BumpSchema marks a catalog as written by a newer hitch.
func BumpSchema(s *Store) error {
	_, err := s.db.ExecContext(context.Background(), `UPDATE meta SET value = '99' WHERE key = 'schema_version'`)
	return err
}
