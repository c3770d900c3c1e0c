package store

import (
	"context"
	"database/sql"
)

// BumpSchema marks a catalog as written by a newer hitch.
func BumpSchema(path string) error {
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(context.Background(), `UPDATE meta SET value = '99' WHERE key = 'schema_version'`)
	return err
}
