package main

import (
	"strings"
	"testing"
)

// TestUserVerify: an admin marks a user's email or phone verified (issue 13,
// item 9), user show says so, --unverify takes it back, each change is
// audited, and a changed email is no longer verified.
func TestUserVerify(t *testing.T) {
	t.Parallel()
	c := newCLI(t, fixtureDB(t, t.TempDir()), "")
	show := func(t *testing.T) map[string]any {
		t.Helper()
		return jsonObject(t, c.ok(t, "", "user", "show", "luna_artist", "--json"))
	}
	want := func(t *testing.T, u map[string]any, email, phone bool) {
		t.Helper()
		if u["email_verified"] != email || u["phone_verified"] != phone {
			t.Errorf("email_verified = %v, phone_verified = %v; want %v, %v", u["email_verified"], u["phone_verified"], email, phone)
		}
	}

	t.Run("nothing is verified at first", func(t *testing.T) {
		want(t, show(t), false, false)
		if out := c.ok(t, "", "user", "show", "luna_artist"); !strings.Contains(out, "luna@studio.example (not verified)") {
			t.Errorf("user show does not say the email is unverified:\n%s", out)
		}
	})

	t.Run("--email verifies the current email, and user show says so", func(t *testing.T) {
		if out := c.ok(t, "", "user", "verify", "luna_artist", "--email"); !strings.Contains(out, "luna@studio.example") {
			t.Errorf("stdout %q does not name the verified address", out)
		}
		want(t, show(t), true, false)
		if out := c.ok(t, "", "user", "show", "luna_artist"); !strings.Contains(out, "luna@studio.example (verified)") {
			t.Errorf("user show does not say the email is verified:\n%s", out)
		}
	})

	t.Run("--phone verifies the phone", func(t *testing.T) {
		c.ok(t, "", "user", "verify", "2", "--phone")
		want(t, show(t), true, true)
	})

	t.Run("--unverify --phone takes it back", func(t *testing.T) {
		c.ok(t, "", "user", "verify", "luna_artist", "--phone", "--unverify")
		want(t, show(t), true, false)
	})

	t.Run("a changed email is not verified", func(t *testing.T) {
		c.ok(t, "", "user", "update", "luna_artist", "--email", "luna@elsewhere.example")
		want(t, show(t), false, false)
	})

	t.Run("each change is audited", func(t *testing.T) {
		events := jsonArray(t, c.ok(t, "", "audit", "--json", "--user", "luna_artist"))
		var got []string
		for _, e := range events {
			if k := e["kind"].(string); strings.HasPrefix(k, "user_") && strings.Contains(k, "verified") {
				got = append(got, k+" "+e["detail"].(string))
			}
		}
		wantEvents := []string{"user_unverified phone", "user_verified phone", "user_verified email"}
		if strings.Join(got, ",") != strings.Join(wantEvents, ",") {
			t.Errorf("verification events = %q, want %q", got, wantEvents)
		}
	})

	for _, tc := range []struct {
		name string
		args []string
		msg  string
	}{
		{"neither --email nor --phone", []string{"user", "verify", "luna_artist"}, "--email or --phone"},
		{"both --email and --phone", []string{"user", "verify", "luna_artist", "--email", "--phone"}, "--email or --phone"},
		{"an empty field", []string{"user", "verify", "front_desk", "--email"}, "email"},
		{"an unknown user", []string{"user", "verify", "nobody", "--email"}, "nobody"},
	} {
		t.Run(tc.name+" is an error on one line", func(t *testing.T) {
			code, _, errOut := c.run(t, nil, tc.args...)
			if code == 0 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, tc.msg) {
				t.Errorf("exit %d, stderr %q; want non-zero and one line naming %q", code, errOut, tc.msg)
			}
		})
	}
}
