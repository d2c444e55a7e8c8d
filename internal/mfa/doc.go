// Package mfa is the second factor of a sign-in: authenticator-app codes
// (TOTP, RFC 6238) and recovery codes, their enrolment, verification,
// throttling and audit. A factor is a row of a kind ("totp" now; WebAuthn is
// to be another kind in the same table and the same sign-in step), so the
// web layer asks one Service whether a user has a factor and which kinds.
//
// TOTP is implemented here on crypto/hmac rather than taken from a library:
// it is thirty lines (RFC 4226 dynamic truncation over a time step), the RFC
// 6238 appendix B vectors test it exactly, and inkpass needs the matched time
// step itself (to accept each code once), which libraries' Validate hides.
package mfa
