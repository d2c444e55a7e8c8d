// Package keys owns inkpass's token signing keys: the key files on disk, key
// generation and rotation, the signer used for ID and logout tokens, and the
// public JSON Web Key Set (RFC 7517) that relying parties fetch to verify
// those tokens.
//
// # On disk
//
// A key directory (config keys_dir, default "keys") holds:
//
//	keys.json     the index: for every key its kid, alg, created_at, retired_at
//	              (null for an algorithm's active key) and file name
//	<kid>.pem     one private key per file, PKCS#8 PEM, mode 0600
//	keys.lock     an empty file used only for advisory locking (flock)
//
// The directory is created with mode 0700. Key files are refused at load when
// group or others have any access to them, as ssh refuses a readable identity
// file, and the directory and index are refused when group or others may write
// them (whoever can write the index chooses which key we sign with). Each
// refusal names the file and the chmod that fixes it.
//
// The kid is the RFC 7638 JWK thumbprint (SHA-256, base64url) of the public
// key. A thumbprint is URL-safe, never collides for two different keys, needs
// no randomness of its own, and lets Open prove that each file holds the key
// the index says it does: a swapped or replaced file is an error, not a silent
// change of signing key.
//
// # Writes, readers and other processes
//
// Only Open (first key, pruning), Ensure, Rotate and RotateAll write (SignAs calls
// Ensure when asked for an algorithm that has no key yet). The index is always
// replaced atomically (temp file, fsync, rename, directory fsync) and a new
// key file is durable before any index names it, so a crash never leaves an
// index that points at a missing or half-written key. Writers hold an
// exclusive flock on keys.lock; Reload reads under a shared one, so the server
// never sees an index whose files a concurrent prune has just removed. On
// platforms without flock the lock is a no-op and operators must not rotate
// while a server reloads.
//
// `inkpass keys rotate` runs in its own process; a running server notices the
// new index through Reload, which costs one stat when nothing changed.
// `inkpass serve` calls Reload every 30 seconds (well below
// Options.RetainFor) and at once on SIGHUP.
//
// # Publication and retirement
//
// Each algorithm has at most one active key, which signs that algorithm's
// tokens: a relying party registered for RS256 (the default of OpenID Connect
// Registration §2) keeps receiving RS256 however the other algorithms'
// keys change. Ensure gives an algorithm its first key; Rotate(alg) makes a
// fresh key of alg active and stamps alg's previous one retired_at=now;
// RotateAll does that for every algorithm that has an active key. A retired key stays in the JWKS for
// Options.RetainFor after retirement, which must be at least the lifetime of
// anything it signed (ID tokens, and any id_token_hint we still accept), so a
// token issued just before rotation still verifies (RFC 7517 §5 allows a set
// to hold several keys; §4.5 kid lets a verifier pick the right one). Once
// that window has passed the key leaves the JWKS at the next Reload, and its
// file and index entry are removed at the next Open or Rotate.
//
// # Stores
//
// Everything above describes the default Store, the folder. A Set reads and
// writes its keys only through the Store port (store.go): Load for Reload,
// Update (the caller's decision applied under the store's exclusive lock)
// for Open, Ensure and Rotate. The other implementation is internal/store's
// SigningKeys, for several servers sharing a database: private keys sealed
// with AES-256-GCM (Sealer) under a key-encryption key that is a file
// outside the database (ReadKEK, CreateKEK). keystoretest is the contract
// both pass.
//
// # What this package does not do
//
// It signs and verifies bytes. It does not build or check claims (exp, aud,
// nonce): that is internal/oidc's job. It never logs; callers decide what to
// say, for example "generated signing key" when Open reports created=true.
package keys
