// Package password turns plain passwords into stored hashes and checks them.
//
// It owns:
//
//   - Hashing new passwords in the policy's target format: argon2id PHC strings
//     (RFC 9106, OWASP minimum parameters or stronger) or, for a studio whose
//     Python app must keep reading the same users table, werkzeug's own
//     "scrypt:32768:8:1$salt$hex".
//   - Verifying every format the studio's database can hold: werkzeug scrypt and
//     pbkdf2 (sha1, sha224, sha256, sha384, sha512), bcrypt ($2a$, $2b$, $2y$)
//     and argon2id (version 19). Digests are compared with crypto/subtle.
//   - The rehash decision (NeedsRehash) and a dummy verification (VerifyDummy)
//     so that an unknown username costs the same work as a known one.
//   - A memory-bounded Limiter: memory-hard hashes are the cheapest way to
//     exhaust the server, so every Hash and Verify first acquires its memory
//     cost from one weighted semaphore sized by Policy.MemoryBudget.
//
// Hash strings come from a database row and are treated as untrusted input. A
// malformed or hostile string gives an error wrapping ErrMalformedHash or
// ErrUnknownFormat, never a panic and never a huge allocation. Parameters are
// refused above these bounds (about twice anything werkzeug, passlib,
// argon2-cffi or Python bcrypt have written by default, and well below what
// would let one row make every attempt at it, failures included, cost
// seconds; see defaultLimits):
//
//   - whole encoded string: at most 1024 bytes
//   - werkzeug scrypt: N a power of two in [2, 2^17], r in [1, 16], p in [1, 16],
//     128·N·r (the memory scrypt allocates) at most 128 MiB, and N·r·p at
//     most 2^21
//   - werkzeug pbkdf2: iterations in [1, 2,000,000]
//   - bcrypt: cost in [4, 14]
//   - argon2id: m in [8·p, 262144] KiB (256 MiB), t in [1, 16], p in [1, 16],
//     m·t at most 409600 KiB-passes, salt 8 to 64 bytes, digest 4 to 128
//     bytes (libargon2's own minimums)
//
// It must not:
//
//   - know about users, roles, the database or HTTP: callers pass strings in and
//     get strings and booleans back (internal/user decides when to hash, verify
//     and store an upgraded hash);
//   - decide password rules such as minimum length: that is internal/user;
//   - log, or put a plain password, a salt, a digest or an encoded hash into an
//     error or a Describe result: a broken row may hold a plain password, and
//     errors end up in logs;
//   - import anything beyond the standard library, golang.org/x/crypto and
//     golang.org/x/sync (see STYLE.md, "Which way imports point").
package password
