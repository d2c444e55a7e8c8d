//go:build interop

package interop

import (
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestOAuth2Proxy puts oauth2-proxy v7 (built by scripts/interop-setup.sh
// into bin/interop/) in front of an echo upstream with
// --oidc-groups-claim=role and --allowed-group=artist: the artist's
// X-Forwarded-User, -Email and -Groups reach the upstream, the assistant is
// refused, the session refreshes, and sign-out goes through inkpass.
func TestOAuth2Proxy(t *testing.T) {
	bin, err := oauth2ProxyBin()
	need(t, "oauth2-proxy", "oauth2-proxy (go install into bin/interop/)", err)

	for _, alg := range algs {
		t.Run(alg, func(t *testing.T) {
			r := &rpRun{t: t, rp: "oauth2-proxy", alg: alg}
			var base string
			r.setup(func() (err error) {
				base, err = startOAuth2Proxy(t, bin, alg)
				return err
			})
			b := newBrowser(artistUser, artistPass)
			var first map[string]string
			r.step("login", func(t *testing.T) {
				p := b.get(t, base+"/protected")
				if p.loginForms != 1 {
					t.Fatalf("the protected page did not go through inkpass's login form: %s", p)
				}
				first = upstreamHeaders(t, p)
			})
			r.step("id_token", func(t *testing.T) {
				// oauth2-proxy verified the ID token (go-oidc) before it made a
				// session; --pass-authorization-header passes it on.
				idToken, ok := strings.CutPrefix(first["authorization"], "Bearer ")
				if !ok {
					t.Fatalf("no Authorization: Bearer <id_token> reached the upstream: %v", first)
				}
				checkAlg(t, idToken, alg)
			})
			r.step("claims", func(t *testing.T) {
				if first["x-forwarded-groups"] != "artist" {
					t.Errorf("X-Forwarded-Groups = %q, want artist (the role claim)", first["x-forwarded-groups"])
				}
				if first["x-forwarded-email"] != artistEmail {
					t.Errorf("X-Forwarded-Email = %q, want %s", first["x-forwarded-email"], artistEmail)
				}
				// artist_id and artist_name travel in the ID token that
				// oauth2-proxy verified and passes on.
				idToken, _ := strings.CutPrefix(first["authorization"], "Bearer ")
				c := jwtClaims(t, idToken)
				checkArtist(t, "the ID token oauth2-proxy passed on", c["role"], c["artist_id"], c["artist_name"])
				if first["x-forwarded-user"] == "" || first["x-forwarded-preferred-username"] != artistUser {
					t.Errorf("X-Forwarded-User = %q, X-Forwarded-Preferred-Username = %q, want a user and %s",
						first["x-forwarded-user"], first["x-forwarded-preferred-username"], artistUser)
				}
			})
			r.step("role gate", func(t *testing.T) {
				p := newBrowser(assistUser, assistPass).get(t, base+"/protected")
				if p.loginForms != 1 || p.status != 403 {
					t.Fatalf("the assistant was not refused by --allowed-group=artist after signing in: %s", p)
				}
			})
			r.step("refresh", func(t *testing.T) {
				// --cookie-refresh=1ms: a request to a session older than
				// that refreshes it with the (rotated) refresh token.
				// oauth2-proxy counts a session's age from the current second
				// (truncated), so each request waits for the next second.
				seen := map[string]bool{first["x-forwarded-access-token"]: true}
				for i := range 2 {
					time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + 20*time.Millisecond)))
					h := upstreamHeaders(t, b.get(t, base+"/protected"))
					at := h["x-forwarded-access-token"]
					if at == "" || seen[at] {
						t.Fatalf("request %d: the access token was not refreshed (X-Forwarded-Access-Token %q)", i+1, trim([]byte(at), 12))
					}
					seen[at] = true
					if h["x-forwarded-groups"] != "artist" {
						t.Errorf("request %d: X-Forwarded-Groups = %q after refresh, want artist", i+1, h["x-forwarded-groups"])
					}
				}
			})
			r.step("logout", func(t *testing.T) {
				// oauth2-proxy sends no id_token_hint, so inkpass asks the
				// user to confirm; the browser does.
				end := idp.base + "/logout?" + url.Values{"client_id": {"o2p-" + strings.ToLower(alg)}, "post_logout_redirect_uri": {base + "/loggedout"}}.Encode()
				p := b.get(t, base+"/oauth2/sign_out?rd="+url.QueryEscape(end))
				if p.url.String() != base+"/loggedout" || p.logoutConfirms != 1 {
					t.Fatalf("sign-out did not pass inkpass's confirmation and come back to the post-logout URI: %s", p)
				}
				b.user = ""
				if p := b.get(t, base+"/protected"); !p.atLogin {
					t.Errorf("after logout, the protected page did not ask for a password: %s", p)
				}
			})
		})
	}
}

// oauth2ProxyBin finds oauth2-proxy: $OAUTH2_PROXY, bin/interop/, or PATH.
func oauth2ProxyBin() (string, error) {
	if p := os.Getenv("OAUTH2_PROXY"); p != "" {
		_, err := os.Stat(p)
		return p, err
	}
	p := filepath.Join(repoRoot, "bin", "interop", "oauth2-proxy")
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	if p, err := exec.LookPath("oauth2-proxy"); err == nil {
		return p, nil
	}
	return "", errors.New("no bin/interop/oauth2-proxy and none on PATH")
}

func startOAuth2Proxy(t *testing.T, bin, alg string) (string, error) {
	id := "o2p-" + strings.ToLower(alg)
	rp, err := idp.addRP(id, alg, "/oauth2/callback", "/loggedout", nil)
	if err != nil {
		return "", err
	}
	port, base, secret := rp.port, rp.base, rp.secret
	idpURL, _ := url.Parse(idp.base)
	args := []string{
		"--http-address=127.0.0.1:" + strconv.Itoa(port),
		"--provider=oidc",
		"--provider-display-name=inkpass",
		"--oidc-issuer-url=" + idp.base,
		"--client-id=" + id,
		"--client-secret=" + secret,
		"--redirect-url=" + base + "/oauth2/callback",
		"--upstream=http://127.0.0.1:" + strconv.Itoa(echoUpstream(t)) + "/",
		"--cookie-secret=" + (randomText() + randomText())[:32], // 32 bytes: AES-256
		"--cookie-secure=false",
		"--cookie-refresh=1ms",
		"--email-domain=*",
		"--insecure-oidc-allow-unverified-email=true",
		"--scope=" + clientScopes,
		"--code-challenge-method=S256",
		"--skip-provider-button=true",
		"--oidc-groups-claim=role",
		"--allowed-group=artist",
		"--pass-access-token=true",
		"--pass-authorization-header=true",
		"--skip-auth-route=^/loggedout$",
		"--whitelist-domain=" + idpURL.Host,
	}
	p, err := startProc(t, "oauth2-proxy", t.TempDir(), baseEnv(), bin, args...)
	if err != nil {
		return "", err
	}
	return base, p.ready(base + "/ping")
}
