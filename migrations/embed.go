// Package migrations holds inkpass's numbered SQL migrations. They are embedded
// in the binary so that a single file is all a studio has to deploy.
//
// Files are named NNNN_description.sql and applied in order by internal/store.
// 0001 is the studio's documented users/artists schema, created only when absent:
// on an adopted database it is checked, never run.
package migrations

import "embed"

// FS holds every *.sql migration: SQLite's at the top, PostgreSQL's in
// postgres/ (numbered on their own; the same tables, in PostgreSQL's types).
//
//go:embed *.sql postgres/*.sql
var FS embed.FS
