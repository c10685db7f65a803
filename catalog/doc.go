// Package catalog owns kappa's catalog: the objects users create (tables,
// views, materialized views; later indexes, sources and sinks), their ids,
// columns, keys and definitions, the dependencies between them, and their
// persistence in storage; and roles (role.go: attributes, password
// verifiers, memberships), object owners and the privileges granted on
// objects, schema public and the database. It is restored on start from
// storage's catalog and role records; a database without roles gets the
// bootstrap superuser "kappa" (id 10, as PostgreSQL's).
//
// catalog imports types, storage and pgerr; never planner, exec or pgwire.
//
// Invariants: names are unique among relations (one schema, "public", for
// now); an object is only dropped when nothing depends on it, or together
// with its dependents (CASCADE). Every change is one synced storage batch, so
// a crash during DDL leaves the catalog before or after the statement.
package catalog
