package web

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/inkpass/inkpass/internal/mfa"
	"github.com/inkpass/inkpass/internal/session"
	"github.com/inkpass/inkpass/internal/user"
)

// accountFactors fills the account page's second factor section.
func (s *server) accountFactors(r *http.Request, page *AccountPage, u *user.User, enrol *EnrolView, codes []string) error {
	if s.MFA == nil {
		return nil
	}
	ctx := r.Context()
	factors, err := s.MFA.Factors(ctx, u.ID)
	if err != nil {
		return err
	}
	left, used, err := s.MFA.RecoveryCodesLeft(ctx, u.ID)
	if err != nil {
		return err
	}
	page.MFAAction, page.Enrol, page.RecoveryCodes, page.RecoveryLeft, page.RecoveryUsed = "/account/mfa", enrol, codes, left, used
	page.MFARequired = s.MFA.Required(string(u.Role))
	page.PasskeysEnabled = s.MFA.PasskeysEnabled()
	for _, f := range factors {
		af := AccountFactor{ID: strconv.FormatInt(f.ID, 10), Name: f.Name, Kind: factorKindText(f.Kind),
			Added: f.CreatedAt.UTC().Format(time.DateOnly), LastUsed: "never"}
		if f.LastUsedAt != nil {
			af.LastUsed = f.LastUsedAt.UTC().Format("2006-01-02 15:04 UTC")
		}
		page.Factors = append(page.Factors, af)
	}
	return nil
}

func factorKindText(kind string) string {
	switch kind {
	case mfa.KindTOTP:
		return "Authenticator app"
	case mfa.KindWebAuthn:
		return "Passkey"
	}
	return kind
}

// accountMFA is every second factor form of the account page, by op: begin
// (an enrolment: QR code and secret), confirm (its first code activates it;
// the first factor brings ten recovery codes, shown once), rename, remove
// (the last factor only with the password, and never where the policy for
// the user's role requires one), recovery (ten new recovery codes).
func (s *server) accountMFA(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if s.MFA == nil {
		s.notFound(w, r)
		return
	}
	u, ok := s.accountForm(w, r)
	if !ok {
		return
	}
	addr := s.clientAddr(r)
	var id int64
	if v := r.PostFormValue("factor_id"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			s.errorPage(w, r, http.StatusBadRequest, "The form could not be read", "")
			return
		}
		id = n
	}
	switch r.PostFormValue("op") {
	case "begin":
		e, err := s.MFA.BeginTOTP(ctx, u)
		if err != nil {
			s.serverError(w, r, "begin enrolment", err)
			return
		}
		s.renderAccountPage(w, r, http.StatusOK, u, "", "", enrolView(e), nil, "")
	case "confirm":
		codes, err := s.MFA.ConfirmTOTP(ctx, u, id, r.PostFormValue("name"), r.PostFormValue("code"), addr)
		if !s.codeAccepted(w, r, err, func(status int, msg string, retry int) {
			if retry > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(retry))
			}
			// The same enrolment again, so a mistyped code does not
			// need a new scan.
			e, err := s.MFA.ResumeTOTP(ctx, u)
			if err != nil {
				s.serverError(w, r, "resume enrolment", err)
				return
			}
			s.renderAccountPage(w, r, status, u, "", msg, enrolView(e), nil, "")
		}) {
			return
		}
		s.renderAccountPage(w, r, http.StatusOK, u, "Your authenticator app has been added.", "", nil, codes, "")
	case "passkey-begin":
		opts, err := s.MFA.BeginPasskeyEnrolment(ctx, u, session.Hash(cookieValue(r, s.cookies.browser)))
		if errors.Is(err, mfa.ErrNoPasskeys) {
			s.renderAccount(w, r, http.StatusBadRequest, u, "", "Passkeys are not available here.")
			return
		}
		if err != nil {
			s.serverError(w, r, "begin passkey enrolment", err)
			return
		}
		s.renderAccountPage(w, r, http.StatusOK, u, "", "", nil, nil, string(opts))
	case "passkey-finish":
		codes, err := s.MFA.FinishPasskeyEnrolment(ctx, u, session.Hash(cookieValue(r, s.cookies.browser)),
			r.PostFormValue("name"), []byte(r.PostFormValue("credential")), addr)
		if errors.Is(err, mfa.ErrBadPasskey) || errors.Is(err, mfa.ErrNoPasskeys) {
			s.renderAccount(w, r, http.StatusBadRequest, u, "", "The passkey could not be added. Try again.")
			return
		}
		if err != nil {
			s.serverError(w, r, "finish passkey enrolment", err)
			return
		}
		s.renderAccountPage(w, r, http.StatusOK, u, "Your passkey has been added.", "", nil, codes, "")
	case "rename":
		err := s.MFA.Rename(ctx, u.ID, id, r.PostFormValue("name"))
		if errors.Is(err, mfa.ErrNotFound) || (err != nil && r.PostFormValue("name") == "") {
			s.renderAccount(w, r, http.StatusBadRequest, u, "", "That factor could not be renamed.")
			return
		}
		if err != nil {
			s.serverError(w, r, "rename factor", err)
			return
		}
		http.Redirect(w, r, "/account?done=mfa-rename", http.StatusSeeOther)
	case "remove":
		s.accountRemoveFactor(w, r, u, id, addr)
	case "recovery":
		has, err := s.MFA.HasFactor(ctx, u.ID)
		if err != nil {
			s.serverError(w, r, "check factors", err)
			return
		}
		if !has {
			s.renderAccount(w, r, http.StatusBadRequest, u, "", "Add an authenticator app first.")
			return
		}
		codes, err := s.MFA.RegenerateRecoveryCodes(ctx, u, addr)
		if err != nil {
			s.serverError(w, r, "regenerate recovery codes", err)
			return
		}
		s.renderAccountPage(w, r, http.StatusOK, u, "New recovery codes made; the old ones no longer work.", "", nil, codes, "")
	default:
		s.errorPage(w, r, http.StatusBadRequest, "The form could not be read", "")
	}
}

// accountRemoveFactor removes one factor. The last one is the account's
// whole second factor: removing it needs the password (checked under the
// password throttle, as a password change does), and is refused outright
// where the policy requires a second factor for the user's role.
func (s *server) accountRemoveFactor(w http.ResponseWriter, r *http.Request, u *user.User, id int64, addr string) {
	ctx := r.Context()
	factors, err := s.MFA.Factors(ctx, u.ID)
	if err != nil {
		s.serverError(w, r, "list factors", err)
		return
	}
	passwordChecked := false
	if len(factors) == 1 && factors[0].ID == id {
		if s.MFA.Required(string(u.Role)) {
			s.renderAccount(w, r, http.StatusForbidden, u, "", "Your role must have a second factor: add another before removing this one.")
			return
		}
		if !s.currentPasswordOK(w, r, u, r.PostFormValue("password"), addr) {
			return
		}
		passwordChecked = true
	}
	err = s.MFA.Remove(ctx, u, id, addr, passwordChecked)
	if errors.Is(err, mfa.ErrLastFactor) {
		// Another removal went first: this one is now the last factor.
		s.renderAccount(w, r, http.StatusConflict, u, "", "This is now your last second factor: removing it needs your password (and is not allowed for your role if it must have one).")
		return
	}
	if errors.Is(err, mfa.ErrNotFound) {
		s.renderAccount(w, r, http.StatusBadRequest, u, "", "That factor could not be removed.")
		return
	}
	if err != nil {
		s.serverError(w, r, "remove factor", err)
		return
	}
	http.Redirect(w, r, "/account?done=mfa-remove", http.StatusSeeOther)
}
