package vitesskeyspace

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/registry"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/vtctld"
)

// schemaStatementTimeout bounds one statement's ApplySchema: a DDL on a large table takes far
// longer than a topology call, and a statement cut short goes on in MySQL. It stays under the API
// server's 60 s request timeout; past either, the answer is that the outcome is unknown (504).
const schemaStatementTimeout = 50 * time.Second

// SchemaREST serves vitesskeyspaces/<name>/schema: a VitessSchemaRequest's SQL runs on every
// shard of the keyspace, one statement at a time (vtctld's ApplySchema takes one per element).
type SchemaREST struct {
	keyspace *keyspaceVtctld
}

var _ rest.NamedCreater = &SchemaREST{}

func (r *SchemaREST) New() runtime.Object { return &vitess.VitessSchemaRequest{} }
func (r *SchemaREST) Destroy()            {}

func (r *SchemaREST) Create(ctx context.Context, name string, obj runtime.Object, createValidation rest.ValidateObjectFunc, options *metav1.CreateOptions) (runtime.Object, error) {
	if err := registry.AdmitAction(ctx, "VitessKeyspace", name, obj, createValidation); err != nil {
		return nil, err
	}
	request := obj.(*vitess.VitessSchemaRequest)
	statements := splitStatements(request.SQL)
	if len(statements) == 0 {
		return nil, apierrors.NewInvalid(vitess.Kind("VitessSchemaRequest"), name, field.ErrorList{
			field.Required(field.NewPath("sql"), "at least one SQL statement"),
		})
	}
	keyspace, client, err := r.keyspace.lookup(ctx, name)
	if err != nil {
		return nil, err
	}
	response := request.DeepCopy()
	response.Name, response.Namespace = keyspace.Name, keyspace.Namespace
	response.Results = nil
	for i, statement := range statements {
		result := vitess.VitessSchemaStatementResult{Statement: statement}
		if len(options.DryRun) == 0 {
			rows, err := client.WithTimeout(schemaStatementTimeout).ApplySchema(ctx, keyspace.Spec.Name, statement)
			if err != nil {
				action := fmt.Sprintf("statement %d of %d (%s) on keyspace %s; the %d before it were applied", i+1, len(statements), abbreviate(statement), keyspace.Spec.Name, i)
				r.keyspace.events.Eventf(registry.Reference("VitessKeyspace", keyspace), nil, corev1.EventTypeWarning, "SchemaFailed", "ApplySchema", "%s: %v", action, err)
				return nil, vtctld.APIError(err, action)
			}
			result.RowsAffectedByShard = map[string]int64{}
			for shard, n := range rows {
				result.RowsAffectedByShard[shard] = int64(n)
			}
		}
		response.Results = append(response.Results, result)
	}
	if len(options.DryRun) == 0 {
		r.keyspace.events.Eventf(registry.Reference("VitessKeyspace", keyspace), nil, corev1.EventTypeNormal, "SchemaApplied", "ApplySchema",
			"%s applied %d SQL statement(s)", registry.Requester(ctx), len(statements))
	}
	return response, nil
}

func abbreviate(statement string) string {
	const max = 60
	if len(statement) <= max {
		return statement
	}
	return statement[:max] + "..."
}

// splitStatements splits SQL text at the semicolons that end statements: not those inside
// quotes, backquoted names or comments. Comments and blank statements are dropped, so a schema
// file can be posted as it is.
func splitStatements(sql string) []string {
	var statements []string
	var current strings.Builder
	flush := func() {
		if s := strings.TrimSpace(current.String()); s != "" {
			statements = append(statements, s)
		}
		current.Reset()
	}
	for i := 0; i < len(sql); i++ {
		c := sql[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			end := i + 1
			for end < len(sql) && sql[end] != c {
				if sql[end] == '\\' && c != '`' {
					end++
				}
				end++
			}
			end = min(end, len(sql)-1)
			current.WriteString(sql[i : end+1])
			i = end
		case c == '#' || (c == '-' && strings.HasPrefix(sql[i:], "-- ")):
			for i < len(sql) && sql[i] != '\n' {
				i++
			}
			current.WriteByte(' ')
		case c == '/' && strings.HasPrefix(sql[i:], "/*"):
			end := len(sql)
			if found := strings.Index(sql[i+2:], "*/"); found >= 0 {
				end = i + 2 + found + 2
			}
			if executableComment(sql[i:end]) {
				// Part of the statement: a mysqldump's views are in such comments.
				current.WriteString(sql[i:end])
			} else {
				current.WriteByte(' ')
			}
			i = end - 1
		case c == ';':
			flush()
		default:
			current.WriteByte(c)
		}
	}
	flush()
	return statements
}

// executableComment tells whether a /* */ comment is one MySQL or Vitess acts on: MySQL's
// version-conditional code (/*! ... */), optimizer hints (/*+ ... */) and Vitess' query directives
// (/*vt+ ... */).
func executableComment(comment string) bool {
	return strings.HasPrefix(comment, "/*!") || strings.HasPrefix(comment, "/*+") || strings.HasPrefix(comment, "/*vt+")
}
