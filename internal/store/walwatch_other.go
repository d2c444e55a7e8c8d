//go:build !unix

package store

import "errors"

// mapShm is unavailable here: Clients reads the database on every request.
func mapShm(string) ([]byte, func(), error) {
	return nil, nil, errors.New("no shared mapping of the wal-index")
}

func unmapShm([]byte) {}
