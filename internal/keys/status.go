package keys

import "time"

// State is where a key stands in its life, as an admin reads it. inkpass
// publishes no key ahead of its use (a new key signs at once, and the JWKS
// carries it from that moment), so there is no "next" state.
type State string

const (
	// StateActive: the key signs new tokens of its algorithm.
	StateActive State = "active"
	// StateRetiring: replaced by a newer key, still published so that
	// the tokens it signed verify, until PublishedUntil.
	StateRetiring State = "retiring"
	// StateRetired: no longer published; pruned at the next rotation.
	StateRetired State = "retired"
)

// Status is a key's Info with its state and, for a retired key, when its
// publication ends (RetiredAt + RetainFor).
type Status struct {
	Info
	State          State      `json:"state"`
	PublishedUntil *time.Time `json:"published_until,omitempty"`
}

// RetainFor is how long a retired key stays published.
func (s *Set) RetainFor() time.Duration { return s.retain }

// Statuses describes every key in List order with its state.
func (s *Set) Statuses() []Status {
	list := s.List()
	out := make([]Status, len(list))
	for i, k := range list {
		st := Status{Info: k, State: StateActive}
		if !k.Active {
			st.State = StateRetired
			if k.Published {
				st.State = StateRetiring
			}
			if k.RetiredAt != nil {
				end := k.RetiredAt.Add(s.retain)
				st.PublishedUntil = &end
			}
		}
		out[i] = st
	}
	return out
}
