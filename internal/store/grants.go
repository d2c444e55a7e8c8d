package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/inkpass/inkpass/internal/audit"
	"github.com/inkpass/inkpass/internal/session"
)

// revokeUserGrants ends every session and token a user holds, and queues the
// back-channel logouts of those sessions. It runs inside the caller's
// transaction; the caller calls wakeOutbox once it committed.
func revokeUserGrants(ctx context.Context, tx *sql.Tx, userID int64, now int64) error {
	if err := queueLogouts(ctx, tx, now, "s.user_id = ?", userID); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE inkpass_sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL`, now, userID); err != nil {
		return fmt.Errorf("revoke sessions of user %d: %w", userID, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE inkpass_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL`, now, userID); err != nil {
		return fmt.Errorf("revoke tokens of user %d: %w", userID, err)
	}
	// Revoked, not used: redeeming one later is refused without being taken
	// for a replay.
	if _, err := tx.ExecContext(ctx, `UPDATE inkpass_codes SET revoked_at = ? WHERE user_id = ? AND used_at IS NULL AND revoked_at IS NULL`, now, userID); err != nil {
		return fmt.Errorf("revoke codes of user %d: %w", userID, err)
	}
	return burnRedeemedCodes(ctx, tx, now, "user_id = ?", userID)
}

// redeemWindow is how long after a code was marked used its exchange may
// still be storing the tokens: IssueTokens follows RedeemCode at once, and even
// a write that waits out a locked database gives up after the write budget.
const redeemWindow = 10 * 60

// burnRedeemedCodes burns the grants of the codes matching where (over
// inkpass_codes) that were redeemed within redeemWindow, inside the caller's
// revoking transaction. The token endpoint marks a code used and then stores
// its tokens; a revocation landing in between finds no token to revoke, and
// the tokens stored after it would outlive it. Burned, the grant refuses
// them (IssueTokens checks inkpass_revoked_grants). A grant whose tokens were
// stored already loses nothing more: the caller revokes them too.
func burnRedeemedCodes(ctx context.Context, tx *sql.Tx, now int64, where string, args ...any) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO inkpass_revoked_grants (grant_id, revoked_at, reason)
		SELECT grant_id, ?, 'revoked while its code was being exchanged' FROM inkpass_codes
		WHERE used_at IS NOT NULL AND used_at >= ? AND (`+where+`) ON CONFLICT DO NOTHING`, append([]any{now, now - redeemWindow}, args...)...)
	if err != nil {
		return fmt.Errorf("burn grants of redeemed codes: %w", err)
	}
	return nil
}

// revokeGrant revokes every token of a grant and burns the grant id, so that a
// token still being minted for it cannot be stored afterwards.
func revokeGrant(ctx context.Context, tx *sql.Tx, grantID string, now int64, reason string) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO inkpass_revoked_grants (grant_id, revoked_at, reason) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, grantID, now, reason); err != nil {
		return fmt.Errorf("revoke grant: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE inkpass_tokens SET revoked_at = ? WHERE grant_id = ? AND revoked_at IS NULL`, now, grantID); err != nil {
		return fmt.Errorf("revoke grant: %w", err)
	}
	// A replay or a reuse is an attack signal: it goes to the audit trail in
	// the same transaction as the revocation.
	kind := audit.TokenRevoked
	switch reason {
	case reasonCodeReplayed:
		kind = audit.CodeReplayed
	case reasonRefreshReused:
		kind = audit.RefreshReused
	}
	// Numbered parameters throughout: a bare ? after ?1 would not be the
	// fourth argument.
	_, err := tx.ExecContext(ctx, `INSERT INTO inkpass_audit (at, kind, user_id, client_id, detail)
		SELECT ?1, ?2, user_id, client_id, ?3 FROM (
			SELECT user_id, client_id FROM inkpass_codes WHERE grant_id = ?4
			UNION ALL SELECT user_id, client_id FROM inkpass_tokens WHERE grant_id = ?4
			LIMIT 1) AS g`, now, string(kind), reason, grantID)
	if err != nil {
		return fmt.Errorf("audit grant revocation: %w", err)
	}
	return nil
}

// Reasons a grant is revoked.
const (
	reasonCodeReplayed  = session.ReasonCodeReplayed
	reasonRefreshReused = session.ReasonRefreshReused
)
