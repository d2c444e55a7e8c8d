// Package user owns the studio's people: the User type, its roles and field rules,
// and the Service that creates, changes, deactivates and authenticates users,
// throttling sign-in attempts per username and per client address.
//
// It decides rules (who may be an artist, what a valid username is) and declares
// the small Repository it needs; it never speaks SQL. Storage lives in
// internal/store, which maps rows to User and translates driver errors into the
// sentinels defined here.
package user
