package vitesskeyspace

import (
	"slices"
	"strings"
	"testing"
)

func TestSplitStatements(t *testing.T) {
	for _, tc := range []struct {
		sql  string
		want []string
	}{
		{"", nil},
		{" ;\n; ", nil},
		{"create table a(id int)", []string{"create table a(id int)"}},
		{"create table a(id int);\ncreate table b(id int);\n", []string{"create table a(id int)", "create table b(id int)"}},
		{"insert into a values ('x;y', \"p;q\", 'it\\'s;');", []string{"insert into a values ('x;y', \"p;q\", 'it\\'s;')"}},
		{"create table `we;ird`(id int); select 1", []string{"create table `we;ird`(id int)", "select 1"}},
		{"-- a comment; with a semicolon\ncreate table a(id int); # trailing; comment\n/* block; */ select 1;", []string{"create table a(id int)", "select 1"}},
		{"select 1--2; select 3", []string{"select 1--2", "select 3"}},
		// What a mysqldump of a view writes, and hints for MySQL and Vitess: kept, as MySQL reads them.
		{"/*!50001 CREATE ALGORITHM=UNDEFINED */\n/*!50001 VIEW `v` AS select 1 AS `a` */;\n/*!40101 SET character_set_client = @saved_cs_client */;",
			[]string{"/*!50001 CREATE ALGORITHM=UNDEFINED */\n/*!50001 VIEW `v` AS select 1 AS `a` */", "/*!40101 SET character_set_client = @saved_cs_client */"}},
		{"alter /*vt+ QUERY_TIMEOUT_MS=1000 */ table a add column b int; select /*+ MAX_EXECUTION_TIME(10) */ 1",
			[]string{"alter /*vt+ QUERY_TIMEOUT_MS=1000 */ table a add column b int", "select /*+ MAX_EXECUTION_TIME(10) */ 1"}},
		{"select 1 /* unterminated", []string{"select 1"}},
	} {
		got := splitStatements(tc.sql)
		if !slices.Equal(got, tc.want) {
			t.Errorf("splitStatements(%q) = %q, want %q", tc.sql, got, tc.want)
		}
	}
}

// FuzzSplitStatements: whatever the input, no statement is empty or has surrounding space; and
// where nothing before it quotes or comments, an executable comment survives whole.
func FuzzSplitStatements(f *testing.F) {
	for _, seed := range []string{"select 1; select 2", "/*!50001 VIEW v AS select ';' */;", "'a;b' -- c;\n", "/*vt+ X=1 */ /* y; */ `z;`"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		statements := splitStatements(sql)
		for _, statement := range statements {
			if statement == "" || strings.TrimSpace(statement) != statement {
				t.Fatalf("splitStatements(%q) gave %q", sql, statements)
			}
		}
		start := strings.Index(sql, "/*!")
		if start < 0 || strings.ContainsAny(sql[:start], "'\"`#-/*") {
			return
		}
		end := strings.Index(sql[start:], "*/")
		if end < 0 {
			return
		}
		comment := strings.TrimSpace(sql[start : start+end+2])
		if !strings.Contains(strings.Join(statements, "\n"), comment) {
			t.Fatalf("splitStatements(%q) = %q lost %q", sql, statements, comment)
		}
	})
}
