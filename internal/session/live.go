package session

import "time"

// Live is one of a user's live browser sessions as an admin sees it: the
// session and the clients that took part in it (a code was issued to them
// there). The cookie and its hash are not part of it: an admin ends a
// session by its sid.
type Live struct {
	Session
	// Clients are the ids of the clients that took part, in id order.
	Clients []string
}

// SignedIn is a user who holds live sessions, for the console's list of
// who is signed in.
type SignedIn struct {
	UserID   int64
	Username string
	// Sessions is how many live sessions the user holds; Latest when the
	// newest of them began.
	Sessions int
	Latest   time.Time
}
