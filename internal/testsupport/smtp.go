package testsupport

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// SMTPOptions configure an SMTPServer.
type SMTPOptions struct {
	// TLS is "starttls" (the default: STARTTLS offered, AUTH only after it),
	// "tls" (implicit TLS from the first byte) or "none".
	TLS string
	// Username and Password, when set, make AUTH PLAIN required before MAIL.
	Username, Password string
	// Answer, when set, decides each DATA command: n counts them from 1
	// (failed ones included); nil accepts the message, an error (SMTPReply)
	// refuses it.
	Answer func(n int) error
}

// SMTPReply is an SMTP error reply for SMTPOptions.Answer: 451 is a
// temporary failure, 550 a permanent one.
func SMTPReply(code int, message string) error {
	return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCodeNotSet, Message: message}
}

// ReceivedMail is one message the server accepted.
type ReceivedMail struct {
	From string
	To   []string
	// Data is the message as sent after DATA: headers and body.
	Data []byte
	// TLS reports whether the connection was encrypted when it was sent.
	TLS bool
}

// SMTPServer is a real SMTP server (emersion/go-smtp) on 127.0.0.1 with a
// self-signed certificate, for tests of inkpass's email: the sender under
// test speaks real SMTP, STARTTLS or implicit TLS and AUTH PLAIN to it, and
// the test reads what arrived.
type SMTPServer struct {
	Host string
	Port int
	// CAFile is the PEM file of the server's self-signed certificate (for
	// mail.ca_file); RootCAs holds the same certificate.
	CAFile  string
	RootCAs *x509.CertPool

	opts SMTPOptions
	srv  *smtp.Server
	ln   net.Listener
	done chan struct{}

	mu       sync.Mutex
	received []ReceivedMail
	datas    int
	auths    int
	authFail int
}

// NewSMTPServer starts a server on 127.0.0.1 and stops it when the test ends.
func NewSMTPServer(t testing.TB, opts SMTPOptions) *SMTPServer {
	t.Helper()
	if opts.TLS == "" {
		opts.TLS = "starttls"
	}
	cert, pemBytes := selfSigned(t)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemBytes)
	caFile := filepath.Join(t.TempDir(), "smtp-ca.pem")
	if err := os.WriteFile(caFile, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	s := &SMTPServer{CAFile: caFile, RootCAs: pool, opts: opts, done: make(chan struct{})}
	tlsConf := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &smtpSession{s: s, conn: c}, nil
	}))
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.MaxMessageBytes = 1 << 20
	srv.ErrorLog = log.New(io.Discard, "", 0)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	switch opts.TLS {
	case "starttls":
		srv.TLSConfig = tlsConf
	case "tls":
		ln = tls.NewListener(ln, tlsConf)
	case "none":
		srv.AllowInsecureAuth = true
	default:
		t.Fatalf("SMTPOptions.TLS %q: want starttls, tls or none", opts.TLS)
	}
	s.srv, s.ln = srv, ln
	addr := ln.Addr().(*net.TCPAddr)
	s.Host, s.Port = "127.0.0.1", addr.Port
	go func() {
		defer close(s.done)
		srv.Serve(ln)
	}()
	t.Cleanup(s.Stop)
	return s
}

// Addr is host:port.
func (s *SMTPServer) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// Stop closes the server; connections are then refused. Safe to call twice.
func (s *SMTPServer) Stop() {
	s.srv.Close()
	// Close misses a listener that Serve has not registered yet.
	s.ln.Close()
	<-s.done
}

// Received returns the messages accepted so far.
func (s *SMTPServer) Received() []ReceivedMail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ReceivedMail(nil), s.received...)
}

// DataCommands counts the DATA commands, refused ones included.
func (s *SMTPServer) DataCommands() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.datas
}

// AuthFailures counts refused AUTH attempts.
func (s *SMTPServer) AuthFailures() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.authFail
}

// AuthAttempts counts every AUTH the server was sent credentials in, right
// or wrong: a test that a password never went out in plain text needs the
// right one counted too.
func (s *SMTPServer) AuthAttempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.auths
}

// WaitReceived waits until at least n messages arrived or timeout passed,
// and returns what arrived.
func (s *SMTPServer) WaitReceived(n int, timeout time.Duration) []ReceivedMail {
	deadline := time.Now().Add(timeout)
	for {
		got := s.Received()
		if len(got) >= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type smtpSession struct {
	s      *SMTPServer
	conn   *smtp.Conn
	authed bool
	from   string
	to     []string
}

func (ss *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (ss *smtpSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		ss.s.mu.Lock()
		ss.s.auths++
		ss.s.mu.Unlock()
		if username != ss.s.opts.Username || password != ss.s.opts.Password {
			ss.s.mu.Lock()
			ss.s.authFail++
			ss.s.mu.Unlock()
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Authentication credentials invalid"}
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *smtpSession) needAuth() error {
	if ss.s.opts.Username != "" && !ss.authed {
		return smtp.ErrAuthRequired
	}
	return nil
}

func (ss *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	if err := ss.needAuth(); err != nil {
		return err
	}
	ss.from = from
	return nil
}

func (ss *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if err := ss.needAuth(); err != nil {
		return err
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *smtpSession) Data(r io.Reader) error {
	if err := ss.needAuth(); err != nil {
		return err
	}
	body, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.s.mu.Lock()
	ss.s.datas++
	n := ss.s.datas
	ss.s.mu.Unlock()
	if ss.s.opts.Answer != nil {
		if err := ss.s.opts.Answer(n); err != nil {
			return err
		}
	}
	_, isTLS := ss.conn.TLSConnectionState()
	ss.s.mu.Lock()
	ss.s.received = append(ss.s.received, ReceivedMail{From: ss.from, To: append([]string(nil), ss.to...), Data: body, TLS: isTLS})
	ss.s.mu.Unlock()
	return nil
}

func (ss *smtpSession) Reset() { ss.from, ss.to = "", nil }

func (ss *smtpSession) Logout() error { return nil }

// selfSigned makes a certificate for 127.0.0.1 and localhost that is its own
// CA, and returns it with its PEM.
func selfSigned(t testing.TB) (tls.Certificate, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "inkpass test SMTP"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pemBytes
}
