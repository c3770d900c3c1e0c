// Command sqlite compares two SQLite drivers on hitch's catalog workload:
// modernc.org/sqlite (pure Go, what hitch uses) and mattn/go-sqlite3
// (cgo). It scans a root filesystem once, then, for each driver and
// round, stores the snapshot into a fresh catalog (Put: objects,
// ~300,000 symbol rows, files) and reads every object back (facts, then
// heads). It lives in its own module so hitch does not depend on cgo.
//
//	cd bench/sqlite && go run . ROOTFS [ROUNDS]
package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"github.com/hitch-hpc/hitch/scan"
	"github.com/hitch-hpc/hitch/store"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: go run . ROOTFS [ROUNDS]")
		os.Exit(2)
	}
	rounds := 3
	if len(os.Args) > 2 {
		rounds, _ = strconv.Atoi(os.Args[2])
	}
	ctx := context.Background()
	sn, err := scan.Image(ctx, os.Args[1], scan.Options{Name: "bench"})
	if err != nil {
		fail(err)
	}
	rows := 0
	for _, f := range sn.Objects {
		rows += len(f.Defined) + len(f.Required)
	}
	fmt.Printf("%s: %d objects, %d symbol rows, %d files; %d CPUs\n", os.Args[1], len(sn.Objects), rows, len(sn.Files), runtime.NumCPU())
	dir, err := os.MkdirTemp("", "hitch-sqlite-")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(dir)
	open := map[string]func(path string) (*store.Store, error){
		"modernc.org/sqlite": func(path string) (*store.Store, error) { return store.Open(ctx, path) },
		"mattn/go-sqlite3": func(path string) (*store.Store, error) {
			db, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=30000&_journal_mode=WAL&_foreign_keys=1&_synchronous=NORMAL&_txlock=immediate")
			if err != nil {
				return nil, err
			}
			return store.OpenSQLiteDB(ctx, db)
		},
	}
	for _, driver := range []string{"modernc.org/sqlite", "mattn/go-sqlite3"} {
		best := [3]time.Duration{}
		for r := 0; r < rounds; r++ {
			path := filepath.Join(dir, fmt.Sprintf("%d-%d.db", len(driver), r))
			st, err := open[driver](path)
			if err != nil {
				fail(err)
			}
			t0 := time.Now()
			if _, err := st.Put(ctx, sn); err != nil {
				fail(err)
			}
			t1 := time.Now()
			for sha := range sn.Objects {
				if _, err := st.Object(ctx, sha); err != nil {
					fail(err)
				}
			}
			t2 := time.Now()
			for sha := range sn.Objects {
				if _, err := st.ObjectHead(ctx, sha); err != nil {
					fail(err)
				}
			}
			t3 := time.Now()
			st.Close()
			for i, d := range []time.Duration{t1.Sub(t0), t2.Sub(t1), t3.Sub(t2)} {
				if r == 0 || d < best[i] {
					best[i] = d
				}
			}
		}
		fmt.Printf("%-20s put %6.2f s (%4.1f s per million symbol rows)   read facts %5.2f s   read heads %5.2f s\n",
			driver, best[0].Seconds(), best[0].Seconds()/float64(rows)*1e6, best[1].Seconds(), best[2].Seconds())
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
