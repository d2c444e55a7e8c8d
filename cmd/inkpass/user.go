package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/inkpass/inkpass/internal/password"
	"github.com/inkpass/inkpass/internal/user"
	"github.com/inkpass/inkpass/internal/userlink"
)

func cmdUser(ctx context.Context, e *env, args []string) error {
	return subcommand(ctx, e, "user", args, map[string]command{
		"add":        {"create a user (password from --password-stdin or a prompt)", userAdd},
		"list":       {"list users, optionally by role, state or weak hash", userList},
		"show":       {"show one user by id or username", userShow},
		"update":     {"change a user's profile or role", userUpdate},
		"deactivate": {"disable a user (soft delete: sessions and tokens end)", userDeactivate},
		"activate":   {"let a deactivated user sign in again", userActivate},
		"passwd":     {"set a user's password", userPasswd},
		"invite":     {"print a single-use link for the user to set a first password", userInvite},
		"reset-link": {"print a single-use link for the user to reset their password", userResetLink},
		"verify":     {"mark a user's email or phone verified (or --unverify)", userVerify},
		"mfa":        {"list or reset a user's second factors (lost device)", cmdUserMFA},
	})
}

// profileFlags are the flags add and update share.
type profileFlags struct {
	username, role, artistID, name, email, phone, instagram, birthdate *string
}

func addProfileFlags(fs *flag.FlagSet) profileFlags {
	return profileFlags{
		username:  fs.String("username", "", "login name (at most 64 characters)"),
		role:      fs.String("role", "", "admin, assistant or artist"),
		artistID:  fs.String("artist-id", "", "artist record id (required for role artist; 'none' clears)"),
		name:      fs.String("name", "", "real name"),
		email:     fs.String("email", "", "email address"),
		phone:     fs.String("phone", "", "phone number"),
		instagram: fs.String("instagram", "", "Instagram handle, with or without @"),
		birthdate: fs.String("birthdate", "", "birth date, YYYY-MM-DD"),
	}
}

func parseArtistID(s string) (*int64, error) {
	if s == "" || s == "none" {
		return nil, nil
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return nil, &user.FieldError{Field: "artist_id", Problem: "must be a positive number"}
	}
	return &id, nil
}

func userAdd(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := flags(e, "user add", "--username U --role R [--artist-id N] [--name ..] [--email ..] [--phone ..] [--instagram ..] [--birthdate YYYY-MM-DD] [--password-stdin | --invite] [--json]")
	pf := addProfileFlags(fs)
	stdinPw := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	invite := fs.Bool("invite", false, "create the user without a password and print an invitation link (also emailed when email is configured)")
	asJSON := fs.Bool("json", false, "print the user as JSON")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		// Not echoed: a stray argument here is most likely a password, and
		// stderr often ends up in a log.
		return usageError("unexpected argument: passwords are never taken as arguments (use --password-stdin)")
	}
	if *pf.username == "" || *pf.role == "" {
		return usageError("--username and --role are required")
	}
	if *invite && *stdinPw {
		return usageError("--invite and --password-stdin exclude each other: an invited person chooses their own password")
	}
	role, err := user.ParseRole(*pf.role)
	if err != nil {
		return err
	}
	artistID, err := parseArtistID(*pf.artistID)
	if err != nil {
		return err
	}
	a, err := openApp(ctx, e, fs, *cfgPath, e.stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	nu := user.User{
		Username: *pf.username, Role: role, ArtistID: artistID, Name: *pf.name, Email: *pf.email,
		Phone: *pf.phone, Instagram: *pf.instagram, Birthdate: *pf.birthdate,
	}
	if *invite {
		u, err := a.users.CreateInvited(ctx, nu, password.Unset)
		if err != nil {
			return err
		}
		mailer := linkMailer(a)
		link, expires, err := newLinks(a, mailer, nil).Invite(ctx, u.ID, "cli")
		if err != nil {
			return fmt.Errorf("created user %d %q without a password, but the invitation failed (retry with `inkpass user invite %d`): %w", u.ID, u.Username, u.ID, err)
		}
		if *asJSON {
			return writeJSON(e.stdout, struct {
				User       *user.User `json:"user"`
				Invitation linkJSON   `json:"invitation"`
			}{u, linkJSON{Link: link, ExpiresAt: expires.UTC()}})
		}
		fmt.Fprintf(e.stdout, "created user %d %q (%s) without a password\n", u.ID, u.Username, u.Role)
		printLink(e, "invitation", link, expires, u, mailer != nil)
		return nil
	}
	pw, err := readPassword(e, *stdinPw, "Password for "+*pf.username)
	if err != nil {
		return err
	}
	u, err := a.users.Create(ctx, nu, pw)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, u)
	}
	fmt.Fprintf(e.stdout, "created user %d %q (%s)\n", u.ID, u.Username, u.Role)
	return nil
}

func userList(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := flags(e, "user list", "[--role R] [--active|--inactive] [--weak-hashes] [--json]")
	role := fs.String("role", "", "only this role")
	active := fs.Bool("active", false, "only active users")
	inactive := fs.Bool("inactive", false, "only deactivated users")
	weak := fs.Bool("weak-hashes", false, "only users whose password hash is weaker than the policy, with its format")
	asJSON := fs.Bool("json", false, "print a JSON array")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	var f user.Filter
	if *role != "" {
		var err error
		if f.Role, err = user.ParseRole(*role); err != nil {
			return err
		}
	}
	if *active && *inactive {
		return usageError("--active and --inactive exclude each other")
	}
	if *active || *inactive {
		v := *active
		f.Active = &v
	}
	a, err := openApp(ctx, e, fs, *cfgPath, e.stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	users, err := a.users.List(ctx, f)
	if err != nil {
		return err
	}
	if *weak {
		kept := users[:0]
		for _, u := range users {
			if a.hasher.NeedsRehash(u.PasswordHash) {
				kept = append(kept, u)
			}
		}
		users = kept
	}
	if *asJSON {
		out := make([]userJSON, len(users))
		for i, u := range users {
			out[i] = toUserJSON(u, *weak)
		}
		return writeJSON(e.stdout, out)
	}
	return printUsers(e.stdout, users, *weak)
}

// userJSON adds the hash format to a user for `list --weak-hashes --json`;
// never the hash itself.
type userJSON struct {
	*user.User
	HashFormat string `json:"hash_format,omitempty"`
}

// MarshalJSON appends hash_format to the user's own JSON: without it the
// embedded *user.User's MarshalJSON is promoted and hash_format is dropped.
func (j userJSON) MarshalJSON() ([]byte, error) {
	b, err := j.User.MarshalJSON()
	if err != nil || j.HashFormat == "" {
		return b, err
	}
	f, err := json.Marshal(j.HashFormat)
	if err != nil {
		return nil, err
	}
	b = bytes.TrimSuffix(bytes.TrimSpace(b), []byte("}"))
	return append(append(append(b, `,"hash_format":`...), f...), '}'), nil
}

func toUserJSON(u *user.User, withHash bool) userJSON {
	j := userJSON{User: u}
	if withHash {
		j.HashFormat = password.Describe(u.PasswordHash)
	}
	return j
}

func printUsers(w io.Writer, users []*user.User, withHash bool) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	header := "ID\tUSERNAME\tROLE\tARTIST_ID\tIS_ACTIVE\tNAME\tEMAIL\tLAST_LOGIN"
	if withHash {
		header += "\tHASH_FORMAT"
	}
	fmt.Fprintln(tw, header)
	for _, u := range users {
		line := fmt.Sprintf("%d\t%s\t%s\t%s\t%v\t%s\t%s\t%s", u.ID, u.Username, u.Role, optInt(u.ArtistID), u.Active,
			dash(u.Name), dash(u.Email), optTime(u.LastLogin))
		if withHash {
			line += "\t" + password.Describe(u.PasswordHash)
		}
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}

func userShow(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := flags(e, "user show", "ID|USERNAME [--json]")
	asJSON := fs.Bool("json", false, "print the user as JSON")
	a, u, err := openUserArg(ctx, e, fs, cfgPath, args)
	if err != nil {
		return err
	}
	defer a.Close()
	if *asJSON {
		return writeJSON(e.stdout, u)
	}
	printUser(e.stdout, u)
	return nil
}

func printUser(w io.Writer, u *user.User) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	artist := optInt(u.ArtistID)
	if u.ArtistName != "" {
		artist += " (" + u.ArtistName + ")"
	}
	for _, row := range [][2]string{
		{"id", strconv.FormatInt(u.ID, 10)}, {"username", u.Username}, {"role", string(u.Role)},
		{"artist_id", artist}, {"is_active", strconv.FormatBool(u.Active)}, {"name", dash(u.Name)},
		{"birthdate", dash(u.Birthdate)}, {"email", verifiedValue(u.Email, u.EmailVerified)},
		{"phone", verifiedValue(u.Phone, u.PhoneVerified)},
		{"instagram", dash(u.Instagram)}, {"created_at", optTime(&u.CreatedAt)},
		{"last_login", optTime(u.LastLogin)}, {"hash_format", password.Describe(u.PasswordHash)},
	} {
		fmt.Fprintf(tw, "%s\t%s\n", row[0], row[1])
	}
	for _, o := range u.Oddities {
		fmt.Fprintf(tw, "odd value\t%s: %s\n", o.Column, o.Problem)
	}
	tw.Flush()
}

// verifiedValue is an email or phone with whether it is verified.
func verifiedValue(v string, verified bool) string {
	switch {
	case v == "":
		return "-"
	case verified:
		return v + " (verified)"
	}
	return v + " (not verified)"
}

// userVerify marks the user's current email or phone verified, which the
// email_verified and phone_number_verified claims then say, until the value
// changes.
func userVerify(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := flags(e, "user verify", "ID|USERNAME --email|--phone [--unverify] [--json]")
	email := fs.Bool("email", false, "the user's email, exactly as stored now")
	phone := fs.Bool("phone", false, "the user's phone number, exactly as stored now")
	unverify := fs.Bool("unverify", false, "mark it not verified")
	asJSON := fs.Bool("json", false, "print the user as JSON")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if *email == *phone {
		return usageError("name one field: --email or --phone")
	}
	a, u, err := openUserArg(ctx, e, fs, cfgPath, pos)
	if err != nil {
		return err
	}
	defer a.Close()
	kind := user.ContactEmail
	if *phone {
		kind = user.ContactPhone
	}
	updated, err := a.users.SetVerified(ctx, u.ID, kind, !*unverify)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, updated)
	}
	value := updated.Email
	if kind == user.ContactPhone {
		value = updated.Phone
	}
	state := "verified"
	if *unverify {
		state = "not verified"
	}
	fmt.Fprintf(e.stdout, "user %d %q: %s %s is %s\n", updated.ID, updated.Username, kind, dash(value), state)
	return nil
}

// openUserArg parses flags around exactly one ID|USERNAME argument, opens the
// app and finds the user.
func openUserArg(ctx context.Context, e *env, fs *flag.FlagSet, cfgPath *string, args []string) (*app, *user.User, error) {
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return nil, nil, err
	}
	if len(pos) != 1 {
		return nil, nil, usageError("expected one user id or username")
	}
	a, err := openApp(ctx, e, fs, *cfgPath, e.stderr)
	if err != nil {
		return nil, nil, err
	}
	u, err := findUser(ctx, a, pos[0])
	if err != nil {
		a.Close()
		return nil, nil, err
	}
	return a, u, nil
}

// findUser takes a number as an id first, then as a username.
func findUser(ctx context.Context, a *app, ref string) (*user.User, error) {
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		u, err := a.users.Get(ctx, id)
		if !errors.Is(err, user.ErrNotFound) {
			return u, err
		}
	}
	u, err := a.users.GetByUsername(ctx, ref)
	if errors.Is(err, user.ErrNotFound) {
		return nil, fmt.Errorf("no user %q", ref)
	}
	return u, err
}

func userUpdate(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := flags(e, "user update", "ID|USERNAME [--username ..] [--role ..] [--artist-id N|none] [--name ..] [--email ..] [--phone ..] [--instagram ..] [--birthdate ..] [--json]   (an empty value clears an optional field)")
	pf := addProfileFlags(fs)
	asJSON := fs.Bool("json", false, "print the user as JSON")
	a, u, err := openUserArg(ctx, e, fs, cfgPath, args)
	if err != nil {
		return err
	}
	defer a.Close()
	var p user.Patch
	var problems error
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "username":
			p.Username = pf.username
		case "role":
			r, err := user.ParseRole(*pf.role)
			problems = errors.Join(problems, err)
			p.Role = &r
		case "artist-id":
			id, err := parseArtistID(*pf.artistID)
			problems = errors.Join(problems, err)
			p.ArtistID = &id
		case "name":
			p.Name = pf.name
		case "email":
			p.Email = pf.email
		case "phone":
			p.Phone = pf.phone
		case "instagram":
			p.Instagram = pf.instagram
		case "birthdate":
			p.Birthdate = pf.birthdate
		}
	})
	if problems != nil {
		return problems
	}
	// Moving away from artist clears the link, as the role rules require.
	if p.Role != nil && *p.Role != user.RoleArtist && p.ArtistID == nil {
		var none *int64
		p.ArtistID = &none
	}
	updated, err := a.users.Update(ctx, u.ID, p)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, updated)
	}
	fmt.Fprintf(e.stdout, "updated user %d %q\n", updated.ID, updated.Username)
	return nil
}

func userDeactivate(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := flags(e, "user deactivate", "ID|USERNAME")
	a, u, err := openUserArg(ctx, e, fs, cfgPath, args)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.users.Deactivate(ctx, u.ID); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "deactivated user %d %q; their sessions and tokens are revoked\n", u.ID, u.Username)
	return nil
}

func userActivate(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := flags(e, "user activate", "ID|USERNAME")
	a, u, err := openUserArg(ctx, e, fs, cfgPath, args)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.users.Reactivate(ctx, u.ID); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "activated user %d %q\n", u.ID, u.Username)
	return nil
}

func userPasswd(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := flags(e, "user passwd", "ID|USERNAME [--password-stdin]")
	stdinPw := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	a, u, err := openUserArg(ctx, e, fs, cfgPath, args)
	if err != nil {
		return err
	}
	defer a.Close()
	pw, err := readPassword(e, *stdinPw, "New password for "+u.Username)
	if err != nil {
		return err
	}
	if err := a.users.SetPassword(ctx, u.ID, pw); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "password of user %d %q changed\n", u.ID, u.Username)
	return nil
}

// userInvite prints an invitation link: the user sets a (first) password
// through it. An earlier invitation of the user stops working.
func userInvite(ctx context.Context, e *env, args []string) error {
	return userLink(ctx, e, args, "user invite", "invitation")
}

// userResetLink prints a password-reset link. An earlier reset link of the
// user stops working; the current password keeps working until the link is
// used.
func userResetLink(ctx context.Context, e *env, args []string) error {
	return userLink(ctx, e, args, "user reset-link", "password reset")
}

// linkJSON is a link as --json prints it.
type linkJSON struct {
	Link      string    `json:"link"`
	ExpiresAt time.Time `json:"expires_at"`
}

func userLink(ctx context.Context, e *env, args []string, name, kind string) error {
	fs, cfgPath := flags(e, name, "ID|USERNAME [--json]")
	asJSON := fs.Bool("json", false, "print the link and its expiry as JSON")
	a, u, err := openUserArg(ctx, e, fs, cfgPath, args)
	if err != nil {
		return err
	}
	defer a.Close()
	mailer := linkMailer(a)
	links := newLinks(a, mailer, nil)
	issue := links.PasswordReset
	if kind == "invitation" {
		issue = links.Invite
	}
	link, expires, err := issue(ctx, u.ID, "cli")
	if errors.Is(err, userlink.ErrInactive) {
		return fmt.Errorf("user %d %q is deactivated: activate them first (inkpass user activate)", u.ID, u.Username)
	}
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, linkJSON{Link: link, ExpiresAt: expires.UTC()})
	}
	printLink(e, kind, link, expires, u, mailer != nil)
	return nil
}

// printLink shows a link once: it is not stored anywhere it could be read
// back, so this is the admin's only copy.
func printLink(e *env, kind, link string, expires time.Time, u *user.User, emailed bool) {
	fmt.Fprintf(e.stdout, "%s link for %q, single use, until %s:\n%s\n", kind, u.Username, expires.UTC().Format("2006-01-02 15:04 MST"), link)
	if emailed && u.Email != "" {
		fmt.Fprintf(e.stdout, "also sent to %s\n", u.Email)
	}
}

// readPassword takes the first line of stdin with --password-stdin, or prompts
// twice without echo on a terminal. Passwords never come from arguments, where
// ps and shell history would keep them.
func readPassword(e *env, fromStdin bool, prompt string) (string, error) {
	if fromStdin {
		line, err := bufio.NewReader(e.stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("read password: %w", err)
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			return "", errors.New("read password: standard input was empty")
		}
		return line, nil
	}
	f, ok := e.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", usageError("no terminal to prompt for a password: pass it on standard input with --password-stdin")
	}
	fmt.Fprintf(e.stderr, "%s: ", prompt)
	first, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(e.stderr)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	fmt.Fprint(e.stderr, "Again: ")
	second, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(e.stderr)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	if string(first) != string(second) {
		return "", errors.New("the two passwords differ")
	}
	return string(first), nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func optInt(p *int64) string {
	if p == nil {
		return "-"
	}
	return strconv.FormatInt(*p, 10)
}

func optTime(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.DateTime)
}
