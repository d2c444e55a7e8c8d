package web

import "html/template"

// The data behind each HTML page: one struct per page, rendered by
// renderer.render under the page's name (templates/<name>.html). Every field is
// text that html/template escapes for where it lands; none is ever trusted
// markup, so user data can go straight in.

// Page names, one per file in templates/. newRenderer refuses to start when one
// is missing.
const (
	pageLogin     = "login"
	pageError     = "error"
	pageSignedIn  = "signed_in"
	pageConsent   = "consent"
	pageFormPost  = "form_post"
	pageSignedOut = "signed_out"
	pageAccount   = "account"
	pageFactor    = "factor"
)

// Studio is the branding at the top of every page. Handlers take it from
// server.studio (the studio's settings now), built by StudioFrom.
type Studio struct {
	Name    string // shown above every card; "inkpass" when empty
	LogoURL string // optional: an https URL or a path on inkpass's origin; anything else is not shown
	// ThemeURL, when set, is a stylesheet on our own origin that sets the
	// accent colour (/branding/theme.css?v=...), linked after inkpass.css.
	ThemeURL string
	// SupportHref and SupportLabel are the studio's support contact (a
	// mailto: or https link and its words), shown on the login and error
	// pages when set.
	SupportHref, SupportLabel string
}

// LoginPage is the username and password form.
type LoginPage struct {
	Studio Studio
	// PasskeyAction and PasskeyOptions, when set, offer "Sign in with a
	// passkey": static/webauthn.js answers the options (JSON for
	// navigator.credentials.get, no user named) and posts csrf_token and
	// passkey to PasskeyAction.
	PasskeyAction, PasskeyOptions string
	// Action is the form's POST target, e.g. "/login?req=abc".
	Action string
	// CSRF goes into the hidden field "csrf_token".
	CSRF string
	// Username pre-fills the "username" field (autocomplete "username"); when
	// set, the password field ("password", autocomplete "current-password") gets
	// the focus instead.
	Username string
	// Error is shown in the error box when not empty. It must never say whether
	// the username or the password was wrong.
	Error string
	// ClientName, when set, adds "Sign in to continue to ClientName".
	ClientName string
	// RetryAfterSeconds, when above zero, shows the error box with "Please wait
	// N seconds (or minutes) before trying again", after Error if any.
	RetryAfterSeconds int
}

// ErrorPage is inkpass's own error page, for errors that must not redirect to
// a client (RFC 6749 §4.1.2.1) and for everything else that goes wrong.
type ErrorPage struct {
	Studio Studio
	// Title and Message are for people: never internal detail, never an error's
	// text. Both have friendly defaults when empty.
	Title, Message string
	// Status is shown as "Error 404" when it is 400 or above. It is not the
	// response status: that is render's status argument.
	Status int
	// RequestID is shown small, for support.
	RequestID string
}

// SignedInPage says who is signed in, links to /account and offers a sign-out
// button.
type SignedInPage struct {
	Studio         Studio
	Username, Name string // Name is shown first when set, with Username beside it
	LogoutAction   string // the sign-out form's POST target
	CSRF           string // hidden field "csrf_token" of the sign-out form
}

// ConsentPage asks the user to let a client see the claims behind its scopes.
// The form posts "csrf_token" and "decision", which is "approve" or "deny".
type ConsentPage struct {
	Studio     Studio
	Action     string // the form's POST target
	CSRF       string
	ClientName string
	Scopes     []ScopeLine
	Username   string // "Signed in as ..." when set
}

// ScopeLine is one requested scope on the consent page.
type ScopeLine struct {
	Name        string   // the scope, e.g. "profile"; shown only when Description is empty
	Description string   // what the client may do, e.g. "See your name and date of birth"
	Claims      []string // the claims it shares, shown as tags
}

// FormPostPage answers an authorization request with response_mode=form_post
// (OAuth 2.0 Form Post Response Mode §2): a form that POSTs Params to
// RedirectURI. The page submits itself on load where scripts run, and shows a
// Continue button where they do not.
//
// RedirectURI must be an http or https URL (html/template neutralises any other
// scheme); render adds its origin to the page's CSP form-action by itself.
type FormPostPage struct {
	Studio      Studio
	RedirectURI string
	Params      []FormParam
}

// FormParam is one hidden field of a FormPostPage, e.g. code, state, iss.
type FormParam struct {
	Name, Value string
}

// SignedOutPage confirms a sign-out.
type SignedOutPage struct {
	Studio  Studio
	Message string // defaults to "You have been signed out..."
}

// AccountPage is the signed-in user's own page: the profile (read only), a
// change-password form and the apps that hold a grant.
//
// The password form posts csrf_token, current_password, new_password and
// confirm_password to PasswordAction.
type AccountPage struct {
	Studio Studio
	// The profile, shown read only. Empty fields show "Not set", except
	// ArtistName, whose row is left out.
	Username, Name, Role, ArtistName, Email, Phone, Instagram, Birthdate string

	CSRF           string // hidden field "csrf_token" of every form on the page
	PasswordAction string // the change-password form's POST target
	Apps           []AccountApp
	Notice         string // a success message, e.g. "Your password has been changed."
	Error          string // shown in the error box when not empty

	// The second factor section (shown when MFAAction is set): the
	// factors, with rename and remove forms; an enrolment in progress; the
	// recovery codes just made (shown once); how many are left. Every form
	// posts csrf_token and op (begin, confirm, rename, remove, recovery)
	// to MFAAction.
	MFAAction     string
	Factors       []AccountFactor
	Enrol         *EnrolView
	RecoveryCodes []string
	RecoveryLeft  int
	// RecoveryUsed counts the codes of this set already spent: each use is
	// a sign-in without the second factor, which the user should recognise.
	RecoveryUsed int
	MFARequired  bool
	// PasskeysEnabled offers "Add a passkey" (op passkey-begin);
	// PasskeyCreate, the options of a passkey enrolment in progress (JSON
	// for navigator.credentials.create, read by static/webauthn.js, which
	// posts op passkey-finish with name and credential).
	PasskeysEnabled bool
	PasskeyCreate   string
}

// FactorPage is the second factor's step of a sign-in. It is one of three
// things: the code form (posts csrf_token and code to Action); with Enrol,
// the enrolment of an authenticator app that the user must add first (posts
// csrf_token, factor_id, name and code); with RecoveryCodes, the codes just
// made, shown once, and a link to ContinueURL.
type FactorPage struct {
	Studio            Studio
	Action, CSRF      string
	ClientName        string
	Username          string
	Error             string
	RetryAfterSeconds int
	Enrol             *EnrolView
	RecoveryCodes     []string
	ContinueURL       string
	// RememberDays, when above zero, offers the "remember" checkbox: skip
	// the second factor on this device for that many days.
	RememberDays int
	// PasskeyOptions, when set, offers the user's passkey: the options for
	// navigator.credentials.get (JSON), which static/webauthn.js answers by
	// posting csrf_token and passkey (the assertion) to Action. The code
	// form stays for browsers without script.
	PasskeyOptions string
}

// EnrolView is an authenticator app waiting for its first code: the QR code
// to scan and the same secret as text to type.
type EnrolView struct {
	FactorID string
	Secret   string
	// QR is a data: URI of a PNG that inkpass drew (trusted, see enrolView).
	QR template.URL
}

// AccountFactor is one second factor on the account page.
type AccountFactor struct {
	ID, Name, Kind, Added, LastUsed string
}

// AccountApp is one connected app on the account page. Its revoke form posts
// csrf_token and client_id to RevokeAction.
type AccountApp struct {
	ClientID, ClientName string // ClientID is shown when ClientName is empty
	Scopes               string // e.g. "openid profile email", shown as is
	RevokeAction         string
}

// sampleStudio has every branding field set, so the samples below execute
// every branch of the layout's branding.
var sampleStudio = Studio{Name: "x", LogoURL: "/branding/logo?v=1", ThemeURL: "/branding/theme.css?v=1",
	SupportHref: "mailto:x@example.com", SupportLabel: "x@example.com"}

// pageSamples lists every required page with a value of its data type. Each
// sample has one element in every slice, so that newRenderer, by executing it,
// checks every field a template names before the server takes a request.
var pageSamples = map[string]any{
	pageLogin:    LoginPage{Studio: sampleStudio, RetryAfterSeconds: 1, Error: "x", ClientName: "x", Username: "x", PasskeyAction: "/login/passkey", PasskeyOptions: "{}"},
	pageError:    ErrorPage{Studio: sampleStudio, Status: 500, RequestID: "x"},
	pageSignedIn: SignedInPage{Name: "x"},
	pageConsent: ConsentPage{
		Username: "x",
		Scopes:   []ScopeLine{{Description: "x", Claims: []string{"x", "y"}}},
	},
	pageFormPost:  FormPostPage{Params: []FormParam{{Name: "x", Value: "x"}}},
	pageSignedOut: SignedOutPage{},
	pageFactor: FactorPage{Error: "x", RetryAfterSeconds: 1, ClientName: "x", RememberDays: 1, Enrol: &EnrolView{FactorID: "1", Secret: "x", QR: "data:image/png;base64,x"},
		RecoveryCodes: []string{"x"}, ContinueURL: "/", PasskeyOptions: "{}"},
	pageAccount: AccountPage{
		ArtistName: "x", Notice: "x", Error: "x",
		Apps:      []AccountApp{{ClientID: "x", Scopes: "x"}},
		MFAAction: "/account/mfa", Factors: []AccountFactor{{ID: "1", Name: "x", Kind: "totp", Added: "x", LastUsed: "x"}},
		Enrol: &EnrolView{FactorID: "1", Secret: "x", QR: "data:image/png;base64,x"}, RecoveryCodes: []string{"x"},
		PasskeysEnabled: true, PasskeyCreate: "{}",
	},
}
