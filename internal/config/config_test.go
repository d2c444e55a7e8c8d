package config_test

import (
	"errors"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/config"
)

// shippedConfig is the repository's own config.yaml, the one `make run` uses.
const shippedConfig = "../../config.yaml"

// envMap is a getenv backed by a map, so tests never read the real environment.
func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

var noEnv = envMap(nil)

// writeConfig writes body as config.yaml in a new temporary folder.
func writeConfig(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoad_ShippedConfig(t *testing.T) {
	c, err := config.Load(shippedConfig, true, noEnv)
	if err != nil {
		t.Fatalf("Load(%s): %v", shippedConfig, err)
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("paths resolve beside the file", func(t *testing.T) {
		if want := filepath.Join(root, "inkpass.db"); c.Database != want {
			t.Errorf("database = %q, want %q", c.Database, want)
		}
		if want := filepath.Join(root, "keys"); c.KeysDir != want {
			t.Errorf("keys_dir = %q, want %q", c.KeysDir, want)
		}
		if c.Dir() != root {
			t.Errorf("Dir() = %q, want %q", c.Dir(), root)
		}
	})

	// Browsers refuse an IP address as a WebAuthn relying-party id, so a
	// fresh `make run` must name its issuer for passkeys to work, while the
	// listener stays on the loopback address.
	t.Run("the issuer is a host name that passkeys accept, on loopback", func(t *testing.T) {
		u, err := url.Parse(c.Issuer)
		if err != nil || u.Hostname() != "localhost" || net.ParseIP(u.Hostname()) != nil {
			t.Errorf("issuer = %q, want http://localhost:<port> (an IP address turns passkeys off)", c.Issuer)
		}
		host, port, err := net.SplitHostPort(c.Listen)
		if err != nil || !net.ParseIP(host).IsLoopback() || u.Port() != port {
			t.Errorf("listen = %q, want a loopback address on the issuer's port %q", c.Listen, u.Port())
		}
	})

	t.Run("every option in the file shows its default", func(t *testing.T) {
		d := config.Default()
		if c.StudioName != d.StudioName || c.LogoURL != d.LogoURL || c.Listen != d.Listen || c.Issuer != d.Issuer {
			t.Errorf("top-level options = %q %q %q %q, defaults %q %q %q %q",
				c.StudioName, c.LogoURL, c.Listen, c.Issuer, d.StudioName, d.LogoURL, d.Listen, d.Issuer)
		}
		if c.Log != d.Log {
			t.Errorf("log = %+v, default %+v", c.Log, d.Log)
		}
		if c.Password != d.Password {
			t.Errorf("password = %+v, default %+v", c.Password, d.Password)
		}
		ct, dt := c.Throttle, d.Throttle
		ct.TrustedProxies, dt.TrustedProxies = nil, nil
		if !reflect.DeepEqual(ct, dt) || len(c.Throttle.TrustedProxies) != 0 {
			t.Errorf("throttle = %+v, default %+v", c.Throttle, d.Throttle)
		}
		if c.PendingLogins != d.PendingLogins {
			t.Errorf("pending_logins = %+v, default %+v", c.PendingLogins, d.PendingLogins)
		}
		if c.Signing != d.Signing || c.Tokens != d.Tokens {
			t.Errorf("signing, tokens = %+v %+v, defaults %+v %+v", c.Signing, c.Tokens, d.Signing, d.Tokens)
		}
	})

	t.Run("the demo client is a public PKCE client", func(t *testing.T) {
		if len(c.Clients) == 0 || c.Clients[0].ID != "studio-demo" || !c.Clients[0].Public {
			t.Fatalf("clients = %+v, want studio-demo first and public", c.Clients)
		}
	})

	t.Run("the file mentions every option of the Config type", func(t *testing.T) {
		body, err := os.ReadFile(shippedConfig)
		if err != nil {
			t.Fatal(err)
		}
		for _, key := range yamlKeys(reflect.TypeFor[config.Config]()) {
			if !strings.Contains(string(body), key) {
				t.Errorf("config.yaml does not document %q", key)
			}
		}
	})
}

// yamlKeys lists the yaml tag of every field of typ, recursively.
func yamlKeys(typ reflect.Type) []string {
	var keys []string
	for i := range typ.NumField() {
		f := typ.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if tag == "" || tag == "-" {
			continue
		}
		keys = append(keys, tag)
		ft := f.Type
		if ft.Kind() == reflect.Slice {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct {
			keys = append(keys, yamlKeys(ft)...)
		}
	}
	return keys
}

func TestLoad_EnvironmentOverridesTheFile(t *testing.T) {
	path := writeConfig(t, "database: from-file.db\nlisten: 127.0.0.1:7000\n")
	dir := filepath.Dir(path)
	for _, tc := range []struct {
		name string
		env  map[string]string
		get  func(c *config.Config) string
		want string
	}{
		{"INKPASS_DATABASE replaces database, taken as typed", map[string]string{"INKPASS_DATABASE": "other/studio.db"},
			func(c *config.Config) string { return c.Database }, "other/studio.db"},
		{"INKPASS_DATABASE may be absolute", map[string]string{"INKPASS_DATABASE": "/srv/studio/app.db"},
			func(c *config.Config) string { return c.Database }, "/srv/studio/app.db"},
		{"an empty INKPASS_DATABASE keeps the file's value", map[string]string{"INKPASS_DATABASE": "  "},
			func(c *config.Config) string { return c.Database }, filepath.Join(dir, "from-file.db")},
		{"INKPASS_ISSUER replaces issuer", map[string]string{"INKPASS_ISSUER": "https://id.studio.example"},
			func(c *config.Config) string { return c.Issuer }, "https://id.studio.example"},
		{"INKPASS_LISTEN replaces listen", map[string]string{"INKPASS_LISTEN": "127.0.0.1:0"},
			func(c *config.Config) string { return c.Listen }, "127.0.0.1:0"},
		{"INKPASS_KEYS_DIR replaces keys_dir", map[string]string{"INKPASS_KEYS_DIR": "/var/lib/inkpass/keys"},
			func(c *config.Config) string { return c.KeysDir }, "/var/lib/inkpass/keys"},
		{"INKPASS_LOG_FORMAT replaces log.format", map[string]string{"INKPASS_LOG_FORMAT": "json"},
			func(c *config.Config) string { return c.Log.Format }, "json"},
		{"INKPASS_LOG_LEVEL replaces log.level", map[string]string{"INKPASS_LOG_LEVEL": "debug"},
			func(c *config.Config) string { return c.Log.Level }, "debug"},
		{"INKPASS_PASSWORD_TARGET replaces password.target", map[string]string{"INKPASS_PASSWORD_TARGET": "off"},
			func(c *config.Config) string { return c.Password.Target }, "off"},
		{"without overrides the file's listen stays", nil,
			func(c *config.Config) string { return c.Listen }, "127.0.0.1:7000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := config.Load(path, true, envMap(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			if got := tc.get(c); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// problemsOf returns the option names of a *config.ValidationError: the text
// before the first ": " of each problem.
func problemsOf(t *testing.T, err error) []string {
	t.Helper()
	var ve *config.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v (%T) is not a *config.ValidationError", err, err)
	}
	var names []string
	for _, p := range ve.Problems {
		name, _, _ := strings.Cut(p, ": ")
		names = append(names, name)
	}
	return names
}

// badValues are one wrong value per option, with the option name the error
// must carry.
var badValues = []struct {
	name   string
	yaml   string
	option string
}{
	{"an empty studio name", `studio_name: ""`, "studio_name"},
	{"an accent colour by name", "branding:\n  accent_color: red", "branding.accent_color"},
	{"a short accent colour", "branding:\n  accent_color: \"#f00\"", "branding.accent_color"},
	{"an http support contact", "branding:\n  support_contact: \"http://help.example\"", "branding.support_contact"},
	{"a javascript support contact", "branding:\n  support_contact: \"javascript:alert(1)//@x\"", "branding.support_contact"},
	{"a listen address without a port", `listen: "localhost"`, "listen"},
	{"an ftp issuer", `issuer: "ftp://id.example"`, "issuer"},
	{"a plain-http issuer that is not loopback", `issuer: "http://id.studio.example"`, "issuer"},
	{"an issuer with a trailing slash", `issuer: "https://id.studio.example/"`, "issuer"},
	{"an issuer with a query", `issuer: "https://id.studio.example?x=1"`, "issuer"},
	{"an empty database path", `database: ""`, "database"},
	{"an empty keys folder", `keys_dir: ""`, "keys_dir"},
	{"a log format other than text and json", "log:\n  format: xml", "log.format"},
	{"an unknown log level", "log:\n  level: loud", "log.level"},
	{"an unknown password target", "password:\n  target: md5", "password.target"},
	{"a minimum password length below 8", "password:\n  min_length: 6", "password.min_length"},
	{"argon2 memory below OWASP's minimum", "password:\n  argon2_memory_kib: 1024", "password.argon2_memory_kib"},
	{"a single argon2 pass", "password:\n  argon2_time: 1", "password.argon2_time"},
	{"zero argon2 threads", "password:\n  argon2_threads: 0", "password.argon2_threads"},
	{"a hashing budget too small for one scrypt", "password:\n  hashing_memory_mib: 16", "password.hashing_memory_mib"},
	{"no free failures per username", "throttle:\n  free_failures_per_username: 0", "throttle.free_failures_per_username"},
	{"no free failures per address", "throttle:\n  free_failures_per_address: 0", "throttle.free_failures_per_address"},
	{"a base lock above the max lock", "throttle:\n  base_lock: 1h\n  max_lock: 1m", "throttle.base_lock"},
	{"a zero window", "throttle:\n  window: 0s", "throttle.window"},
	{"a trusted proxy that is no address", "throttle:\n  trusted_proxies: [\"10.0.0.0/8\", \"proxy.local\"]", "throttle.trusted_proxies[1]"},
	{"a profiling address that is not loopback", "profiling:\n  listen: \"0.0.0.0:6060\"", "profiling.listen"},
	{"a profiling address without a port", "profiling:\n  listen: \"127.0.0.1\"", "profiling.listen"},
	{"a profiling address that is the main one", "listen: \"127.0.0.1:8080\"\nprofiling:\n  listen: \"127.0.0.1:8080\"", "profiling.listen"},
	{"an HMAC signing algorithm", "signing:\n  algorithm: HS256", "signing.algorithm"},
	{"a key store that is neither folder nor database", "keys:\n  store: vault", "keys.store"},
	{"a code that lives five minutes", "tokens:\n  authorization_code: 5m", "tokens.authorization_code"},
	{"an access token that lives two days", "tokens:\n  access_token: 48h", "tokens.access_token"},
	{"a zero id token lifetime", "tokens:\n  id_token: 0s", "tokens.id_token"},
	{"a zero refresh token lifetime", "tokens:\n  refresh_token: 0s", "tokens.refresh_token"},
	{"a negative refresh reuse interval", "tokens:\n  refresh_reuse_interval: -1s", "tokens.refresh_reuse_interval"},
	{"a refresh reuse interval of two minutes", "tokens:\n  refresh_reuse_interval: 2m", "tokens.refresh_reuse_interval"},
	{"a refresh reuse interval of part of a second", "tokens:\n  refresh_reuse_interval: 1500ms", "tokens.refresh_reuse_interval"},
	{"a zero session lifetime", "tokens:\n  session: 0s", "tokens.session"},
	{"a client without id", "clients:\n  - public: true\n    redirect_uris: [\"http://127.0.0.1:9/cb\"]", "clients[0].id"},
	{"a client without redirect URIs", "clients:\n  - id: app\n    public: true", "clients[0].redirect_uris"},
	{"a confidential client without a secret", "clients:\n  - id: app\n    redirect_uris: [\"http://127.0.0.1:9/cb\"]", "clients[0].secret_file"},
	{"a client with an HMAC ID-token algorithm", "clients:\n  - id: app\n    public: true\n    redirect_uris: [\"http://127.0.0.1:9/cb\"]\n    id_token_signed_response_alg: HS256", "clients[0].id_token_signed_response_alg"},
	{"a client with unsigned ID tokens", "clients:\n  - id: app\n    public: true\n    redirect_uris: [\"http://127.0.0.1:9/cb\"]\n    id_token_signed_response_alg: none", "clients[0].id_token_signed_response_alg"},
	{"a client registered twice", "clients:\n  - id: app\n    public: true\n    redirect_uris: [\"http://127.0.0.1:9/cb\"]\n  - id: app\n    public: true\n    redirect_uris: [\"http://127.0.0.1:9/cb\"]", "clients[1].id"},
}

func TestLoad_RefusesBadValues(t *testing.T) {
	for _, tc := range badValues {
		t.Run(tc.name+" is refused naming "+tc.option, func(t *testing.T) {
			_, err := config.Load(writeConfig(t, tc.yaml+"\n"), true, noEnv)
			if err == nil {
				t.Fatal("Load accepted the value")
			}
			if got := problemsOf(t, err); !reflect.DeepEqual(got, []string{tc.option}) {
				t.Errorf("problems name %q, want exactly [%s]; error: %v", got, tc.option, err)
			}
		})
	}
}

func TestLoad_ReportsEveryBadOptionAtOnce(t *testing.T) {
	body := `studio_name: ""
listen: nowhere
issuer: "http://id.studio.example"
log:
  format: xml
  level: loud
password:
  target: md5
  min_length: 4
throttle:
  window: 0s
signing:
  algorithm: none
tokens:
  session: 0s
`
	_, err := config.Load(writeConfig(t, body), true, noEnv)
	if err == nil {
		t.Fatal("Load accepted ten bad values")
	}
	want := []string{"studio_name", "listen", "issuer", "log.format", "log.level", "password.target",
		"password.min_length", "throttle.window", "signing.algorithm", "tokens.session"}
	got := problemsOf(t, err)
	slices.Sort(got)
	slices.Sort(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems name %q,\nwant %q", got, want)
	}
}

func TestLoad_RefusesBadEnvironmentValues(t *testing.T) {
	for _, tc := range []struct {
		name   string
		env    map[string]string
		option string
	}{
		{"INKPASS_ISSUER without a scheme is refused as issuer", map[string]string{"INKPASS_ISSUER": "id.studio.example"}, "issuer"},
		{"INKPASS_LISTEN without a port is refused as listen", map[string]string{"INKPASS_LISTEN": "0.0.0.0"}, "listen"},
		{"INKPASS_LOG_LEVEL loud is refused as log.level", map[string]string{"INKPASS_LOG_LEVEL": "loud"}, "log.level"},
		{"INKPASS_PASSWORD_TARGET sha1 is refused as password.target", map[string]string{"INKPASS_PASSWORD_TARGET": "sha1"}, "password.target"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Load(writeConfig(t, ""), true, envMap(tc.env))
			if got := problemsOf(t, err); !reflect.DeepEqual(got, []string{tc.option}) {
				t.Errorf("problems name %q, want [%s]", got, tc.option)
			}
		})
	}
}

func TestLoad_RefusesUnparsableValuesNamingTheOption(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		options    []string
		values     []string
	}{
		{"a duration that is not one names its option", "throttle:\n  base_lock: soon\n",
			[]string{"throttle.base_lock"}, []string{"soon"}},
		{"a word where a number belongs names its option", "password:\n  min_length: eight\n",
			[]string{"password.min_length"}, []string{"eight"}},
		{"two unparsable values are both named", "throttle:\n  window: forever\ntokens:\n  session: never\n",
			[]string{"throttle.window", "tokens.session"}, []string{"forever", "never"}},
		{"a misspelt top-level key is refused as an unknown option", "listne: 127.0.0.1:8080\n",
			[]string{"listne"}, []string{"unknown option"}},
		{"a misspelt nested key is refused with its full name", "password:\n  targett: werkzeug\n",
			[]string{"password.targett"}, []string{"unknown option"}},
		{"a key from another program is refused", "server:\n  port: 8080\n",
			[]string{"server"}, []string{"unknown option"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Load(writeConfig(t, tc.yaml), true, noEnv)
			if err == nil {
				t.Fatal("Load accepted the file")
			}
			if got := problemsOf(t, err); !reflect.DeepEqual(got, tc.options) {
				t.Errorf("problems name %q, want %q; error: %v", got, tc.options, err)
			}
			for _, w := range tc.values {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestLoad_MissingFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "nowhere", "config.yaml")

	t.Run("a missing file the operator named is an error", func(t *testing.T) {
		_, err := config.Load(path, true, noEnv)
		if !errors.Is(err, os.ErrNotExist) {
			t.Errorf("err = %v, want one wrapping os.ErrNotExist", err)
		}
		if err != nil && !strings.Contains(err.Error(), path) {
			t.Errorf("error %q does not name the file", err)
		}
	})

	t.Run("a missing default file means all defaults, paths beside it", func(t *testing.T) {
		c, err := config.Load(path, false, noEnv)
		if err != nil {
			t.Fatal(err)
		}
		d := config.Default()
		if c.Listen != d.Listen || c.Password != d.Password || c.Tokens != d.Tokens {
			t.Errorf("config %+v is not the defaults", c)
		}
		if want := filepath.Join(dir, "nowhere", "inkpass.db"); c.Database != want {
			t.Errorf("database = %q, want %q", c.Database, want)
		}
	})

	t.Run("an empty file means all defaults", func(t *testing.T) {
		c, err := config.Load(writeConfig(t, ""), true, noEnv)
		if err != nil {
			t.Fatal(err)
		}
		if d := config.Default(); c.Throttle.Window != d.Throttle.Window || c.Signing != d.Signing {
			t.Errorf("empty file gave %+v", c)
		}
	})
}

func TestLoad_RelativePathsResolveBesideTheFile(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "etc", "inkpass")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "app.secret"), []byte("s3cret-from-file-0123456789abcdefghij\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "config.yaml")
	body := `database: data/studio.db
keys_dir: ../keys
clients:
  - id: from-file
    redirect_uris: ["https://app.studio.example/cb"]
    secret_file: app.secret
  - id: from-env
    redirect_uris: ["https://other.studio.example/cb"]
    secret_env: OTHER_SECRET
`
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	// Load from another working directory's point of view: a relative path to
	// the config must still put the database beside the config, not beside
	// the process.
	rel, err := filepath.Rel(mustGetwd(t), path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(rel, true, envMap(map[string]string{"OTHER_SECRET": " env-secret-0123456789abcdefghijklmnop \n"}))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, got, want string }{
		{"database", c.Database, filepath.Join(dir, "data", "studio.db")},
		{"keys_dir", c.KeysDir, filepath.Join(root, "etc", "keys")},
		{"secret_file contents, trimmed", c.Clients[0].Secret, "s3cret-from-file-0123456789abcdefghij"},
		{"secret_env contents, trimmed", c.Clients[1].Secret, "env-secret-0123456789abcdefghijklmnop"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %q, want %q", tc.name, tc.got, tc.want)
		}
	}

	abs := filepath.Join(root, "elsewhere.db")
	c, err = config.Load(writeConfig(t, "database: "+abs+"\n"), true, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if c.Database != abs {
		t.Errorf("an absolute database path became %q, want %q unchanged", c.Database, abs)
	}
}

// TestLoad_RefusesShortClientSecrets: a client secret from secret_file or
// secret_env must carry at least 128 bits (32 characters): a guessable
// secret would make throttling the only defence.
func TestLoad_RefusesShortClientSecrets(t *testing.T) {
	dir := t.TempDir()
	for name, secret := range map[string]string{"one.secret": "x", "short.secret": strings.Repeat("k", 31), "ok.secret": strings.Repeat("k", 32)} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(secret+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	client := func(id, source string) string {
		return "  - id: " + id + "\n    grant_types: [client_credentials]\n    " + source + "\n"
	}
	for _, tc := range []struct {
		name, clients, option string
		env                   map[string]string
	}{
		{"a one-character secret_file", client("a", "secret_file: one.secret"), "clients[0].secret_file", nil},
		{"a 31-character secret_file", client("a", "secret_file: short.secret"), "clients[0].secret_file", nil},
		{"a one-character secret_env", client("a", "secret_file: ok.secret") + client("b", "secret_env: B_SECRET"), "clients[1].secret_env", map[string]string{"B_SECRET": "y"}},
	} {
		t.Run(tc.name+" is refused naming "+tc.option, func(t *testing.T) {
			path := filepath.Join(dir, "config.yaml")
			if err := os.WriteFile(path, []byte("clients:\n"+tc.clients), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := config.Load(path, true, envMap(tc.env))
			if err == nil {
				t.Fatal("Load accepted the secret")
			}
			if got := problemsOf(t, err); !reflect.DeepEqual(got, []string{tc.option}) {
				t.Errorf("problems name %q, want exactly [%s]; error: %v", got, tc.option, err)
			}
			if !strings.Contains(err.Error(), "32") {
				t.Errorf("error %q does not say how long a secret must be", err)
			}
		})
	}
	t.Run("32 characters are enough", func(t *testing.T) {
		path := filepath.Join(dir, "config.yaml")
		if err := os.WriteFile(path, []byte("clients:\n"+client("a", "secret_file: ok.secret")), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := config.Load(path, true, noEnv); err != nil {
			t.Fatalf("Load: %v", err)
		}
	})
}

func mustGetwd(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return wd
}

func TestDuration_ParsesGoSyntax(t *testing.T) {
	c, err := config.Load(writeConfig(t, "throttle:\n  base_lock: 1500ms\n  max_lock: 1h30m\n"), true, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Throttle.BaseLock.D(); got != 1500*time.Millisecond {
		t.Errorf("base_lock = %v, want 1.5s", got)
	}
	if got := c.Throttle.MaxLock.D(); got != 90*time.Minute {
		t.Errorf("max_lock = %v, want 1h30m", got)
	}
}

// TestLoad_ClientSecretsAreNeededOnlyByWhatUsesThem: a secret missing from
// the environment (or an unreadable secret_file) does not stop Load, so that
// admin commands run in a shell without it; RequireClientSecrets, which serve
// calls, names the option that holds the secret and the variable or file.
func TestLoad_ClientSecretsAreNeededOnlyByWhatUsesThem(t *testing.T) {
	body := `clients:
  - id: from-env
    redirect_uris: ["https://app.studio.example/cb"]
    secret_env: APP_CLIENT_SECRET
  - id: from-file
    redirect_uris: ["https://other.studio.example/cb"]
    secret_file: missing.secret
  - id: spa
    public: true
    redirect_uris: ["https://spa.studio.example/cb"]
`
	path := writeConfig(t, body)
	c, err := config.Load(path, true, noEnv)
	if err != nil {
		t.Fatalf("Load without the client secrets: %v", err)
	}
	err = c.RequireClientSecrets()
	if got, want := problemsOf(t, err), []string{"clients[0].secret_env", "clients[1].secret_file"}; !reflect.DeepEqual(got, want) {
		t.Errorf("problems name %q, want %q; error: %v", got, want, err)
	}
	if !strings.Contains(err.Error(), "APP_CLIENT_SECRET") || !strings.Contains(err.Error(), "missing.secret") {
		t.Errorf("the error does not name the variable and the file: %v", err)
	}

	if err := os.WriteFile(filepath.Join(filepath.Dir(path), "missing.secret"), []byte("file-secret-of-at-least-32-characters\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err = config.Load(path, true, envMap(map[string]string{"APP_CLIENT_SECRET": "env-secret-of-at-least-32-characters"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.RequireClientSecrets(); err != nil {
		t.Errorf("RequireClientSecrets with both secrets present: %v", err)
	}
	if c.Clients[0].Secret != "env-secret-of-at-least-32-characters" || c.Clients[1].Secret != "file-secret-of-at-least-32-characters" {
		t.Errorf("secrets = %q, %q; want the env's and the file's", c.Clients[0].Secret, c.Clients[1].Secret)
	}
}

func TestLoad_ClientIDTokenAlg(t *testing.T) {
	body := "clients:\n  - id: app\n    public: true\n    redirect_uris: [\"http://127.0.0.1:9/cb\"]\n    id_token_signed_response_alg: ES256\n" +
		"  - id: other\n    public: true\n    redirect_uris: [\"http://127.0.0.1:9/cb\"]\n"
	c, err := config.Load(writeConfig(t, body), true, noEnv)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got := c.Clients[0].IDTokenAlg; got != "ES256" {
		t.Errorf("clients[0].id_token_signed_response_alg = %q, want ES256", got)
	}
	if got := c.Clients[1].IDTokenAlg; got != "" {
		t.Errorf("clients[1].id_token_signed_response_alg = %q, want unset (the client keeps its algorithm)", got)
	}
}

// TestConfig_KEKPath: the database key store's key-encryption key defaults to
// keys_dir/kek, and keys.kek_file, resolved beside the config file, replaces
// it; the folder store stays the default.
func TestConfig_KEKPath(t *testing.T) {
	c, err := config.Load(writeConfig(t, "keys_dir: k\n"), true, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if c.Keys.Store != config.KeyStoreFolder {
		t.Errorf("keys.store defaults to %q, want folder", c.Keys.Store)
	}
	if path, configured := c.KEKPath(); path != filepath.Join(c.KeysDir, "kek") || configured {
		t.Errorf("KEKPath() = %q, %v, want %q, false", path, configured, filepath.Join(c.KeysDir, "kek"))
	}
	c, err = config.Load(writeConfig(t, "keys:\n  store: database\n  kek_file: secrets/kek\n"), true, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	path, configured := c.KEKPath()
	if !configured || !filepath.IsAbs(path) || !strings.HasSuffix(path, filepath.Join("secrets", "kek")) || filepath.Dir(filepath.Dir(path)) != c.Dir() {
		t.Errorf("KEKPath() = %q, %v, want %s, true", path, configured, filepath.Join(c.Dir(), "secrets", "kek"))
	}
}

func TestLoad_Branding(t *testing.T) {
	for _, contact := range []string{"help@studio.example", "mailto:help@studio.example", "https://studio.example/help"} {
		c, err := config.Load(writeConfig(t, "branding:\n  accent_color: \"#1E90FF\"\n  support_contact: \""+contact+"\"\n"), true, noEnv)
		if err != nil {
			t.Fatalf("Load with support_contact %q: %v", contact, err)
		}
		if c.Branding.AccentColor != "#1E90FF" || c.Branding.SupportContact != contact {
			t.Errorf("branding = %+v", c.Branding)
		}
	}
}
