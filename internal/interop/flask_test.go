//go:build interop

package interop

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestFlaskAuthlib runs the README's Flask + Authlib example exactly as the
// README prints it (Debian's python3-flask and python3-authlib).
func TestFlaskAuthlib(t *testing.T) {
	python, err := flaskPython()
	need(t, "flask-authlib", "Flask + Authlib (python3-flask, python3-authlib)", err)
	code, err := readmeFlaskApp(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, alg := range algs {
		t.Run(alg, func(t *testing.T) {
			r := &rpRun{t: t, rp: "flask-authlib", alg: alg}
			var base string
			r.setup(func() (err error) {
				base, err = startFlask(t, python, code, alg)
				return err
			})
			b := newBrowser(artistUser, artistPass)
			r.step("login", func(t *testing.T) {
				p := b.get(t, base+"/login")
				if p.status != 200 || p.loginForms != 1 || p.url.Path != "/" {
					t.Fatalf("sign-in through the login form did not land on the app's page: %s", p)
				}
				if p.json(t)["role"] == nil {
					t.Fatalf("the app shows no signed-in user: %s", p)
				}
			})
			r.step("id_token", func(t *testing.T) {
				// Authlib checked the signature, iss, aud, exp and nonce in
				// authorize_access_token; the session holds the token it accepted.
				checkAlg(t, flaskSessionString(t, b, base, "id_token"), alg)
			})
			r.step("claims", func(t *testing.T) {
				m := b.get(t, base+"/").json(t)
				checkArtist(t, "the Flask app's user", m["role"], m["artist_id"], m["artist_name"])
			})
			r.step("refresh", func(t *testing.T) {
				// Twice: the second uses the refresh token the first rotated in.
				for i := range 2 {
					p := b.get(t, base+"/refresh")
					if p.status != 200 {
						t.Fatalf("refresh %d: %s", i+1, p)
					}
					m := p.json(t)
					checkArtist(t, "userinfo after refresh "+strconv.Itoa(i+1), m["role"], m["artist_id"], m["artist_name"])
				}
			})
			r.step("logout", func(t *testing.T) {
				p := b.get(t, base+"/logout")
				if p.status != 200 || p.url.Host != strings.TrimPrefix(base, "http://") || p.url.Path != "/" {
					t.Fatalf("logout did not come back to the app: %s", p)
				}
				if p.logoutConfirms != 0 {
					t.Errorf("inkpass asked to confirm although the app sent its id_token_hint: %s", p)
				}
				if bytes.Contains(p.body, []byte(`"role"`)) {
					t.Errorf("the app still shows a user after logout: %s", p)
				}
				b.user = "" // no password now: a live inkpass session would sign in without one
				if p := b.get(t, base+"/login"); !p.atLogin {
					t.Errorf("after logout, signing in again did not ask for a password: %s", p)
				}
			})
		})
	}
}

// flaskPython finds a python3 that imports flask and authlib: Debian's
// /usr/bin/python3 first, since a pyenv or venv python3 on PATH lacks the
// Debian packages.
func flaskPython() (string, error) {
	var errs []error
	for _, py := range []string{"/usr/bin/python3", "python3"} {
		out, err := exec.Command(py, "-c", "import flask, authlib").CombinedOutput()
		if err == nil {
			return py, nil
		}
		errs = append(errs, fmt.Errorf("%s: %v %s", py, err, strings.TrimSpace(string(out))))
	}
	return "", errors.Join(errs...)
}

// readmeFlaskApp returns the first python block of the README's "A Flask
// app" section, as printed.
func readmeFlaskApp(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	s := string(b)
	_, section, ok := strings.Cut(s, "\n### A Flask app\n")
	if !ok {
		return "", errors.New("README.md has no \"### A Flask app\" section")
	}
	_, code, ok := strings.Cut(section, "```python\n")
	if !ok {
		return "", errors.New("README.md's Flask section has no ```python block")
	}
	code, _, ok = strings.Cut(code, "\n```")
	if !ok {
		return "", errors.New("README.md's Flask python block is not closed")
	}
	return code + "\n", nil
}

// startFlask registers a client for the app, writes the README's code to
// app.py and runs it with `flask run` on a free port; it returns the app's
// base URL.
func startFlask(t *testing.T, python, code, alg string) (string, error) {
	id := "flask-" + strings.ToLower(alg)
	rp, err := idp.addRP(id, alg, "/callback", "/", nil)
	if err != nil {
		return "", err
	}
	port, base, secret := rp.port, rp.base, rp.secret
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app.py"), []byte(code), 0o600); err != nil {
		return "", err
	}
	p, err := startProc(t, "flask", dir, baseEnv(
		"INKPASS_ISSUER="+idp.base, "INKPASS_CLIENT_ID="+id, "INKPASS_CLIENT_SECRET="+secret,
		"FLASK_SECRET_KEY="+randomText(), "PYTHONDONTWRITEBYTECODE=1",
	), python, "-m", "flask", "--app", "app", "run", "--host", "127.0.0.1", "--port", strconv.Itoa(port))
	if err != nil {
		return "", err
	}
	return base, p.ready(base + "/")
}

// flaskSessionString reads one string from the Flask app's session cookie
// (itsdangerous: optional "." for zlib, base64url JSON, ".timestamp.signature").
func flaskSessionString(t *testing.T, b *browser, base, key string) string {
	t.Helper()
	u, _ := url.Parse(base + "/")
	var raw string
	for _, c := range b.jar.Cookies(u) {
		if c.Name == "session" {
			raw = c.Value
		}
	}
	if raw == "" {
		t.Fatal("the Flask app set no session cookie")
	}
	compressed := strings.HasPrefix(raw, ".")
	payload, _, _ := strings.Cut(strings.TrimPrefix(raw, "."), ".")
	data, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		t.Fatalf("Flask session cookie: %v", err)
	}
	if compressed {
		zr, err := zlib.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("Flask session cookie: %v", err)
		}
		if data, err = io.ReadAll(zr); err != nil {
			t.Fatalf("Flask session cookie: %v", err)
		}
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("Flask session cookie: %v", err)
	}
	s, _ := m[key].(string)
	if s == "" {
		t.Fatalf("the Flask session holds no %s", key)
	}
	return s
}
