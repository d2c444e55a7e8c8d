//go:build interop

package interop

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestOpenIDClient drives testdata/openid-client/rp.mjs, a relying party on
// the openid-client npm package (pinned in its package-lock.json, installed
// with `npm ci` by scripts/interop-setup.sh): discovery, code + PKCE, the
// callback with openid-client's own ID token validation, userinfo, refresh
// and RP-initiated logout.
func TestOpenIDClient(t *testing.T) {
	dir, err := filepath.Abs(filepath.Join("testdata", "openid-client"))
	if err != nil {
		t.Fatal(err)
	}
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(dir, "node_modules", "openid-client", "package.json"))
	}
	need(t, "openid-client", "openid-client (node, and npm ci in internal/interop/testdata/openid-client)", err)

	for _, alg := range algs {
		t.Run(alg, func(t *testing.T) {
			r := &rpRun{t: t, rp: "openid-client", alg: alg}
			var base string
			r.setup(func() (err error) {
				base, err = startNodeRP(t, node, dir, alg)
				return err
			})
			b := newBrowser(artistUser, artistPass)
			var signedIn map[string]any
			r.step("login", func(t *testing.T) {
				p := b.get(t, base+"/login")
				if p.status != 200 || p.loginForms != 1 || p.url.Path != "/callback" {
					t.Fatalf("sign-in through the login form did not end at the callback: %s", p)
				}
				signedIn = p.json(t)
			})
			r.step("id_token", func(t *testing.T) {
				// openid-client checked signature, iss, aud, exp, nonce and
				// the algorithm (id_token_signed_response_alg) itself.
				if signedIn["id_token_alg"] != alg {
					t.Errorf("openid-client accepted an ID token signed with %v, want %s", signedIn["id_token_alg"], alg)
				}
				claims, _ := signedIn["id_token_claims"].(map[string]any)
				if id := "oidc-" + strings.ToLower(alg); claims["iss"] != idp.base || (claims["aud"] != id && !contains(claims["aud"], id)) {
					t.Errorf("ID token iss %v aud %v", claims["iss"], claims["aud"])
				}
			})
			r.step("claims", func(t *testing.T) {
				claims, _ := signedIn["id_token_claims"].(map[string]any)
				checkArtist(t, "ID token claims", claims["role"], claims["artist_id"], claims["artist_name"])
				ui, _ := signedIn["userinfo"].(map[string]any)
				checkArtist(t, "userinfo", ui["role"], ui["artist_id"], ui["artist_name"])
			})
			r.step("refresh", func(t *testing.T) {
				if signedIn["has_refresh_token"] != true {
					t.Fatal("no refresh token for offline_access")
				}
				for i := range 2 {
					p := b.get(t, base+"/refresh")
					if p.status != 200 {
						t.Fatalf("refresh %d: %s", i+1, p)
					}
					m := p.json(t)
					if m["access_token_changed"] != true || m["refresh_token_rotated"] != true {
						t.Errorf("refresh %d: access token changed %v, refresh token rotated %v", i+1, m["access_token_changed"], m["refresh_token_rotated"])
					}
					if m["id_token_alg"] != nil && m["id_token_alg"] != alg {
						t.Errorf("refresh %d: ID token signed with %v, want %s", i+1, m["id_token_alg"], alg)
					}
					ui, _ := m["userinfo"].(map[string]any)
					checkArtist(t, fmt.Sprintf("userinfo after refresh %d", i+1), ui["role"], ui["artist_id"], ui["artist_name"])
				}
			})
			r.step("logout", func(t *testing.T) {
				p := b.get(t, base+"/logout")
				if p.status != 200 || p.url.String() != base+"/" {
					t.Fatalf("logout did not come back to the app: %s", p)
				}
				if p.logoutConfirms != 0 {
					t.Errorf("inkpass asked to confirm although the app sent its id_token_hint: %s", p)
				}
				if p.json(t)["signed_in"] != false {
					t.Errorf("the app still has a session: %s", p)
				}
				b.user = ""
				if p := b.get(t, base+"/login"); !p.atLogin {
					t.Errorf("after logout, signing in again did not ask for a password: %s", p)
				}
			})
		})
	}
}

func contains(list any, s string) bool {
	l, _ := list.([]any)
	for _, v := range l {
		if v == s {
			return true
		}
	}
	return false
}

func startNodeRP(t *testing.T, node, dir, alg string) (string, error) {
	id := "oidc-" + strings.ToLower(alg)
	rp, err := idp.addRP(id, alg, "/callback", "/", nil)
	if err != nil {
		return "", err
	}
	port, base, secret := rp.port, rp.base, rp.secret
	p, err := startProc(t, "openid-client", dir, baseEnv(
		"ISSUER="+idp.base, "CLIENT_ID="+id, "CLIENT_SECRET="+secret, "ID_TOKEN_ALG="+alg, "PORT="+strconv.Itoa(port),
	), node, "rp.mjs")
	if err != nil {
		return "", err
	}
	return base, p.ready(base + "/")
}
