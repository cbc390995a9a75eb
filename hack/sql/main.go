// Command sql runs SQL statements against a MySQL server, such as a Vitess cluster's vtgate, and
// prints what they return. It exists because MySQL 9's command-line client, the one this machine
// has, cannot log in to vtgate: vtgate offers only mysql_native_password, which that client
// dropped.
//
//	go run ./hack/sql -addr 10.96.12.34:3306 -db commerce 'SHOW TABLES' 'SELECT * FROM product'
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"log"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/go-sql-driver/mysql"
)

func main() {
	addr := flag.String("addr", "", "host:port of the MySQL server (required)")
	user := flag.String("user", "user", "user name")
	password := flag.String("password", "", "password")
	db := flag.String("db", "", "database (for vtgate: a keyspace, optionally with @primary, @replica or @rdonly, or :shard)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: %s -addr HOST:PORT [-user U] [-password P] [-db DB] STATEMENT...\n", os.Args[0])
		flag.PrintDefaults()
	}
	flag.Parse()
	log.SetFlags(0)
	if *addr == "" || flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	config := mysql.NewConfig()
	config.Net, config.Addr, config.User, config.Passwd, config.DBName = "tcp", *addr, *user, *password, *db
	connector, err := mysql.NewConnector(config)
	if err != nil {
		log.Fatal(err)
	}
	conn := sql.OpenDB(connector)
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, statement := range flag.Args() {
		if err := run(ctx, conn, statement); err != nil {
			log.Fatalf("%s: %v", statement, err)
		}
	}
}

// run prints a statement's rows as a table, or how many rows it changed.
func run(ctx context.Context, conn *sql.DB, statement string) error {
	rows, err := conn.QueryContext(ctx, statement)
	if err != nil {
		return err
	}
	defer rows.Close()
	columns, err := rows.Columns()
	if err != nil {
		return err
	}
	if len(columns) == 0 {
		fmt.Println("OK")
		return rows.Err()
	}
	out := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(out, strings.Join(columns, "\t"))
	values := make([]sql.NullString, len(columns))
	pointers := make([]any, len(columns))
	for i := range values {
		pointers[i] = &values[i]
	}
	count := 0
	for rows.Next() {
		if err := rows.Scan(pointers...); err != nil {
			return err
		}
		cells := make([]string, len(values))
		for i, v := range values {
			cells[i] = "NULL"
			if v.Valid {
				cells[i] = v.String
			}
		}
		fmt.Fprintln(out, strings.Join(cells, "\t"))
		count++
	}
	if err := out.Flush(); err != nil {
		return err
	}
	fmt.Printf("(%d rows)\n", count)
	return rows.Err()
}
