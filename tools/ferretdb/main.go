// Command ferretdb runs FerretDB with its SQLite backend on one TCP address,
// embedded through FerretDB's library package so that no release binary is needed.
// It is built with our patch to FerretDB's SQLite backend (see README.md beside this file).
package main

import (
	"context"
	"flag"
	"io"
	"log"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"

	// Our read-path patch decodes base64 with it; imported here so that go mod vendor copies it.
	_ "github.com/segmentio/asm/base64"
)

// sqlitePragmas are the SQLite settings of every connection. In WAL mode, synchronous=NORMAL
// syncs at checkpoints instead of at every commit: a committed write survives a crash of this
// process or of the API, and a power loss may lose the last commits before it.
//
// page_size takes effect only in a database file not yet written (given before FerretDB's
// journal_mode=wal, which writes it); older files keep their 4 KiB pages. SQLite reads each
// page of a large row (a GridFS chunk's 340 KB of JSON) with a system call of its own: 16 KiB
// pages make a quarter of them, while a small write (a file document) writes three times the
// bytes of 4 KiB pages rather than sixteen times, as 64 KiB pages did.
const sqlitePragmas = "?_pragma=synchronous(normal)&_pragma=page_size(16384)"

// gcPercent is Go's GOGC for this process unless the environment sets one. Reads of large
// files allocate several times their size while the live heap stays small, so at Go's default
// of 100 the collector ran every few megabytes and took a third of FerretDB's CPU in a read;
// the heap may now grow to three times what is live instead of two.
const gcPercent = 200

// newServer returns FerretDB on the SQLite databases of dir, listening on listen.
func newServer(listen, dir string) (*ferretdb.FerretDB, error) {
	return ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: listen},
		Logger:    slog.New(&lazyAttrsHandler{next: slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})}),
		Handler:   "sqlite",
		SQLiteURL: "file:" + dir + "/" + sqlitePragmas,
	})
}

func main() {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to listen on")
	dataDir := flag.String("data", "data", "directory for the SQLite databases")
	exitWithParent := flag.Bool("exit-on-stdin-eof", false, "stop when standard input closes, so the server never outlives the process that started it")
	flag.Parse()

	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}

	dir, err := filepath.Abs(*dataDir)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		log.Fatal(err)
	}

	server, err := newServer(*listen, dir)
	if err != nil {
		log.Fatal(err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	if *exitWithParent {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			stop()
		}()
	}

	if err := server.Run(ctx); err != nil && ctx.Err() == nil {
		log.Fatal(err)
	}
}
