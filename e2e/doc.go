// Package e2e holds Wharf's end-to-end tests. They build the real wharf
// binary once per test run, start `wharf serve` on a free loopback port with
// a temporary data directory (SQLite) or a fresh PostgreSQL database, and
// drive it with real clients: the AWS SDK for Go v2 and the AWS CLI (v1 and
// v2, whichever are installed).
//
// Every test runs once per metadata store, as the subtests "sqlite" and
// "postgres". The PostgreSQL subtests get their database from
// internal/pgtest; they skip when no PostgreSQL is available unless
// WHARF_TEST_REQUIRE_POSTGRES=1. The AWS CLI tests skip when no `aws` is
// installed unless WHARF_TEST_REQUIRE_AWSCLI=1.
package e2e
