package password

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// vector is one entry of testdata/werkzeug-hashes.json: a hash written by
// werkzeug, Python bcrypt or argon2-cffi, and the password behind it.
type vector struct {
	Method   string `json:"method"`
	Password string `json:"password"`
	Hash     string `json:"hash"`
}

func loadVectors(tb testing.TB) []vector {
	tb.Helper()
	b, err := os.ReadFile("../../testdata/werkzeug-hashes.json")
	if err != nil {
		tb.Fatalf("read vectors: %v", err)
	}
	var file struct {
		Vectors []vector `json:"vectors"`
	}
	if err := json.Unmarshal(b, &file); err != nil {
		tb.Fatalf("decode vectors: %v", err)
	}
	if len(file.Vectors) == 0 {
		tb.Fatal("no vectors in werkzeug-hashes.json")
	}
	return file.Vectors
}

// slowestFirst orders hashes by a rough estimate of their cost under -race
// (microseconds, measured once on a 2-core machine), so the long ones start
// first and parallel subtests do not end on a tail of bcrypt cost 12.
func slowestFirst[T any](items []T, encoded func(T) string) []T {
	estimate := func(s string) float64 {
		d, err := parse(s, &defaultLimits)
		if err != nil {
			return 0
		}
		switch d := d.(type) {
		case *bcryptHash:
			return 1500 * float64(int(1)<<d.cost)
		case *pbkdf2Hash:
			return 3 * float64(d.iter) * float64(d.newHash().BlockSize()) / 64
		case *scryptHash:
			return 3 * float64(d.n) * float64(d.r) * float64(d.p)
		case *argon2idHash:
			return 7 * float64(d.memory) * float64(d.time)
		}
		return 0
	}
	out := slices.Clone(items)
	slices.SortStableFunc(out, func(a, b T) int {
		ea, eb := estimate(encoded(a)), estimate(encoded(b))
		switch {
		case ea > eb:
			return -1
		case ea < eb:
			return 1
		}
		return 0
	})
	return out
}

// studioFixture are the users of testdata/studio-fixture.sql, with the
// passwords its header comment documents. TestHasher_Verify_StudioFixture
// checks that the SQL file still holds these exact strings.
type fixtureUser struct{ username, password, hash string }

var studioFixture = []fixtureUser{
	{"admin", "secure_password", "scrypt:32768:8:1$khyj1E8JiJO0t8mB$8cbee319fabc1315ebde61378e71c8340f6a90149fc6698621c83a9a295f6052008ce62d188babfb409281d76220aabf795c9f8c090eaf49f1587862c801afb1"},
	{"luna_artist", "artist_password", "pbkdf2:sha256:600000$3Va2n5Z3X0TUrymZ$46d5ed86c40dcbc03b96378c31b3bf753115cba04caaf953f77fa81dbf5cafbc"},
	{"kai", "needle&ink-77", "pbkdf2:sha256:1000000$vcJ4ENg3690JLqRt$c9ec9d1dd88898b001e456b73ceb59e2ad228d343103d1e1914722520d953bba"},
	{"front_desk", "desk-Pässwort-1", "scrypt:16384:8:1$UblPnWAjq0ja3feP$476d0b3a8d20e2b808fc4faa8f591491d6000b6d56f9fabdcb524b4fe6399a6d5029fe10bad5e969c165ba76c70604ad9030573740c6dc637a1612140c728ca3"},
	{"former_assistant", "gone-but-kept", "pbkdf2:sha256:260000$WNhdzaIEzMIH0BoJ$e822d6848d302a82f634249169af295beb953e47a50f1462112285a348424290"},
}

// Fixed strings reused by several tables.
const (
	scrypt32768 = "scrypt:32768:8:1$iWoUImsybP7PBuN7$0764301cc39708e2821ff42a663a923539145da2a084119135a2d4aaeb5eba80735ae305427a1e6290c01453e5ef0832c511e253411dcd40b3c14693238003d1"
	scrypt16384 = "scrypt:16384:8:1$RriR6lCO60jVPfM5$7e00a80da399347ed3de1a15db16248377dcb7771d82d5c2b5445dc40166e7be622ab6b88a722288c0870d76dea820a76b83febe7bbebf7577f283cb5960acb9"
	pbkdf2Hash1 = "pbkdf2:sha1:50000$lLJOI0cS2lAaWOqd$b16b7290769a8b07676c4458f3cd367dfd4de7d9"
	pbkdf2H256  = "pbkdf2:sha256:600000$tKReDcNJOhpzUwyb$b13671a00d1ee0d3c22a93b4cd82f764b9e260ca233560b22f4c39b4e15c6b59"
	bcrypt12    = "$2b$12$2dvhRkJS9emVtpQ1rOtOMuOX8L404LneWXOp6c.uFPi9HjMJjnEG."
	argon2OWASP = "$argon2id$v=19$m=19456,t=2,p=1$nNWPWnuSKH1GLq9BvlfjIg$g2+dSOXs3wU2cxXcRGkbYA"
	hex128      = "0764301cc39708e2821ff42a663a923539145da2a084119135a2d4aaeb5eba80735ae305427a1e6290c01453e5ef0832c511e253411dcd40b3c14693238003d1"
	hex64       = "b13671a00d1ee0d3c22a93b4cd82f764b9e260ca233560b22f4c39b4e15c6b59"
	b64salt     = "nNWPWnuSKH1GLq9BvlfjIg"
	b64digest   = "g2+dSOXs3wU2cxXcRGkbYA"
)

// mustHasher builds a Hasher through the public constructor with a budget
// large enough that no test waits on another.
func mustHasher(tb testing.TB, target Target) *Hasher {
	tb.Helper()
	h, err := NewHasher(Policy{Target: target, Argon2: OWASPArgon2(), MemoryBudget: 1 << 30})
	if err != nil {
		tb.Fatalf("NewHasher(%s): %v", target, err)
	}
	return h
}

// TestHasher_Verify_WerkzeugVectors runs each vector once with its password
// and once with each near miss. The slow vectors (bcrypt cost 12, pbkdf2 at
// 600,000 and a million iterations) cost seconds each under -race, so they get
// the one near miss that matters most (the password plus one character); the
// cheaper vectors of the same families run every case. All run in parallel.
// slowVectors are the vectors, by method, that take seconds under -race.
var slowVectors = map[string]bool{"bcrypt:12": true, "pbkdf2": true, "pbkdf2:sha256:600000": true}

func TestHasher_Verify_WerkzeugVectors(t *testing.T) {
	t.Parallel()
	h := mustHasher(t, TargetArgon2id)
	vectors := slowestFirst(loadVectors(t), func(v vector) string { return v.Hash })
	for _, v := range vectors {
		cases := []struct {
			name  string
			plain string
			want  bool
		}{
			{"its password should verify", v.Password, true},
			{"a wrong password should not verify", "wrong password", false},
			{"the empty password should not verify", "", false},
			{"the password plus one character should not verify", v.Password + "x", false},
		}
		if slowVectors[v.Method] {
			cases = []struct {
				name  string
				plain string
				want  bool
			}{cases[0], cases[3]}
		}
		for _, tc := range cases {
			t.Run(v.Method+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				got, err := h.Verify(context.Background(), tc.plain, v.Hash)
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if got != tc.want {
					t.Errorf("Verify = %v, want %v", got, tc.want)
				}
			})
		}
	}
}

func TestHasher_Verify_StudioFixture(t *testing.T) {
	t.Parallel()
	sql, err := os.ReadFile("../../testdata/studio-fixture.sql")
	if err != nil {
		t.Fatalf("read fixture: %v", err)
	}
	h := mustHasher(t, TargetArgon2id)
	users := slowestFirst(studioFixture, func(u fixtureUser) string { return u.hash })
	for _, u := range users {
		t.Run(u.username+" should log in with the documented password", func(t *testing.T) {
			t.Parallel()
			if !strings.Contains(string(sql), "'"+u.hash+"'") {
				t.Fatalf("studio-fixture.sql no longer holds the hash copied here for %s", u.username)
			}
			if !strings.Contains(string(sql), u.username+"="+u.password) {
				t.Fatalf("studio-fixture.sql no longer documents the password copied here for %s", u.username)
			}
			ok, err := h.Verify(context.Background(), u.password, u.hash)
			if err != nil || !ok {
				t.Fatalf("Verify = %v, %v; want true, nil", ok, err)
			}
		})
	}
}

var (
	werkzeugOutput = regexp.MustCompile(`^scrypt:32768:8:1\$[A-Za-z0-9]{16}\$[0-9a-f]{128}$`)
	argon2idOutput = regexp.MustCompile(`^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
)

func TestHasher_Hash(t *testing.T) {
	t.Parallel()
	const plain = "new pässword 🖋"
	for _, target := range []Target{TargetArgon2id, TargetWerkzeug, TargetOff} {
		t.Run(string(target)+" output should verify and need no rehash", func(t *testing.T) {
			t.Parallel()
			h := mustHasher(t, target)
			ctx := context.Background()
			encoded, err := h.Hash(ctx, plain)
			if err != nil {
				t.Fatalf("Hash: %v", err)
			}
			switch target {
			case TargetWerkzeug:
				if !werkzeugOutput.MatchString(encoded) {
					t.Errorf("Hash = %q, want werkzeug scrypt:32768:8:1 with 16-char salt", encoded)
				}
			default:
				m := argon2idOutput.FindStringSubmatch(encoded)
				if m == nil {
					t.Fatalf("Hash = %q, want an argon2id PHC string with 16-byte salt and 32-byte key", encoded)
				}
				mem, _ := strconv.Atoi(m[1])
				tm, _ := strconv.Atoi(m[2])
				par, _ := strconv.Atoi(m[3])
				if mem < 19456 || tm < 2 || par < 1 {
					t.Errorf("Hash params m=%d,t=%d,p=%d, want at least m=19456,t=2,p=1", mem, tm, par)
				}
			}
			if ok, err := h.Verify(ctx, plain, encoded); err != nil || !ok {
				t.Errorf("Verify(right password) = %v, %v; want true, nil", ok, err)
			}
			if ok, err := h.Verify(ctx, plain+"x", encoded); err != nil || ok {
				t.Errorf("Verify(wrong password) = %v, %v; want false, nil", ok, err)
			}
			if h.NeedsRehash(encoded) {
				t.Errorf("NeedsRehash(own output) = true, want false")
			}
			again, err := h.Hash(ctx, plain)
			if err != nil {
				t.Fatalf("second Hash: %v", err)
			}
			if again == encoded {
				t.Errorf("two hashes of one password are equal; the salt is not random")
			}
		})
	}
}

// TestHasher_Verify_Malformed feeds strings that must be refused with an
// error, and checks that none of them reached the KDF or the limiter.
func TestHasher_Verify_Malformed(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		encoded string
		want    error
	}{
		{"empty", "", ErrMalformedHash},
		{"a lone dollar", "$", ErrUnknownFormat},
		{"a plain password in the column", "secure_password", ErrUnknownFormat},
		{"random unicode", "pässwörd 🔑 ∆∂ƒ", ErrUnknownFormat},
		{"too long", "scrypt:32768:8:1$" + strings.Repeat("a", 1100) + "$" + hex128, ErrMalformedHash},

		{"scrypt without salt or digest", "scrypt:abc", ErrMalformedHash},
		{"scrypt without digest", "scrypt:32768:8:1$salt", ErrMalformedHash},
		{"scrypt with text params", "scrypt:abc$salt$" + hex128, ErrMalformedHash},
		{"scrypt with two params", "scrypt:32768:8$salt$" + hex128, ErrMalformedHash},
		{"scrypt with signed param", "scrypt:+32768:8:1$salt$" + hex128, ErrMalformedHash},
		{"scrypt with an empty salt", "scrypt:32768:8:1$$" + hex128, ErrMalformedHash},
		{"scrypt with truncated hex", scrypt32768[:len(scrypt32768)-1], ErrMalformedHash},
		{"scrypt with non-hex", scrypt32768[:len(scrypt32768)-1] + "g", ErrMalformedHash},
		{"scrypt with upper-case hex", "scrypt:32768:8:1$salt$" + strings.ToUpper(hex128), ErrMalformedHash},
		{"scrypt with a dollar in the digest", "scrypt:32768:8:1$salt$" + hex128[:127] + "$", ErrMalformedHash},
		{"scrypt N=2^40", "scrypt:1099511627776:8:1$salt$" + hex128, ErrMalformedHash},
		{"scrypt N=2^21", "scrypt:2097152:8:1$salt$" + hex128, ErrMalformedHash},
		{"scrypt N with 30 digits", "scrypt:" + strings.Repeat("9", 30) + ":8:1$salt$" + hex128, ErrMalformedHash},
		{"scrypt N not a power of two", "scrypt:32767:8:1$salt$" + hex128, ErrMalformedHash},
		{"scrypt N=1", "scrypt:1:8:1$salt$" + hex128, ErrMalformedHash},
		{"scrypt r=0", "scrypt:32768:0:1$salt$" + hex128, ErrMalformedHash},
		{"scrypt r huge", "scrypt:1024:1000000:1$salt$" + hex128, ErrMalformedHash},
		{"scrypt p=0", "scrypt:32768:8:0$salt$" + hex128, ErrMalformedHash},
		{"scrypt memory above 256 MiB", "scrypt:1048576:4:1$salt$" + hex128, ErrMalformedHash},

		{"pbkdf2 md5", "pbkdf2:md5:1$s$h", ErrUnknownFormat},
		{"pbkdf2 upper-case hash name", "pbkdf2:SHA256:1000$salt$" + hex64, ErrUnknownFormat},
		{"pbkdf2 zero iterations", "pbkdf2:sha256:0$salt$" + hex64, ErrMalformedHash},
		{"pbkdf2 iterations above 10 million", "pbkdf2:sha256:10000001$salt$" + hex64, ErrMalformedHash},
		{"pbkdf2 iterations with underscore", "pbkdf2:sha256:1_000$salt$" + hex64, ErrMalformedHash},
		{"pbkdf2 three params", "pbkdf2:sha256:1000:1$salt$" + hex64, ErrMalformedHash},
		{"pbkdf2 sha256 with a sha1-sized digest", "pbkdf2:sha256:1000$salt$" + hex64[:40], ErrMalformedHash},
		{"pbkdf2 truncated hex", pbkdf2H256[:len(pbkdf2H256)-2], ErrMalformedHash},

		{"bcrypt prefix only", "$2b$", ErrMalformedHash},
		{"bcrypt junk", "$2b$junk", ErrMalformedHash},
		{"bcrypt truncated", bcrypt12[:59], ErrMalformedHash},
		{"bcrypt with a bad character", bcrypt12[:59] + "!", ErrMalformedHash},
		{"bcrypt cost 31", "$2b$31$" + bcrypt12[7:], ErrMalformedHash},
		{"bcrypt cost 3", "$2b$03$" + bcrypt12[7:], ErrMalformedHash},
		{"bcrypt cost not digits", "$2b$1x$" + bcrypt12[7:], ErrMalformedHash},
		{"bcrypt $2x$ variant", "$2x$12$" + bcrypt12[7:], ErrUnknownFormat},
		{"bcrypt $2$ variant", "$2$12$" + bcrypt12[7:], ErrUnknownFormat},

		{"argon2id cut after m=", "$argon2id$v=19$m=x", ErrMalformedHash},
		{"argon2id with text m", "$argon2id$v=19$m=x,t=2,p=1$" + b64salt + "$" + b64digest, ErrMalformedHash},
		{"argon2id m=2^32-1", "$argon2id$v=19$m=4294967295,t=2,p=1$" + b64salt + "$" + b64digest, ErrMalformedHash},
		{"argon2id m just above 256 MiB", "$argon2id$v=19$m=262145,t=2,p=1$" + b64salt + "$" + b64digest, ErrMalformedHash},
		{"argon2id m below 8 per lane", "$argon2id$v=19$m=15,t=2,p=2$" + b64salt + "$" + b64digest, ErrMalformedHash},
		{"argon2id t=0", "$argon2id$v=19$m=19456,t=0,p=1$" + b64salt + "$" + b64digest, ErrMalformedHash},
		{"argon2id t=1000", "$argon2id$v=19$m=19456,t=1000,p=1$" + b64salt + "$" + b64digest, ErrMalformedHash},
		{"argon2id p=0", "$argon2id$v=19$m=19456,t=2,p=0$" + b64salt + "$" + b64digest, ErrMalformedHash},
		{"argon2id p=255", "$argon2id$v=19$m=19456,t=2,p=255$" + b64salt + "$" + b64digest, ErrMalformedHash},
		{"argon2id params out of order", "$argon2id$v=19$t=2,m=19456,p=1$" + b64salt + "$" + b64digest, ErrMalformedHash},
		{"argon2id with keyid", "$argon2id$v=19$m=19456,t=2,p=1,keyid=a$" + b64salt + "$" + b64digest, ErrMalformedHash},
		{"argon2id padded base64", "$argon2id$v=19$m=19456,t=2,p=1$" + b64salt + "==$" + b64digest, ErrMalformedHash},
		{"argon2id short salt", "$argon2id$v=19$m=19456,t=2,p=1$AAAA$" + b64digest, ErrMalformedHash},
		{"argon2id empty digest", "$argon2id$v=19$m=19456,t=2,p=1$" + b64salt + "$", ErrMalformedHash},
		{"argon2id extra field", argon2OWASP + "$x", ErrMalformedHash},
		{"argon2id without v=", "$argon2id$19$m=19456,t=2,p=1$" + b64salt + "$" + b64digest, ErrMalformedHash},
		{"argon2id version 16", "$argon2id$v=16$m=19456,t=2,p=1$" + b64salt + "$" + b64digest, ErrUnknownFormat},
		{"argon2id versionless (1.0)", "$argon2id$m=19456,t=2,p=1$" + b64salt + "$" + b64digest, ErrUnknownFormat},
		{"argon2i", "$argon2i$v=19$m=19456,t=2,p=1$" + b64salt + "$" + b64digest, ErrUnknownFormat},
		{"argon2d", "$argon2d$v=19$m=19456,t=2,p=1$" + b64salt + "$" + b64digest, ErrUnknownFormat},
	}
	h := mustHasher(t, TargetArgon2id)
	for _, tc := range cases {
		t.Run(tc.name+" should be refused", func(t *testing.T) {
			ok, err := h.Verify(context.Background(), "secure_password", tc.encoded)
			if ok || !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %v, %v; want false and an error wrapping %v", ok, err, tc.want)
			}
			if len(tc.encoded) > 4 && strings.Contains(err.Error(), tc.encoded) {
				t.Errorf("error %q quotes the encoded string", err)
			}
			if f, err := Identify(tc.encoded); !errors.Is(err, tc.want) {
				t.Errorf("Identify = %q, %v; want an error wrapping %v", f, err, tc.want)
			}
			if d := Describe(tc.encoded); d != "unknown format" && !strings.HasPrefix(d, "malformed ") {
				t.Errorf("Describe = %q, want unknown format or malformed ...", d)
			}
		})
	}
	if s := h.Limiter().Stats(); s.Completed != 0 || s.PeakInFlight != 0 {
		t.Errorf("limiter stats after only malformed hashes = %+v, want no operation", s)
	}
}

// TestHasher_Verify_Bcrypt72 pins the library behaviour Verify keeps: bcrypt
// reads the first 72 bytes of a password and nothing after.
func TestHasher_Verify_Bcrypt72(t *testing.T) {
	t.Parallel()
	first72 := strings.Repeat("ñ", 36) // 72 bytes of UTF-8
	encoded, err := bcrypt.GenerateFromPassword([]byte(first72), bcrypt.MinCost)
	if err != nil {
		t.Fatalf("GenerateFromPassword: %v", err)
	}
	h := mustHasher(t, TargetArgon2id)
	cases := []struct {
		name  string
		plain string
		want  bool
	}{
		{"the 72-byte password should verify", first72, true},
		{"a longer password sharing the first 72 bytes should verify", first72 + "anything after", true},
		{"a password one byte short should not verify", first72[:71], false},
		{"a 1000-byte password should not verify and not panic", strings.Repeat("x", 1000), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := h.Verify(context.Background(), tc.plain, string(encoded))
			if err != nil || got != tc.want {
				t.Errorf("Verify = %v, %v; want %v, nil", got, err, tc.want)
			}
		})
	}
}

func TestHasher_NeedsRehash(t *testing.T) {
	t.Parallel()
	argon2 := func(m, tm, p int) string {
		return "$argon2id$v=19$m=" + strconv.Itoa(m) + ",t=" + strconv.Itoa(tm) + ",p=" + strconv.Itoa(p) + "$" + b64salt + "$" + b64digest
	}
	stronger := Argon2Params{Memory: 65536, Time: 3, Threads: 2, SaltLen: 16, KeyLen: 32}
	hStrong, err := NewHasher(Policy{Target: TargetArgon2id, Argon2: stronger, MemoryBudget: 1 << 30})
	if err != nil {
		t.Fatalf("NewHasher: %v", err)
	}
	hashers := map[string]*Hasher{
		"argon2id":        mustHasher(t, TargetArgon2id),
		"argon2id strong": hStrong,
		"werkzeug":        mustHasher(t, TargetWerkzeug),
		"off":             mustHasher(t, TargetOff),
	}
	cases := []struct {
		name    string
		hasher  string
		encoded string
		want    bool
	}{
		{"argon2id at the policy should stay", "argon2id", argon2OWASP, false},
		{"argon2id above the policy should stay", "argon2id", argon2(65536, 3, 4), false},
		{"argon2id with less memory should be rehashed", "argon2id", argon2(19455, 2, 1), true},
		{"argon2id with fewer passes should be rehashed", "argon2id", argon2(47104, 1, 1), true},
		{"argon2id below a stronger policy should be rehashed", "argon2id strong", argon2OWASP, true},
		{"argon2id with fewer lanes than a stronger policy should be rehashed", "argon2id strong", argon2(65536, 3, 1), true},
		{"argon2id at a stronger policy should stay", "argon2id strong", argon2(65536, 3, 2), false},
		{"werkzeug scrypt under argon2id should be rehashed", "argon2id", scrypt32768, true},
		{"werkzeug pbkdf2 under argon2id should be rehashed", "argon2id", pbkdf2H256, true},
		{"bcrypt under argon2id should be rehashed", "argon2id", bcrypt12, true},
		{"a malformed hash under argon2id reports true", "argon2id", "scrypt:abc", true},

		{"werkzeug default scrypt should stay", "werkzeug", scrypt32768, false},
		{"bare scrypt (werkzeug defaults) should stay", "werkzeug", "scrypt$salt$" + hex128, false},
		{"stronger scrypt should stay", "werkzeug", "scrypt:65536:16:2$salt$" + hex128, false},
		{"scrypt with N=16384 should be rehashed", "werkzeug", scrypt16384, true},
		{"scrypt with r=4 should be rehashed", "werkzeug", "scrypt:65536:4:1$salt$" + hex128, true},
		{"pbkdf2 sha256 under werkzeug should be rehashed", "werkzeug", pbkdf2H256, true},
		{"pbkdf2 sha1 under werkzeug should be rehashed", "werkzeug", pbkdf2Hash1, true},
		{"bcrypt under werkzeug should be rehashed", "werkzeug", bcrypt12, true},
		{"argon2id under werkzeug should be rehashed (Python cannot verify it)", "werkzeug", argon2OWASP, true},

		{"pbkdf2 sha1 under off should stay", "off", pbkdf2Hash1, false},
		{"bcrypt under off should stay", "off", bcrypt12, false},
		{"weak argon2id under off should stay", "off", argon2(1024, 1, 1), false},
		{"a malformed hash under off reports false", "off", "$", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := hashers[tc.hasher].NeedsRehash(tc.encoded); got != tc.want {
				t.Errorf("NeedsRehash = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestIdentifyAndDescribe(t *testing.T) {
	t.Parallel()
	want := map[string]struct {
		format   Format
		describe string
	}{
		"scrypt":               {FormatWerkzeugScrypt, "scrypt:32768:8:1"},
		"scrypt:16384:8:1":     {FormatWerkzeugScrypt, "scrypt:16384:8:1"},
		"pbkdf2":               {FormatWerkzeugPBKDF2, "pbkdf2:sha256:1000000"},
		"pbkdf2:sha256:600000": {FormatWerkzeugPBKDF2, "pbkdf2:sha256:600000"},
		"pbkdf2:sha256:260000": {FormatWerkzeugPBKDF2, "pbkdf2:sha256:260000"},
		"pbkdf2:sha512:100000": {FormatWerkzeugPBKDF2, "pbkdf2:sha512:100000"},
		"pbkdf2:sha1:50000":    {FormatWerkzeugPBKDF2, "pbkdf2:sha1:50000"},
		"bcrypt:10":            {FormatBcrypt, "bcrypt cost 10"},
		"bcrypt:12":            {FormatBcrypt, "bcrypt cost 12"},
		"argon2":               {FormatArgon2id, "argon2id m=19456,t=2,p=1"},
	}
	for _, v := range loadVectors(t) {
		w, ok := want[v.Method]
		if !ok {
			t.Errorf("vector %q has no expectation here; add one", v.Method)
			continue
		}
		t.Run(v.Method+" should be identified and described", func(t *testing.T) {
			f, err := Identify(v.Hash)
			if err != nil || f != w.format {
				t.Errorf("Identify = %q, %v; want %q, nil", f, err, w.format)
			}
			if d := Describe(v.Hash); d != w.describe {
				t.Errorf("Describe = %q, want %q", d, w.describe)
			}
		})
	}

	others := []struct {
		name, encoded, describe string
	}{
		{"bare pbkdf2:sha512 should show werkzeug's default iterations", "pbkdf2:sha512$salt$" + strings.Repeat("ab", 64), "pbkdf2:sha512:1000000"},
		{"a malformed scrypt hash should be named without its contents", "scrypt:32768:8:1$secret-salt$zz", "malformed scrypt hash"},
		{"a malformed argon2id hash should be named", "$argon2id$v=19$m=x", "malformed argon2id hash"},
		{"an unsupported pbkdf2 digest is an unknown format", "pbkdf2:md5:1$s$h", "unknown format"},
		{"a plain password should not be echoed", "hunter2", "unknown format"},
	}
	for _, tc := range others {
		t.Run(tc.name, func(t *testing.T) {
			if d := Describe(tc.encoded); d != tc.describe {
				t.Errorf("Describe = %q, want %q", d, tc.describe)
			}
		})
	}
}

func TestNewHasher(t *testing.T) {
	t.Parallel()
	owasp := OWASPArgon2()
	with := func(f func(*Argon2Params)) Argon2Params {
		p := owasp
		f(&p)
		return p
	}
	const budget = 1 << 30
	cases := []struct {
		name    string
		policy  Policy
		wantErr []string // substrings; nil means success
	}{
		{"OWASP argon2id should be accepted", Policy{TargetArgon2id, owasp, budget}, nil},
		{"off with OWASP argon2id should be accepted", Policy{TargetOff, owasp, budget}, nil},
		{"werkzeug without argon2 params should be accepted", Policy{TargetWerkzeug, Argon2Params{}, 32 << 20}, nil},
		{"a budget of exactly one argon2id hash should be accepted", Policy{TargetArgon2id, owasp, 19456 * 1024}, nil},
		{"an empty target should be refused", Policy{"", owasp, budget}, []string{`target ""`}},
		{"an unknown target should be refused", Policy{"bcrypt", owasp, budget}, []string{`target "bcrypt"`}},
		{"zero argon2 params should be refused", Policy{TargetArgon2id, Argon2Params{}, budget}, []string{"argon2 memory 0 KiB is below the minimum 19456 KiB", "argon2 time 0", "argon2 threads 0", "salt length 0", "key length 0"}},
		{"memory below OWASP should be refused", Policy{TargetArgon2id, with(func(p *Argon2Params) { p.Memory = 19455 }), budget}, []string{"argon2 memory 19455 KiB is below"}},
		{"one pass should be refused", Policy{TargetOff, with(func(p *Argon2Params) { p.Time = 1 }), budget}, []string{"argon2 time 1 is below the minimum 2"}},
		{"a short salt should be refused", Policy{TargetArgon2id, with(func(p *Argon2Params) { p.SaltLen = 8 }), budget}, []string{"salt length 8 bytes is below"}},
		{"a short key should be refused", Policy{TargetArgon2id, with(func(p *Argon2Params) { p.KeyLen = 16 }), budget}, []string{"key length 16 bytes is below"}},
		{"memory above what Verify accepts should be refused", Policy{TargetArgon2id, with(func(p *Argon2Params) { p.Memory = 1 << 20 }), 2 << 30}, []string{"argon2 memory 1048576 KiB is above the maximum 262144 KiB"}},
		{"threads above what Verify accepts should be refused", Policy{TargetArgon2id, with(func(p *Argon2Params) { p.Threads = 64 }), budget}, []string{"argon2 threads 64 is above"}},
		{"a budget below one argon2id hash should be refused", Policy{TargetArgon2id, owasp, 19456*1024 - 1}, []string{"memory budget 19922943 bytes is below the 19922944 bytes one argon2id hash needs"}},
		{"a budget below one werkzeug scrypt hash should be refused", Policy{TargetWerkzeug, Argon2Params{}, 1 << 20}, []string{"below the 33554432 bytes one werkzeug hash needs"}},
		{"weak argon2 params with werkzeug should still be refused", Policy{TargetWerkzeug, Argon2Params{Memory: 1}, budget}, []string{"argon2 memory 1 KiB"}},
		{"every problem should be reported at once", Policy{TargetArgon2id, with(func(p *Argon2Params) { p.Memory = 1024; p.Time = 1 }), 0}, []string{"argon2 memory 1024", "argon2 time 1", "memory budget 0 bytes"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h, err := NewHasher(tc.policy)
			if tc.wantErr == nil {
				if err != nil || h == nil {
					t.Fatalf("NewHasher = %v, %v; want a Hasher", h, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("NewHasher succeeded, want an error mentioning %q", tc.wantErr)
			}
			for _, s := range tc.wantErr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
			if !strings.HasPrefix(err.Error(), "invalid password policy: ") {
				t.Errorf("error %q does not say what was being done", err)
			}
		})
	}
}

// TestNewTestHasher: the low-cost parameters other packages' rule tests use
// are refused by NewHasher (and so by anything config builds) and accepted
// only by NewTestHasher, whose hashes verify and carry those parameters.
func TestNewTestHasher(t *testing.T) {
	t.Parallel()
	low := Policy{Target: TargetArgon2id, Argon2: LowCostArgon2ForTests(), MemoryBudget: 1 << 20}
	if _, err := NewHasher(low); err == nil || !strings.Contains(err.Error(), "argon2 memory 8 KiB is below the minimum 19456 KiB") {
		t.Errorf("NewHasher with the test parameters = %v, want the OWASP floor's refusal", err)
	}
	h, err := NewTestHasher(low)
	if err != nil {
		t.Fatalf("NewTestHasher: %v", err)
	}
	encoded, err := h.Hash(context.Background(), "rule-test-password")
	if err != nil {
		t.Fatal(err)
	}
	if d := Describe(encoded); d != "argon2id m=8,t=1,p=1" {
		t.Errorf("Describe(hash) = %q, want argon2id m=8,t=1,p=1", d)
	}
	for plain, want := range map[string]bool{"rule-test-password": true, "rule-test-passwore": false} {
		if ok, err := h.Verify(context.Background(), plain, encoded); ok != want || err != nil {
			t.Errorf("Verify(%q) = %v, %v; want %v", plain, ok, err, want)
		}
	}
	if h.NeedsRehash(encoded) {
		t.Error("NeedsRehash of a hash with the policy's own parameters")
	}
	// The floor is lowered, not removed: RFC 9106's limits still hold.
	if _, err := NewTestHasher(Policy{Target: TargetArgon2id, Argon2: Argon2Params{Memory: 8, Time: 0, Threads: 1, SaltLen: 16, KeyLen: 32}, MemoryBudget: 1 << 20}); err == nil {
		t.Error("NewTestHasher accepted zero passes")
	}
}

func TestHasher_VerifyDummy(t *testing.T) {
	t.Parallel()
	want := map[Target]string{
		TargetArgon2id: "argon2id m=19456,t=2,p=1",
		TargetWerkzeug: "scrypt:32768:8:1",
		TargetOff:      "argon2id m=19456,t=2,p=1",
	}
	for target, describe := range want {
		t.Run(string(target)+" should verify against a target-format hash", func(t *testing.T) {
			t.Parallel()
			h := mustHasher(t, target)
			if d := Describe(h.dummyHash()); d != describe {
				t.Errorf("dummy hash is %q, want %q", d, describe)
			}
			h.VerifyDummy(context.Background(), "any password")
			if s := h.Limiter().Stats(); s.Completed != 1 {
				t.Errorf("Completed after VerifyDummy = %d, want 1 (the KDF ran under the limiter)", s.Completed)
			}
		})
	}
}
