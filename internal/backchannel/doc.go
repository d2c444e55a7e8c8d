// Package backchannel delivers OpenID Connect Back-Channel Logout 1.0 logout
// tokens. It owns the token's shape and the delivery: a worker drains the
// store's outbox (rows written in the same transaction that ends a session,
// by whichever process ended it), signs each token at send time, POSTs it to
// the client's backchannel_logout_uri and retries a bounded number of times.
// It decides nothing about which sessions end or who took part: the store
// does that where the session ends. It never logs a token.
package backchannel
