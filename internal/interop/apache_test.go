//go:build interop

package interop

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"text/template"
	"time"
)

// apacheModules is where Debian installs Apache's modules.
const apacheModules = "/usr/lib/apache2/modules"

// TestApacheModAuthOpenIDC puts Apache httpd with mod_auth_openidc (Debian's
// apache2 and libapache2-mod-auth-openidc) in front of an echo upstream:
// `Require claim role:artist` lets the artist in and keeps the assistant
// out, the claims reach the upstream as OIDC_CLAIM_* headers, the access
// token is refreshed, and logout goes through inkpass. A second Apache,
// registered with a back-channel logout URI, checks that signing out at
// inkpass ends its session.
func TestApacheModAuthOpenIDC(t *testing.T) {
	apache, err := exec.LookPath("apache2")
	if err != nil {
		apache, err = exec.LookPath("/usr/sbin/apache2")
	}
	if err == nil {
		_, err = os.Stat(filepath.Join(apacheModules, "mod_auth_openidc.so"))
	}
	need(t, "mod_auth_openidc", "Apache mod_auth_openidc (apache2, libapache2-mod-auth-openidc)", err)
	tmpl, err := template.ParseFiles(filepath.Join("testdata", "apache.conf.tmpl"))
	if err != nil {
		t.Fatal(err)
	}

	for _, alg := range algs {
		t.Run(alg, func(t *testing.T) {
			r := &rpRun{t: t, rp: "mod_auth_openidc", alg: alg}
			var base string
			r.setup(func() (err error) {
				base, _, err = startApache(t, apache, tmpl, "apache-"+strings.ToLower(alg), alg, false)
				return err
			})
			b := newBrowser(artistUser, artistPass)
			var first map[string]string
			r.step("login", func(t *testing.T) {
				p := b.get(t, base+"/protected/")
				if p.loginForms != 1 {
					t.Fatalf("the protected page did not go through inkpass's login form: %s", p)
				}
				first = upstreamHeaders(t, p)
			})
			r.step("id_token", func(t *testing.T) {
				// mod_auth_openidc validated the token before it let the
				// request through; it passes the token it accepted on.
				idToken := first["oidc_id_token"]
				if idToken == "" {
					t.Fatalf("no OIDC_id_token header reached the upstream: %v", first)
				}
				checkAlg(t, idToken, alg)
			})
			r.step("claims", func(t *testing.T) {
				checkArtist(t, "OIDC_CLAIM_* headers", first["oidc_claim_role"], first["oidc_claim_artist_id"], first["oidc_claim_artist_name"])
			})
			r.step("role gate", func(t *testing.T) {
				p := newBrowser(assistUser, assistPass).get(t, base+"/protected/")
				if p.loginForms != 1 || (p.status != 401 && p.status != 403) {
					t.Fatalf("the assistant was not refused by Require claim role:artist after signing in: %s", p)
				}
			})
			r.step("refresh", func(t *testing.T) {
				// OIDCRefreshAccessTokenBeforeExpiry makes each request
				// refresh: each brings a new access token, and the second
				// one works only if the rotated refresh token was kept.
				seen := map[string]bool{first["oidc_access_token"]: true}
				for i := range 2 {
					h := upstreamHeaders(t, b.get(t, base+"/protected/"))
					at := h["oidc_access_token"]
					if at == "" || seen[at] {
						t.Fatalf("request %d: the access token was not refreshed (OIDC_access_token %q)", i+1, trim([]byte(at), 12))
					}
					seen[at] = true
					checkArtist(t, "claims after refresh", h["oidc_claim_role"], h["oidc_claim_artist_id"], h["oidc_claim_artist_name"])
				}
			})
			r.step("logout", func(t *testing.T) {
				p := b.get(t, base+"/protected/redirect_uri?logout="+url.QueryEscape(base+"/loggedout"))
				if p.url.String() != base+"/loggedout" {
					t.Fatalf("logout did not come back to the post-logout URI: %s", p)
				}
				if p.logoutConfirms != 0 {
					t.Errorf("inkpass asked to confirm although mod_auth_openidc sent its id_token_hint: %s", p)
				}
				b.user = ""
				if p := b.get(t, base+"/protected/"); !p.atLogin {
					t.Errorf("after logout, the protected page did not ask for a password: %s", p)
				}
			})
			r.step("backchannel logout", func(t *testing.T) {
				bcl, bclDir, err := startApache(t, apache, tmpl, "apache-bcl-"+strings.ToLower(alg), alg, true)
				if err != nil {
					t.Fatal(err)
				}
				b := newBrowser(artistUser, artistPass)
				upstreamHeaders(t, b.get(t, bcl+"/protected/"))
				// Sign out at inkpass itself (its own confirmation page): only
				// the back-channel tells Apache. This Apache does not refresh,
				// so a refused refresh cannot end its session instead.
				p := b.get(t, idp.base+"/logout")
				if p.logoutConfirms != 1 || p.status != 200 {
					t.Fatalf("signing out at inkpass: %s", p)
				}
				b.user = ""
				accessLog := filepath.Join(bclDir, "access.log")
				var last *page
				var posts []string
				for range 20 { // inkpass may deliver the logout token just after answering
					posts = backchannelPosts(accessLog)
					if last = b.get(t, bcl+"/protected/"); last.atLogin && len(posts) > 0 {
						break
					}
					time.Sleep(250 * time.Millisecond)
				}
				if !last.atLogin {
					t.Errorf("after signing out at inkpass, Apache's session still lets the artist in: %s", last)
				}
				if len(posts) != 1 || !strings.HasSuffix(posts[0], " 200") {
					t.Errorf("Apache's access log shows these back-channel logout POSTs: %q, want one answered 200", posts)
				}
			})
		})
	}
}

// startApache registers a client and starts Apache for it on a free port,
// with the configuration from testdata/apache.conf.tmpl; it returns the base
// URL and its ServerRoot. backchannel registers redirect_uri?logout=backchannel as the
// client's back-channel logout URI.
func startApache(t *testing.T, apache string, tmpl *template.Template, clientID, alg string, backchannel bool) (base, dir string, err error) {
	var extra func(string) []string
	if backchannel {
		extra = func(base string) []string {
			return []string{backchannelLogoutFlag, base + "/protected/redirect_uri?logout=backchannel"}
		}
	}
	rp, err := idp.addRP(clientID, alg, "/protected/redirect_uri", "/loggedout", extra)
	if err != nil {
		return "", "", err
	}
	port, secret := rp.port, rp.secret
	base = rp.base
	dir, err = os.MkdirTemp("", "inkpass-interop-apache-")
	if err != nil {
		return "", "", err
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	data := map[string]any{
		"Dir": dir, "Port": port, "Modules": apacheModules, "Issuer": idp.base,
		"ClientID": clientID, "ClientSecret": secret, "Passphrase": randomText(), "Alg": alg,
		"UpstreamPort": echoUpstream(t), "Refresh": !backchannel,
	}
	if os.Geteuid() == 0 {
		// Started as root, httpd's children run as an unprivileged user;
		// they need to traverse the ServerRoot, not read it.
		data["User"], data["Group"] = "www-data", "www-data"
		if err := os.Chmod(dir, 0o711); err != nil {
			return "", "", err
		}
	}
	conf := filepath.Join(dir, "httpd.conf")
	f, err := os.OpenFile(conf, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return "", "", err
	}
	err = tmpl.Execute(f, data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", "", err
	}
	p, err := startProc(t, "apache2", dir, baseEnv(), apache, "-f", conf, "-DFOREGROUND")
	if err != nil {
		return "", "", err
	}
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Logf("apache error.log (last 3000 bytes):\n%s", tail(b, 3000))
		}
	})
	if err := p.ready(base + "/loggedout"); err != nil {
		b, _ := os.ReadFile(filepath.Join(dir, "error.log"))
		return "", "", errors.Join(err, fmt.Errorf("error.log:\n%s", tail(b, 3000)))
	}
	return base, dir, nil
}

// backchannelPosts lists the back-channel logout POSTs in Apache's access
// log, each as "request-line status".
func backchannelPosts(accessLog string) []string {
	b, _ := os.ReadFile(accessLog)
	var posts []string
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "POST /protected/redirect_uri?logout=backchannel ") {
			posts = append(posts, line)
		}
	}
	return posts
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
