// Package web is inkpass's HTTP surface: the routes (one table in routes.go),
// middleware (request id and log line, panic recovery, body limits, security
// headers), the HTML pages rendered from templates/, cookies and CSRF.
//
// Protocol decisions belong to internal/oidc; web only moves the browser
// between them and the pages. Only cmd/inkpass imports web.
package web
