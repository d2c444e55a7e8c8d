package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/inkpass/inkpass/internal/client"
	"github.com/inkpass/inkpass/internal/keys"
	"github.com/inkpass/inkpass/internal/store"
)

func cmdClient(ctx context.Context, e *env, args []string) error {
	return subcommand(ctx, e, "client", args, map[string]command{
		"add":           {"register a client; a confidential client's secret is shown once", clientAdd},
		"list":          {"list registered clients", clientList},
		"show":          {"show one client", clientShow},
		"update":        {"change a client's registration", clientUpdate},
		"remove":        {"delete a client and revoke its tokens and codes", clientRemove},
		"rotate-secret": {"give a confidential client a new secret (shown once)", clientRotate},
	})
}

// multiFlag collects a repeatable flag.
type multiFlag []string

func (m *multiFlag) String() string { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error {
	*m = append(*m, v)
	return nil
}

// clientFlags are shared by add and update.
type clientFlags struct {
	name                         *string
	redirects, logouts, grants   multiFlag
	scopes                       multiFlag
	public, firstParty, disabled *bool
	authMethod                   *string
	introspect                   *bool
	backchannel                  *string
	idTokenAlg                   *string
	requireMFA                   *bool
}

func addClientFlags(fs *flag.FlagSet) *clientFlags {
	cf := &clientFlags{
		name:        fs.String("name", "", "display name shown on the login and consent pages"),
		public:      fs.Bool("public", false, "a public client (native or browser app): no secret, PKCE required"),
		firstParty:  fs.Bool("first-party", false, "one of the studio's own apps: no consent screen"),
		disabled:    fs.Bool("disabled", false, "(update) disable the client without removing it: its tokens are revoked and it can get no more"),
		authMethod:  fs.String("auth-method", "", "pin a confidential client to client_secret_basic or client_secret_post (by default it may use either), none (public), or either (undo a pin)"),
		introspect:  fs.Bool("introspect", false, "a resource server: may introspect other clients' access tokens at /introspect"),
		backchannel: fs.String("backchannel-logout-uri", "", "where inkpass POSTs a logout token when a session the client took part in ends (https, or http on loopback; \"\" for none)"),
		requireMFA:  fs.Bool("require-mfa", false, "every sign-in for this client needs a second factor (users without one enrol first)"),
		idTokenAlg:  fs.String("id-token-alg", "", "sign the client's ID tokens with RS256 (default for a new client), ES256 or EdDSA; the app's library must support it"),
	}
	fs.Var(&cf.redirects, "redirect-uri", "an exact redirect URI (repeatable)")
	fs.Var(&cf.logouts, "post-logout-redirect-uri", "an exact post-logout redirect URI (repeatable)")
	fs.Var(&cf.grants, "grant", "authorization_code, refresh_token or client_credentials (repeatable)")
	fs.Var(&cf.scopes, "scope", "openid, profile, email, phone, offline_access (repeatable)")
	return cf
}

// clientJSON is a client as scripts read it; Secret is set only when a secret
// was just made.
type clientJSON struct {
	*client.Client
	Secret string `json:"client_secret,omitempty"`
}

func openClients(ctx context.Context, e *env, fs *flag.FlagSet, cfgPath string) (*app, *store.Clients, error) {
	a, err := openApp(ctx, e, fs, cfgPath, e.stderr)
	if err != nil {
		return nil, nil, err
	}
	cs, err := a.db.Clients(ctx)
	if err == nil {
		err = fillIDTokenAlgs(ctx, a, cs, nil)
	}
	if err != nil {
		a.Close()
		return nil, nil, err
	}
	return a, cs, nil
}

func clientAdd(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := flags(e, "client add", "--id ID --name NAME --redirect-uri URI... [--post-logout-redirect-uri URI] [--public] [--first-party] [--grant TYPE...] [--scope S...] [--auth-method M] [--introspect] [--backchannel-logout-uri URI] [--id-token-alg RS256|ES256|EdDSA] [--require-mfa] [--json]")
	id := fs.String("id", "", "client_id (letters, digits, - _ .)")
	cf := addClientFlags(fs)
	asJSON := fs.Bool("json", false, "print the client, secret included, as JSON")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if *id == "" {
		return usageError("--id is required")
	}
	c, err := client.New(client.Options{
		ID: *id, Name: *cf.name, Public: *cf.public, FirstParty: *cf.firstParty, RequireMFA: *cf.requireMFA,
		RedirectURIs: cf.redirects, PostLogoutRedirectURIs: cf.logouts, GrantTypes: cf.grants,
		Scopes: cf.scopes, Disabled: *cf.disabled, Source: "cli",
		Introspect: *cf.introspect, BackchannelLogoutURI: *cf.backchannel,
		AuthMethod: *cf.authMethod, IDTokenAlg: *cf.idTokenAlg,
	})
	if err != nil {
		return flagError(err)
	}
	a, cs, err := openClients(ctx, e, fs, *cfgPath)
	if err != nil {
		return err
	}
	defer a.Close()
	stored, secret, err := registry(a, cs, c.ID).Create(ctx, c)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, clientJSON{Client: stored, Secret: secret})
	}
	printClient(e.stdout, stored)
	if secret != "" {
		fmt.Fprintf(e.stdout, "\nclient_secret: %s\n(shown once: store it in the app's configuration now)\n", secret)
	}
	return nil
}

// flagError turns the rule errors that belong to one flag into usage errors
// naming it, as the flags were checked before the rules moved into
// internal/client; every other rule error is returned as it is.
func flagError(err error) error {
	fe, ok := err.(*client.FieldError) // one rule of one flag; Validate's are joined
	if !ok {
		return err
	}
	switch {
	case fe.Field == "auth_method" && strings.HasPrefix(fe.Problem, client.AuthEither+" "):
		return usageError("--auth-method %s", fe.Problem)
	case fe.Field == "id_token_signed_response_alg":
		return usageError("--id-token-alg: %s", fe.Problem)
	case fe.Field == "public":
		return usageError("%s", fe.Problem)
	}
	return err
}

// registry is the client rules over cs, with the keys opened only when a
// client needs a key other than RS256 (which serve always keeps).
func registry(a *app, cs *store.Clients, clientID string) *client.Registry {
	return client.NewRegistry(cs, cliKeys{a: a, clientID: clientID})
}

// cliKeys opens the signing keys when the registry asks for one, so that a
// running server picks it up at its first token for the client.
type cliKeys struct {
	a        *app
	clientID string
}

func (k cliKeys) Ensure(algs ...keys.Algorithm) ([]keys.Info, error) {
	set, err := openKeys(k.a, false)
	if err != nil {
		return nil, err
	}
	made, err := set.Ensure(algs...)
	for _, m := range made {
		k.a.log.Info("generated a signing key for the client's ID-token algorithm", "client_id", k.clientID, "kid", m.KID, "alg", string(m.Algorithm))
	}
	return made, err
}

func clientList(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := flags(e, "client list", "[--json]")
	asJSON := fs.Bool("json", false, "print a JSON array")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	a, cs, err := openClients(ctx, e, fs, *cfgPath)
	if err != nil {
		return err
	}
	defer a.Close()
	list, err := cs.List(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		if list == nil {
			list = []*client.Client{}
		}
		return writeJSON(e.stdout, list)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tTYPE\tFIRST_PARTY\tENABLED\tINTROSPECT\tSOURCE\tREDIRECT_URIS")
	for _, c := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%v\t%v\t%s\t%s\n", c.ID, c.Name, clientType(c), c.FirstParty, c.Enabled, c.Introspect, c.Source, strings.Join(c.RedirectURIs, " "))
	}
	return tw.Flush()
}

func clientType(c *client.Client) string {
	if c.Public {
		return "public"
	}
	return "confidential"
}

func printClient(w io.Writer, c *client.Client) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, row := range [][2]string{
		{"client_id", c.ID}, {"name", c.Name}, {"type", clientType(c)},
		{"first_party", strconv.FormatBool(c.FirstParty)}, {"enabled", strconv.FormatBool(c.Enabled)},
		{"introspect", strconv.FormatBool(c.Introspect)}, {"require_mfa", strconv.FormatBool(c.RequireMFA)},
		{"auth_method", authMethodText(c)}, {"id_token_signed_response_alg", string(c.IDTokenAlg)},
		{"redirect_uris", strings.Join(c.RedirectURIs, " ")},
		{"post_logout_redirect_uris", dash(strings.Join(c.PostLogoutRedirectURIs, " "))},
		{"backchannel_logout_uri", dash(c.BackchannelLogoutURI)},
		{"grant_types", strings.Join(c.GrantTypes, " ")}, {"scopes", strings.Join(c.Scopes, " ")},
		{"source", c.Source},
	} {
		fmt.Fprintf(tw, "%s\t%s\n", row[0], row[1])
	}
	tw.Flush()
}

// authMethodText says which methods the token endpoint accepts from c.
func authMethodText(c *client.Client) string {
	if c.Public || c.AuthMethodPinned {
		return c.AuthMethod
	}
	return client.AuthSecretBasic + " or " + client.AuthSecretPost
}

// oneClient parses flags around exactly one CLIENT_ID argument.
func oneClient(ctx context.Context, e *env, fs *flag.FlagSet, cfgPath *string, args []string) (*app, *store.Clients, *client.Client, error) {
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return nil, nil, nil, err
	}
	if len(pos) != 1 {
		return nil, nil, nil, usageError("expected one client id")
	}
	a, cs, err := openClients(ctx, e, fs, *cfgPath)
	if err != nil {
		return nil, nil, nil, err
	}
	c, err := cs.Get(ctx, pos[0])
	if errors.Is(err, client.ErrNotFound) {
		a.Close()
		return nil, nil, nil, fmt.Errorf("no client %q", pos[0])
	}
	if err != nil {
		a.Close()
		return nil, nil, nil, err
	}
	return a, cs, c, nil
}

func clientShow(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := flags(e, "client show", "CLIENT_ID [--json]")
	asJSON := fs.Bool("json", false, "print the client as JSON")
	a, _, c, err := oneClient(ctx, e, fs, cfgPath, args)
	if err != nil {
		return err
	}
	defer a.Close()
	if *asJSON {
		return writeJSON(e.stdout, c)
	}
	printClient(e.stdout, c)
	return nil
}

func clientUpdate(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := flags(e, "client update", "CLIENT_ID [--name ..] [--redirect-uri URI...] [--post-logout-redirect-uri URI...] [--first-party=BOOL] [--grant ..] [--scope ..] [--auth-method ..] [--introspect=BOOL] [--backchannel-logout-uri URI] [--id-token-alg ALG] [--require-mfa=BOOL] [--disabled=BOOL] [--json]   (a repeatable flag replaces the whole list)")
	cf := addClientFlags(fs)
	asJSON := fs.Bool("json", false, "print the client as JSON")
	a, cs, c, err := oneClient(ctx, e, fs, cfgPath, args)
	if err != nil {
		return err
	}
	defer a.Close()
	c, err = registry(a, cs, c.ID).Change(ctx, c.ID, func(c *client.Client) error {
		var problem error
		fs.Visit(func(f *flag.Flag) {
			switch f.Name {
			case "name":
				c.Name = *cf.name
			case "redirect-uri":
				c.RedirectURIs = cf.redirects
			case "post-logout-redirect-uri":
				c.PostLogoutRedirectURIs = cf.logouts
			case "grant":
				c.GrantTypes = cf.grants
			case "scope":
				c.Scopes = cf.scopes
			case "first-party":
				c.FirstParty = *cf.firstParty
			case "require-mfa":
				c.RequireMFA = *cf.requireMFA
			case "disabled":
				c.Enabled = !*cf.disabled
			case "auth-method":
				if err := client.SetAuthMethod(c, *cf.authMethod); err != nil {
					problem = err
				}
			case "introspect":
				c.Introspect = *cf.introspect
			case "backchannel-logout-uri":
				c.BackchannelLogoutURI = *cf.backchannel
			case "id-token-alg":
				if err := client.SetIDTokenAlg(c, *cf.idTokenAlg); err != nil {
					problem = err
				} else if *cf.idTokenAlg == "" {
					problem = usageError("--id-token-alg: give RS256, ES256 or EdDSA")
				}
			case "public":
				problem = usageError("a client cannot change between public and confidential: remove it and add it again")
			}
		})
		return problem
	})
	if err != nil {
		return flagError(err)
	}
	if c.Source == "config" {
		fmt.Fprintf(e.stderr, "note: client %q comes from config.yaml, which will override this change at the next start\n", c.ID)
	}
	if *asJSON {
		return writeJSON(e.stdout, c)
	}
	fmt.Fprintf(e.stdout, "updated client %q\n", c.ID)
	return nil
}

func clientRemove(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := flags(e, "client remove", "CLIENT_ID")
	a, cs, c, err := oneClient(ctx, e, fs, cfgPath, args)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := registry(a, cs, c.ID).Remove(ctx, c.ID); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "removed client %q; its tokens are revoked\n", c.ID)
	return nil
}

func clientRotate(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := flags(e, "client rotate-secret", "CLIENT_ID [--json]")
	asJSON := fs.Bool("json", false, "print the client, new secret included, as JSON")
	a, cs, c, err := oneClient(ctx, e, fs, cfgPath, args)
	if err != nil {
		return err
	}
	defer a.Close()
	c, secret, err := registry(a, cs, c.ID).RotateSecret(ctx, c.ID)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, clientJSON{Client: c, Secret: secret})
	}
	fmt.Fprintf(e.stdout, "client_secret: %s\n(shown once; the old secret no longer works)\n", secret)
	return nil
}
