package main

import (
	"encoding/json"
	"testing"
	"time"
)

func TestStore(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }

	t.Run("a value lives until its ttl", func(t *testing.T) {
		s := newStore[string](time.Minute, 10, clock)
		id, _ := s.put("v")
		if v, ok := s.get(id); !ok || v != "v" {
			t.Fatalf("get = %q, %v; want v, true", v, ok)
		}
		now = now.Add(time.Minute)
		if _, ok := s.get(id); ok {
			t.Errorf("value still there at its expiry")
		}
	})

	t.Run("take returns a value once", func(t *testing.T) {
		s := newStore[string](time.Minute, 10, clock)
		id, _ := s.put("v")
		if _, ok := s.take(id); !ok {
			t.Fatalf("first take failed")
		}
		if _, ok := s.take(id); ok {
			t.Errorf("second take succeeded")
		}
	})

	t.Run("a full store refuses new values until old ones expire", func(t *testing.T) {
		s := newStore[int](time.Minute, 2, clock)
		s.put(1)
		s.put(2)
		if _, ok := s.put(3); ok {
			t.Fatalf("put into a full store succeeded")
		}
		now = now.Add(time.Minute)
		if _, ok := s.put(3); !ok {
			t.Errorf("put after expiry failed")
		}
	})

	t.Run("an empty id finds nothing", func(t *testing.T) {
		s := newStore[int](time.Minute, 2, clock)
		if _, ok := s.get(""); ok {
			t.Errorf("get(\"\") found a value")
		}
	})
}

func TestNewProfile(t *testing.T) {
	cases := []struct {
		name     string
		idToken  string
		userInfo string
		want     profile
	}{
		{
			name:    "artist_id is shown as sent, even past float64 precision",
			idToken: `{"sub":"1","role":"artist","artist_id":12345678901234567,"artist_name":"Ink"}`,
			want:    profile{Subject: "1", Role: "artist", ArtistID: "12345678901234567", ArtistName: "Ink"},
		},
		{
			name:    "a string artist_id is accepted",
			idToken: `{"sub":"1","role":"artist","artist_id":"7"}`,
			want:    profile{Subject: "1", Role: "artist", ArtistID: "7"},
		},
		{
			name:     "userinfo fills claims the ID token lacks",
			idToken:  `{"sub":"1","role":"assistant"}`,
			userInfo: `{"sub":"1","role":"assistant","name":"Ana","instagram":"@ana"}`,
			want:     profile{Subject: "1", Role: "assistant", Name: "Ana", Instagram: "@ana"},
		},
		{
			name:     "the signed ID token wins when the two differ",
			idToken:  `{"sub":"1","role":"artist"}`,
			userInfo: `{"sub":"1","role":"admin"}`,
			want:     profile{Subject: "1", Role: "artist"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var ui json.RawMessage
			if tc.userInfo != "" {
				ui = json.RawMessage(tc.userInfo)
			}
			got, err := newProfile(json.RawMessage(tc.idToken), ui)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}
