package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Config mirrors config.yaml; every option is documented there.
type Config struct {
	StudioName string `yaml:"studio_name"`
	LogoURL    string `yaml:"logo_url"`
	Listen     string `yaml:"listen"`
	Issuer     string `yaml:"issuer"`
	Database   string `yaml:"database"`
	// DatabasePasswordFile holds the PostgreSQL password when Database is
	// a postgres:// URL (INKPASS_DATABASE_PASSWORD is the other way); the
	// URL itself should carry none, so that config.yaml holds no secret.
	DatabasePasswordFile string    `yaml:"database_password_file"`
	KeysDir              string    `yaml:"keys_dir"`
	Keys                 Keys      `yaml:"keys"`
	Log                  Log       `yaml:"log"`
	Password             Password  `yaml:"password"`
	Throttle             Throttle  `yaml:"throttle"`
	Signing              Signing   `yaml:"signing"`
	Tokens               Tokens    `yaml:"tokens"`
	Metrics              Metrics   `yaml:"metrics"`
	Profiling            Profiling `yaml:"profiling"`
	// ShutdownGrace is how long in-flight requests may take to finish after
	// SIGINT or SIGTERM.
	ShutdownGrace Duration `yaml:"shutdown_grace"`
	Clients       []Client `yaml:"clients"`
	// PendingLogins bounds the sign-ins one client address may start.
	PendingLogins Pending `yaml:"pending_logins"`
	// MFA is the second factor's policy.
	MFA MFA `yaml:"mfa"`
	// Branding holds the defaults of the studio's look that studio_name and
	// logo_url do not; the console overrides them in the database.
	Branding Branding `yaml:"branding"`
	// Mail is the SMTP server inkpass's own email goes through (mail.go).
	Mail Mail `yaml:"mail"`

	// Links are the lifetimes of single-use links (internal/userlink).
	Links Links `yaml:"links"`

	// Console is the studio console at /admin.
	Console Console `yaml:"console"`

	// DatabaseBusyTimeout is how long one write attempt waits inside SQLite
	// for another process (the studio's app, a backup) to release the lock.
	DatabaseBusyTimeout Duration `yaml:"database_busy_timeout"`
	// DatabaseWriteBudget is how long a write keeps retrying a database that
	// stays locked before the request gets a 503 with Retry-After.
	DatabaseWriteBudget Duration `yaml:"database_write_budget"`

	// dir is the folder of the config file; relative paths in it resolve there.
	dir string
}

// MFA is the second factor's policy.
type MFA struct {
	// RequiredRoles must sign in with a second factor: a user of such a
	// role who has none enrols right after the password.
	RequiredRoles []string `yaml:"required_roles"`
	// KeyFile holds the key that seals TOTP secrets at rest; empty for
	// mfa.key in keys_dir (made on first use).
	KeyFile string `yaml:"key_file"`
	// RememberDevice, when set, lets a user skip the second factor on one
	// device for this long; 0 (the default) never.
	RememberDevice Duration `yaml:"remember_device"`
}

// Branding is the default accent colour and support contact
// (internal/branding checks them fully when the server starts).
type Branding struct {
	// AccentColor is #rrggbb, or "" for inkpass's own.
	AccentColor string `yaml:"accent_color"`
	// SupportContact is an email address, mailto:address or https URL.
	SupportContact string `yaml:"support_contact"`
}

// Links is how long each kind of single-use link works after it is issued.
type Links struct {
	Invitation        Duration `yaml:"invitation"`
	PasswordReset     Duration `yaml:"password_reset"`
	EmailVerification Duration `yaml:"email_verification"`
}

// Console is the studio console at /admin.
type Console struct {
	// ReauthAfter: a change in the console asks for the password (and
	// second factor) again when the admin's last authentication is older.
	ReauthAfter Duration `yaml:"reauth_after"`
}

// Log configures log/slog output.
type Log struct {
	Format string `yaml:"format"` // text or json
	Level  string `yaml:"level"`  // debug, info, warn, error
}

// Password is the password policy and the hashing pool's size.
type Password struct {
	// Target: argon2id, werkzeug, off, or auto (argon2id on a fresh database,
	// werkzeug on an adopted one).
	Target          string `yaml:"target"`
	MinLength       int    `yaml:"min_length"`
	Argon2MemoryKiB uint32 `yaml:"argon2_memory_kib"`
	Argon2Time      uint32 `yaml:"argon2_time"`
	Argon2Threads   uint8  `yaml:"argon2_threads"`
	// HashingMemoryMiB bounds the memory of password hashes running at once.
	HashingMemoryMiB int `yaml:"hashing_memory_mib"`
}

// Throttle is the failed-login policy.
type Throttle struct {
	FreeFailuresPerUsername int      `yaml:"free_failures_per_username"`
	FreeFailuresPerAddress  int      `yaml:"free_failures_per_address"`
	BaseLock                Duration `yaml:"base_lock"`
	MaxLock                 Duration `yaml:"max_lock"`
	Window                  Duration `yaml:"window"`
	// TrustedProxies lists proxy addresses whose X-Forwarded-For is believed.
	TrustedProxies []string `yaml:"trusted_proxies"`
}

// Pending limits, per client address, the /authorize requests that need the
// login page: each keeps a row until the user finishes.
type Pending struct {
	PerMinute int `yaml:"per_minute"`
	Burst     int `yaml:"burst"`
}

// Metrics configures the Prometheus endpoint.
type Metrics struct {
	Enabled bool `yaml:"enabled"`
	// Listen is the address /metrics is served on. It is never served on
	// the main listener: the counters describe sign-ins as they happen, so
	// next to the login page they help whoever is guessing. Empty means
	// DefaultMetricsListen.
	Listen string `yaml:"listen"`
}

// DefaultMetricsListen is where /metrics is served unless metrics.listen
// says otherwise: loopback, so that only an agent on the same host scrapes it.
const DefaultMetricsListen = "127.0.0.1:9464"

// Profiling serves Go's pprof endpoints for performance work. Off unless
// Listen is set, and only on a loopback address: profiles show request paths
// and memory contents, never something to expose.
type Profiling struct {
	Listen string `yaml:"listen"`
}

// Keys chooses where the signing keys live.
type Keys struct {
	// Store is "folder" (KeysDir, the default) or "database".
	Store string `yaml:"store"`
	// KEKFile is the key-encryption key of the database store; empty is
	// KeysDir/kek (KEKPath).
	KEKFile string `yaml:"kek_file"`
}

// The values of keys.store.
const (
	KeyStoreFolder   = "folder"
	KeyStoreDatabase = "database"
)

// KEKPath is the key-encryption key file of the database key store, and
// whether the operator named it (keys.kek_file) rather than taking the
// default beside the keys folder.
func (c *Config) KEKPath() (path string, configured bool) {
	if c.Keys.KEKFile != "" {
		return c.Keys.KEKFile, true
	}
	return filepath.Join(c.KeysDir, "kek"), false
}

// Signing is deprecated. Algorithm chose every client's ID-token
// algorithm, so changing it broke every running relying party at once (issue
// 13); each client now has its own (Client.IDTokenAlg, RS256 unless set). It
// is still read and validated, so older files load, and has no other effect.
type Signing struct {
	Algorithm string `yaml:"algorithm"` // RS256, ES256, EdDSA
}

// Tokens are the lifetimes of what inkpass issues.
type Tokens struct {
	Code         Duration `yaml:"authorization_code"`
	AccessToken  Duration `yaml:"access_token"`
	IDToken      Duration `yaml:"id_token"`
	RefreshToken Duration `yaml:"refresh_token"`
	// RefreshReuse is how long a just-rotated refresh token, presented again
	// by its own client, is answered in its family instead of revoking it
	// (parallel refreshes); 0 disables it.
	RefreshReuse Duration `yaml:"refresh_reuse_interval"`
	Session      Duration `yaml:"session"`
}

// Client is an OAuth client registered in the file. Its secret comes from
// SecretFile or an environment variable, never from the file itself.
type Client struct {
	ID                     string   `yaml:"id"`
	Name                   string   `yaml:"name"`
	Public                 bool     `yaml:"public"`
	FirstParty             bool     `yaml:"first_party"`
	RequireMFA             bool     `yaml:"require_mfa"` // every sign-in needs a second factor
	RedirectURIs           []string `yaml:"redirect_uris"`
	PostLogoutRedirectURIs []string `yaml:"post_logout_redirect_uris"`
	GrantTypes             []string `yaml:"grant_types"`
	Scopes                 []string `yaml:"scopes"`
	AuthMethod             string   `yaml:"auth_method"`
	Introspect             bool     `yaml:"introspect"`
	BackchannelLogoutURI   string   `yaml:"backchannel_logout_uri"`
	IDTokenAlg             string   `yaml:"id_token_signed_response_alg"` // RS256 (default), ES256, EdDSA
	SecretFile             string   `yaml:"secret_file"`
	SecretEnv              string   `yaml:"secret_env"`

	// Secret is read from SecretFile or SecretEnv by Load.
	Secret string `yaml:"-"`
	// secretProblem says why Secret could not be read ("" when it was):
	// only commands that register the client need it (RequireClientSecrets).
	secretProblem string
}

// Duration is a time.Duration written as "15m", "1h", "30s" in YAML.
type Duration time.Duration

// UnmarshalYAML parses Go duration syntax.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(strings.TrimSpace(n.Value))
	if err != nil {
		// A *yaml.TypeError lets the decoder carry on and report every bad
		// value at once; parse names the option from the line.
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %q is not a duration like 30s, 15m or 1h", n.Line, n.Value)}}
	}
	*d = Duration(v)
	return nil
}

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Default is the configuration of a fresh `make run`: loopback only, files
// beside the config. The issuer is localhost, not 127.0.0.1 (where it
// listens): browsers refuse an IP address as a WebAuthn relying-party id, so
// passkeys need a host name, and localhost resolves to the loopback listener.
func Default() Config {
	return Config{
		StudioName: "Tattoo Studio",
		Listen:     "127.0.0.1:8080",
		Issuer:     "http://localhost:8080",
		Database:   "inkpass.db",
		KeysDir:    "keys",
		Keys:       Keys{Store: KeyStoreFolder},
		Log:        Log{Format: "text", Level: "info"},
		Password: Password{
			Target:           "auto",
			MinLength:        8,
			Argon2MemoryKiB:  19456,
			Argon2Time:       2,
			Argon2Threads:    1,
			HashingMemoryMiB: 256,
		},
		Throttle: Throttle{
			FreeFailuresPerUsername: 5,
			FreeFailuresPerAddress:  20,
			BaseLock:                Duration(2 * time.Second),
			MaxLock:                 Duration(15 * time.Minute),
			Window:                  Duration(15 * time.Minute),
		},
		Signing:       Signing{Algorithm: "RS256"},
		Metrics:       Metrics{Enabled: true, Listen: DefaultMetricsListen},
		ShutdownGrace: Duration(15 * time.Second),
		PendingLogins: Pending{PerMinute: 60, Burst: 60},
		Links: Links{
			Invitation:        Duration(72 * time.Hour),
			PasswordReset:     Duration(time.Hour),
			EmailVerification: Duration(24 * time.Hour),
		},
		Console: Console{ReauthAfter: Duration(5 * time.Minute)},
		Tokens: Tokens{
			Code:         Duration(time.Minute),
			AccessToken:  Duration(time.Hour),
			IDToken:      Duration(time.Hour),
			RefreshToken: Duration(30 * 24 * time.Hour),
			// Long enough for the parallel requests of one page load on a
			// slow network, short enough that a thief's use of a token must
			// land within seconds of the client's own to go unnoticed.
			RefreshReuse: Duration(10 * time.Second),
			Session:      Duration(12 * time.Hour),
		},

		// The store's own defaults (store.DefaultBusyTimeout and
		// DefaultWriteBudget); config imports no other package of ours.
		DatabaseBusyTimeout: Duration(5 * time.Second),
		DatabaseWriteBudget: Duration(10 * time.Second),
		Mail:                defaultMail(),
	}
}

// Env names the environment variables that override the file.
const (
	EnvDatabase = "INKPASS_DATABASE"
	// EnvDatabasePassword is the PostgreSQL password (never in config.yaml).
	EnvDatabasePassword = "INKPASS_DATABASE_PASSWORD"
	// EnvKEK is the key-encryption key itself (base64), for replicas that
	// take their secrets from the environment; EnvKEKFile names its file
	// like keys.kek_file.
	EnvKEK      = "INKPASS_KEY_ENCRYPTION_KEY"
	EnvKEKFile  = "INKPASS_KEY_ENCRYPTION_KEY_FILE"
	EnvIssuer   = "INKPASS_ISSUER"
	EnvListen   = "INKPASS_LISTEN"
	EnvKeysDir  = "INKPASS_KEYS_DIR"
	EnvLogFmt   = "INKPASS_LOG_FORMAT"
	EnvLogLevel = "INKPASS_LOG_LEVEL"
	EnvTarget   = "INKPASS_PASSWORD_TARGET"

	EnvDatabaseBusyTimeout = "INKPASS_DATABASE_BUSY_TIMEOUT"
	EnvDatabaseWriteBudget = "INKPASS_DATABASE_WRITE_BUDGET"
)

// Load reads defaults, then the file at path (missing is fine only when
// required is false), then INKPASS_* overrides, then client secrets from their
// files or variables, and validates the result.
func Load(path string, required bool, getenv func(string) string) (*Config, error) {
	c := Default()
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	c.dir = filepath.Dir(abs)
	body, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := parse(body, &c); err != nil {
			return nil, fmt.Errorf("config %s: %w", path, err)
		}
		c.Database = c.resolveDatabase(c.Database)
		c.DatabasePasswordFile = c.resolve(c.DatabasePasswordFile)
		c.KeysDir = c.resolve(c.KeysDir)
		c.MFA.KeyFile = c.resolve(c.MFA.KeyFile)
		c.Keys.KEKFile = c.resolve(c.Keys.KEKFile)
	case errors.Is(err, os.ErrNotExist) && !required:
		c.Database = c.resolveDatabase(c.Database)
		c.KeysDir = c.resolve(c.KeysDir)
	default:
		return nil, fmt.Errorf("config %s: %w", path, err)
	}

	// Environment values are taken as the operator typed them: relative to the
	// working directory, like any other command-line path.
	override := func(dst *string, name string) {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			*dst = v
		}
	}
	override(&c.Database, EnvDatabase)
	override(&c.Issuer, EnvIssuer)
	override(&c.Listen, EnvListen)
	override(&c.KeysDir, EnvKeysDir)
	override(&c.Keys.KEKFile, EnvKEKFile)
	override(&c.Log.Format, EnvLogFmt)
	override(&c.Log.Level, EnvLogLevel)
	override(&c.Password.Target, EnvTarget)
	var envProblems []string
	overrideDuration := func(dst *Duration, name, option string) {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return
		}
		d, err := time.ParseDuration(v)
		if err != nil {
			envProblems = append(envProblems, fmt.Sprintf("%s (%s): %q is not a duration like 500ms, 5s or 1m", option, name, v))
			return
		}
		*dst = Duration(d)
	}
	overrideDuration(&c.DatabaseBusyTimeout, EnvDatabaseBusyTimeout, "database_busy_timeout")
	overrideDuration(&c.DatabaseWriteBudget, EnvDatabaseWriteBudget, "database_write_budget")
	if envProblems != nil {
		return nil, &ValidationError{Problems: envProblems}
	}
	if strings.TrimSpace(c.Metrics.Listen) == "" {
		// Older config files said "" for "on the main listener", which is
		// no longer offered: they get the loopback default instead.
		c.Metrics.Listen = DefaultMetricsListen
	}

	// A secret that cannot be read is not an error here: the admin commands
	// run in shells that do not hold the service's secrets, and only serve
	// needs them (RequireClientSecrets).
	for i := range c.Clients {
		cl := &c.Clients[i]
		name := fmt.Sprintf("clients[%d]", i)
		switch {
		case cl.SecretFile != "":
			b, err := os.ReadFile(c.resolve(cl.SecretFile))
			if err != nil {
				cl.secretProblem = fmt.Sprintf("%s.secret_file: cannot read the client secret: %v", name, err)
				break
			}
			cl.Secret = strings.TrimSpace(string(b))
			if cl.Secret == "" && !cl.Public {
				cl.secretProblem = fmt.Sprintf("%s.secret_file: %s is empty", name, c.resolve(cl.SecretFile))
			}
		case cl.SecretEnv != "":
			cl.Secret = strings.TrimSpace(getenv(cl.SecretEnv))
			if cl.Secret == "" && !cl.Public {
				cl.secretProblem = fmt.Sprintf("%s.secret_env: the environment variable %s is not set (or empty)", name, cl.SecretEnv)
			}
		}
	}
	c.loadMailPassword(getenv)
	// Replicas on one PostgreSQL database must sign with the same keys, so
	// there the keys always live in the database (sealed under the KEK,
	// which is not).
	if IsPostgresURL(c.Database) {
		c.Keys.Store = KeyStoreDatabase
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

func parse(body []byte, c *Config) error {
	dec := yaml.NewDecoder(bytes.NewReader(body))
	// An unknown key is almost always a typo that would silently keep a default.
	dec.KnownFields(true)
	// An empty file is a valid config: all defaults.
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			return nameOptions(body, te)
		}
		return err
	}
	return nil
}

// yamlLine matches the "line N: " that starts each of yaml's unmarshal errors.
var yamlLine = regexp.MustCompile(`^line (\d+): (.*)$`)

// nameOptions turns yaml's "line 12: cannot unmarshal ..." into
// "password.min_length: cannot unmarshal ... (line 12)", so that a value the
// decoder cannot read is reported by its option name, like every other
// problem.
func nameOptions(body []byte, te *yaml.TypeError) error {
	var root yaml.Node
	_ = yaml.Unmarshal(body, &root)
	options := map[int]string{}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				key := n.Content[i].Value
				if path != "" {
					key = path + "." + key
				}
				walk(n.Content[i+1], key)
				// An unknown key is reported at the key's line.
				if k := n.Content[i]; options[k.Line] == "" {
					options[k.Line] = key
				}
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(c, fmt.Sprintf("%s[%d]", path, i))
			}
		}
		// Children first: the deepest option on a line names it.
		if _, seen := options[n.Line]; path != "" && !seen {
			options[n.Line] = path
		}
	}
	walk(&root, "")
	problems := make([]string, 0, len(te.Errors))
	for _, e := range te.Errors {
		m := yamlLine.FindStringSubmatch(e)
		if m == nil {
			problems = append(problems, e)
			continue
		}
		line, _ := strconv.Atoi(m[1])
		option, ok := options[line]
		if !ok {
			problems = append(problems, e)
			continue
		}
		msg := m[2]
		if strings.HasPrefix(msg, "field ") && strings.Contains(msg, " not found in type ") {
			msg = "unknown option"
		}
		problems = append(problems, fmt.Sprintf("%s: %s (line %d)", option, msg, line))
	}
	return &ValidationError{Problems: problems}
}

// resolveDatabase resolves a SQLite path; a PostgreSQL URL stays as it is.
func (c *Config) resolveDatabase(p string) string {
	if IsPostgresURL(p) {
		return p
	}
	return c.resolve(p)
}

// IsPostgresURL reports whether a database setting names a PostgreSQL server
// (postgres:// or postgresql://) rather than a SQLite file.
func IsPostgresURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// DatabasePassword is the PostgreSQL password: INKPASS_DATABASE_PASSWORD,
// else the first line of database_password_file, else "" (the URL's own, or
// none).
func (c *Config) DatabasePassword(getenv func(string) string) (string, error) {
	if v := getenv(EnvDatabasePassword); v != "" {
		return v, nil
	}
	if c.DatabasePasswordFile == "" {
		return "", nil
	}
	pw, err := ReadPasswordFile(c.DatabasePasswordFile)
	if err != nil {
		return "", fmt.Errorf("database_password_file: %w", err)
	}
	return pw, nil
}

// ReadPasswordFile is the first line of the file at path, without its line
// ending: how database_password_file (and migrate-to --password-file) hold
// the PostgreSQL password.
func ReadPasswordFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return strings.TrimRight(strings.SplitN(string(b), "\n", 2)[0], "\r"), nil
}

func (c *Config) resolve(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.dir, p)
}

// Dir is the folder relative paths in the file resolve against.
func (c *Config) Dir() string { return c.dir }

// ValidationError lists every bad option.
type ValidationError struct {
	Problems []string
}

func (e *ValidationError) Error() string {
	return "invalid configuration:\n  - " + strings.Join(e.Problems, "\n  - ")
}

// accentPattern is branding.accent_color's one accepted shape.
var accentPattern = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// Validate reports every problem at once, each with the option's name.
func (c *Config) Validate() error {
	var p []string
	bad := func(option, format string, args ...any) {
		p = append(p, option+": "+fmt.Sprintf(format, args...))
	}
	if strings.TrimSpace(c.StudioName) == "" {
		bad("studio_name", "must not be empty")
	}
	if a := strings.TrimSpace(c.Branding.AccentColor); a != "" && !accentPattern.MatchString(a) {
		bad("branding.accent_color", "%q must be a colour written #rrggbb, like #c23a30", a)
	}
	if sc := strings.ToLower(strings.TrimSpace(c.Branding.SupportContact)); sc != "" {
		mail := strings.TrimPrefix(sc, "mailto:")
		if !strings.HasPrefix(sc, "https://") && (strings.Contains(mail, ":") || !strings.Contains(mail, "@")) {
			bad("branding.support_contact", "%q must be an email address or an https:// URL", c.Branding.SupportContact)
		}
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		bad("listen", "%q is not host:port", c.Listen)
	}
	if u, err := url.Parse(c.Issuer); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		bad("issuer", "%q must be an http(s) URL with no query or fragment (OpenID Connect Discovery §3)", c.Issuer)
	} else if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		bad("issuer", "%q must use https unless it is a loopback address", c.Issuer)
	} else if strings.HasSuffix(c.Issuer, "/") {
		bad("issuer", "%q must not end with a slash", c.Issuer)
	}
	if c.Database == "" {
		bad("database", "must not be empty")
	} else if IsPostgresURL(c.Database) {
		if u, err := url.Parse(c.Database); err != nil || u.Host == "" {
			bad("database", "a PostgreSQL URL must read postgres://user@host:port/database (see the PostgreSQL connection URI format)")
		}
	}
	// A link works once but is a password for as long as it lives.
	for _, l := range []struct {
		option string
		d      Duration
	}{{"links.invitation", c.Links.Invitation}, {"links.password_reset", c.Links.PasswordReset}, {"links.email_verification", c.Links.EmailVerification}} {
		if d := l.d.D(); d < 5*time.Minute || d > 30*24*time.Hour {
			bad(l.option, "must be between 5m and 720h")
		}
	}
	if d := c.Console.ReauthAfter.D(); d < time.Minute || d > 12*time.Hour {
		bad("console.reauth_after", "must be between 1m and 12h")
	}
	if d := c.DatabaseBusyTimeout.D(); d < time.Millisecond || d > time.Minute {
		bad("database_busy_timeout", "must be between 1ms and 1m")
	}
	// A write that waits longer would outlive the server's 60 s write timeout
	// and the login page's 45 s wait: the browser would get nothing at all.
	if d := c.DatabaseWriteBudget.D(); d < time.Millisecond || d > 30*time.Second {
		bad("database_write_budget", "must be between 1ms and 30s")
	}
	if c.Metrics.Enabled {
		if _, port, err := net.SplitHostPort(c.Metrics.Listen); err != nil {
			bad("metrics.listen", "%q is not host:port", c.Metrics.Listen)
		} else if port != "0" && c.Metrics.Listen == c.Listen {
			bad("metrics.listen", "must differ from listen: /metrics is never served next to the login page")
		}
	}
	if c.Profiling.Listen != "" {
		if host, port, err := net.SplitHostPort(c.Profiling.Listen); err != nil {
			bad("profiling.listen", "%q is not host:port", c.Profiling.Listen)
		} else if !isLoopback(host) {
			bad("profiling.listen", "%q must be a loopback address (127.0.0.1, ::1 or localhost)", c.Profiling.Listen)
		} else if port != "0" && (c.Profiling.Listen == c.Listen || c.Profiling.Listen == c.Metrics.Listen) {
			bad("profiling.listen", "must differ from listen and metrics.listen")
		}
	}
	if c.ShutdownGrace.D() < 0 || c.ShutdownGrace.D() > 10*time.Minute {
		bad("shutdown_grace", "must be between 0s and 10m")
	}
	if c.KeysDir == "" {
		bad("keys_dir", "must not be empty")
	}
	switch c.Keys.Store {
	case KeyStoreFolder, KeyStoreDatabase:
	default:
		bad("keys.store", "%q must be folder or database", c.Keys.Store)
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		bad("log.format", "%q must be text or json", c.Log.Format)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "%q must be debug, info, warn or error", c.Log.Level)
	}
	switch c.Password.Target {
	case "auto", "argon2id", "werkzeug", "off":
	default:
		bad("password.target", "%q must be auto, argon2id, werkzeug or off", c.Password.Target)
	}
	if c.Password.MinLength < 8 {
		bad("password.min_length", "%d is below 8 (NIST SP 800-63B)", c.Password.MinLength)
	}
	if c.Password.Argon2MemoryKiB < 19456 {
		bad("password.argon2_memory_kib", "%d is below OWASP's minimum of 19456", c.Password.Argon2MemoryKiB)
	}
	if c.Password.Argon2Time < 2 {
		bad("password.argon2_time", "%d is below OWASP's minimum of 2", c.Password.Argon2Time)
	}
	if c.Password.Argon2Threads < 1 {
		bad("password.argon2_threads", "must be at least 1")
	}
	// One werkzeug scrypt verification (N=32768, r=8) needs 32 MiB.
	if c.Password.HashingMemoryMiB < 32 {
		bad("password.hashing_memory_mib", "%d is too small: one scrypt verification needs 32", c.Password.HashingMemoryMiB)
	} else if int64(c.Password.HashingMemoryMiB)*1024 < int64(c.Password.Argon2MemoryKiB) {
		bad("password.hashing_memory_mib", "%d is smaller than one argon2 hash (%d KiB)", c.Password.HashingMemoryMiB, c.Password.Argon2MemoryKiB)
	}
	t := c.Throttle
	if t.FreeFailuresPerUsername < 1 {
		bad("throttle.free_failures_per_username", "must be at least 1")
	}
	if t.FreeFailuresPerAddress < 1 {
		bad("throttle.free_failures_per_address", "must be at least 1")
	}
	if t.BaseLock.D() <= 0 || t.MaxLock.D() < t.BaseLock.D() {
		bad("throttle.base_lock", "must be positive and not above throttle.max_lock")
	}
	if t.Window.D() <= 0 {
		bad("throttle.window", "must be positive")
	}
	for i, proxy := range t.TrustedProxies {
		if _, _, err := net.ParseCIDR(proxy); err != nil && net.ParseIP(proxy) == nil {
			bad(fmt.Sprintf("throttle.trusted_proxies[%d]", i), "%q is not an IP address or CIDR", proxy)
		}
	}
	if c.PendingLogins.PerMinute < 1 {
		bad("pending_logins.per_minute", "must be at least 1")
	}
	if c.PendingLogins.Burst < 1 {
		bad("pending_logins.burst", "must be at least 1")
	}
	switch c.Signing.Algorithm {
	case "RS256", "ES256", "EdDSA":
	default:
		bad("signing.algorithm", "%q must be RS256, ES256 or EdDSA", c.Signing.Algorithm)
	}
	tk := c.Tokens
	if tk.Code.D() <= 0 || tk.Code.D() > time.Minute {
		bad("tokens.authorization_code", "must be positive and at most 1m")
	}
	if tk.AccessToken.D() <= 0 || tk.AccessToken.D() > 24*time.Hour {
		bad("tokens.access_token", "must be positive and at most 24h")
	}
	if tk.IDToken.D() <= 0 || tk.IDToken.D() > 24*time.Hour {
		bad("tokens.id_token", "must be positive and at most 24h")
	}
	if tk.RefreshToken.D() <= 0 {
		bad("tokens.refresh_token", "must be positive")
	}
	// A leeway for concurrent requests, not a second lifetime: Okta and
	// Cognito cap theirs at 60 s too. Whole seconds, as the store counts.
	if r := tk.RefreshReuse.D(); r < 0 || r > time.Minute || r%time.Second != 0 {
		bad("tokens.refresh_reuse_interval", "must be whole seconds from 0 (off) to 1m")
	}
	if tk.Session.D() <= 0 {
		bad("tokens.session", "must be positive")
	}
	c.validateMail(bad)
	seen := map[string]bool{}
	for i, cl := range c.Clients {
		name := fmt.Sprintf("clients[%d]", i)
		if cl.ID == "" {
			bad(name+".id", "must not be empty")
		} else if seen[cl.ID] {
			bad(name+".id", "%q is registered twice", cl.ID)
		}
		seen[cl.ID] = true
		if len(cl.RedirectURIs) == 0 && !onlyClientCredentials(cl.GrantTypes) {
			bad(name+".redirect_uris", "needs at least one redirect URI")
		}
		secretOption := name + ".secret_file"
		if cl.SecretFile == "" && cl.SecretEnv != "" {
			secretOption = name + ".secret_env"
		}
		switch n := utf8.RuneCountInString(cl.Secret); {
		case cl.Public:
		case cl.SecretFile == "" && cl.SecretEnv == "":
			bad(name+".secret_file", "a confidential client needs its secret in secret_file or secret_env")
		case cl.secretProblem != "":
			// Unreadable here; RequireClientSecrets reports it to the
			// commands that need the secret.
		case n < MinClientSecretLength:
			// RFC 9700 §2.5 wants client credentials nobody can guess; the
			// token endpoint's throttle is a second line, not the first.
			bad(secretOption, "the secret is %d characters; at least %d are needed (128 bits), e.g. from `openssl rand -base64 32`", n, MinClientSecretLength)
		}
		if cl.Public && cl.Introspect {
			bad(name+".introspect", "a public client cannot authenticate at the introspection endpoint")
		}
		if a := cl.IDTokenAlg; a != "" && !strings.EqualFold(a, "RS256") && !strings.EqualFold(a, "ES256") && !strings.EqualFold(a, "EdDSA") {
			bad(name+".id_token_signed_response_alg", "%q must be RS256, ES256 or EdDSA", a)
		}
	}
	if len(p) > 0 {
		return &ValidationError{Problems: p}
	}
	return nil
}

// MinClientSecretLength is the shortest client secret config.yaml may give:
// 32 characters carry at least 128 bits even as hex.
const MinClientSecretLength = 32

// RequireClientSecrets reports every confidential client whose secret Load
// could not read, naming the option (secret_env or secret_file) and the
// variable or file. serve calls it before registering the clients; other
// commands never need the secrets.
func (c *Config) RequireClientSecrets() error {
	var p []string
	for _, cl := range c.Clients {
		if cl.secretProblem != "" && !cl.Public {
			p = append(p, cl.secretProblem)
		}
	}
	if len(p) > 0 {
		return &ValidationError{Problems: p}
	}
	return nil
}

func onlyClientCredentials(grants []string) bool {
	return len(grants) == 1 && grants[0] == "client_credentials"
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// IssuerIsHTTPS decides whether cookies are marked Secure.
func (c *Config) IssuerIsHTTPS() bool { return strings.HasPrefix(c.Issuer, "https://") }
