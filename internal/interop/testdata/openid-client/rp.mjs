// A relying party built on openid-client (https://github.com/panva/openid-client),
// which inkpass's interop suite (internal/interop, `make interop`) drives
// through inkpass's login form. Settings come from the environment:
// ISSUER, CLIENT_ID, CLIENT_SECRET, ID_TOKEN_ALG (RS256 or ES256), PORT.
//
//   /login      authorization code + PKCE (S256), state and nonce
//   /callback   the code exchange; openid-client validates the ID token
//               (signature with ID_TOKEN_ALG, iss, aud, exp, nonce), then
//               calls userinfo; answers JSON
//   /refresh    refresh_token grant with the stored (rotated) refresh token,
//               then userinfo with the new access token; answers JSON
//   /logout     RP-initiated logout with id_token_hint
//   /           {"signed_in": bool}
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import * as client from 'openid-client';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const port = Number(env('PORT'));
const base = `http://127.0.0.1:${port}`;
const alg = env('ID_TOKEN_ALG');

// inkpass runs on a loopback http issuer in the suite, hence allowInsecureRequests.
const config = await client.discovery(
  new URL(env('ISSUER')),
  env('CLIENT_ID'),
  { client_secret: env('CLIENT_SECRET'), id_token_signed_response_alg: alg },
  client.ClientSecretBasic(env('CLIENT_SECRET')),
  { execute: [client.allowInsecureRequests] },
);

const pending = new Map(); // state -> { verifier, nonce }
const sessions = new Map(); // cookie -> { sub, idToken, accessToken, refreshToken }

function jwtAlg(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url').toString()).alg;
}

function sessionOf(req) {
  const m = /(?:^|;\s*)rp=([^;]+)/.exec(req.headers.cookie || '');
  return m ? sessions.get(m[1]) : undefined;
}

function json(res, status, body, headers = {}) {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

async function handle(req, res) {
  const url = new URL(req.url, base);
  switch (url.pathname) {
    case '/login': {
      const verifier = client.randomPKCECodeVerifier();
      const state = client.randomState();
      const nonce = client.randomNonce();
      pending.set(state, { verifier, nonce });
      const to = client.buildAuthorizationUrl(config, {
        redirect_uri: `${base}/callback`,
        scope: 'openid profile email offline_access',
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        nonce,
      });
      res.writeHead(302, { Location: to.href });
      return res.end();
    }
    case '/callback': {
      const p = pending.get(url.searchParams.get('state'));
      if (!p) return json(res, 400, { error: 'unknown state' });
      pending.delete(url.searchParams.get('state'));
      const tokens = await client.authorizationCodeGrant(config, url, {
        pkceCodeVerifier: p.verifier,
        expectedState: url.searchParams.get('state'),
        expectedNonce: p.nonce,
        idTokenExpected: true,
      });
      const claims = tokens.claims();
      const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
      const id = randomUUID();
      sessions.set(id, { sub: claims.sub, idToken: tokens.id_token, accessToken: tokens.access_token, refreshToken: tokens.refresh_token });
      return json(res, 200, {
        id_token_alg: jwtAlg(tokens.id_token),
        id_token_claims: claims,
        userinfo,
        has_refresh_token: Boolean(tokens.refresh_token),
      }, { 'Set-Cookie': `rp=${id}; Path=/; HttpOnly` });
    }
    case '/refresh': {
      const s = sessionOf(req);
      if (!s) return json(res, 401, { error: 'not signed in' });
      const old = { ...s };
      const tokens = await client.refreshTokenGrant(config, old.refreshToken);
      s.accessToken = tokens.access_token;
      s.refreshToken = tokens.refresh_token || old.refreshToken;
      s.idToken = tokens.id_token || old.idToken;
      const userinfo = await client.fetchUserInfo(config, tokens.access_token, s.sub);
      return json(res, 200, {
        access_token_changed: tokens.access_token !== old.accessToken,
        refresh_token_rotated: Boolean(tokens.refresh_token) && tokens.refresh_token !== old.refreshToken,
        id_token_alg: tokens.id_token ? jwtAlg(tokens.id_token) : null,
        userinfo,
      });
    }
    case '/logout': {
      const s = sessionOf(req);
      if (!s) return json(res, 401, { error: 'not signed in' });
      const to = client.buildEndSessionUrl(config, {
        id_token_hint: s.idToken,
        post_logout_redirect_uri: `${base}/`,
      });
      for (const [k, v] of sessions) if (v === s) sessions.delete(k);
      res.writeHead(302, { Location: to.href });
      return res.end();
    }
    case '/':
      return json(res, 200, { signed_in: Boolean(sessionOf(req)) });
    default:
      return json(res, 404, { error: 'not found' });
  }
}

http.createServer((req, res) => {
  handle(req, res).catch((err) => {
    console.error(err);
    json(res, 500, { error: String(err && err.message), code: err && err.code, cause: err && err.cause && String(err.cause.message || err.cause) });
  });
}).listen(port, '127.0.0.1', () => console.log(`openid-client RP on ${base}`));
