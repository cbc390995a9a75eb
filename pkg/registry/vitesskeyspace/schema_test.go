package vitesskeyspace

import (
	"slices"
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
	} {
		got := splitStatements(tc.sql)
		if !slices.Equal(got, tc.want) {
			t.Errorf("splitStatements(%q) = %q, want %q", tc.sql, got, tc.want)
		}
	}
}
