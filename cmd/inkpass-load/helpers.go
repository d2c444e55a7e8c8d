package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"
)

// extractJSONField prints one string field of the JSON object on r, so that
// scripts/load.sh can read `inkpass client add --json` without jq or python.
func extractJSONField(r io.Reader, w io.Writer, field string) error {
	var obj map[string]json.RawMessage
	if err := json.NewDecoder(io.LimitReader(r, 1<<20)).Decode(&obj); err != nil {
		return fmt.Errorf("-extract-json-field: read a JSON object from stdin: %w", err)
	}
	raw, ok := obj[field]
	if !ok {
		return fmt.Errorf("-extract-json-field: no field %q", field)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return fmt.Errorf("-extract-json-field: field %q is not a string", field)
	}
	_, err := fmt.Fprintln(w, s)
	return err
}

// printFreePort asks the kernel for a free port on 127.0.0.1. Another process
// could take it before the server binds it; on a test machine that is rare,
// and the server then fails loudly.
func printFreePort(w io.Writer) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	_, err = fmt.Fprintln(w, port)
	return err
}

// waitReady polls every server's /readyz until it answers 200; all within d.
func waitReady(ctx context.Context, cfg *config, d time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	cl := &http.Client{Transport: newTransport(1), Timeout: 2 * time.Second}
	defer cl.CloseIdleConnections()
	bases := cfg.bases
	if len(bases) == 0 {
		bases = []*url.URL{cfg.base}
	}
	for _, b := range bases {
		if err := waitOneReady(ctx, cl, b.String()+"/readyz", d); err != nil {
			return err
		}
	}
	return nil
}

func waitOneReady(ctx context.Context, cl *http.Client, target string, d time.Duration) error {
	var last error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
		if err != nil {
			return err
		}
		resp, err := cl.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Errorf("HTTP %d", resp.StatusCode)
		} else {
			last = trimURLError(err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready after %s: %w", target, d, last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
