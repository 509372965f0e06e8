/**
 * Who may use the local API (pure). With api.token set, a request carries it as
 * `Authorization: Bearer TOKEN`, or the cookie a browser got by opening a page once
 * with `?token=TOKEN`. The cookie holds an HMAC of the token, not the token itself.
 * Comparisons are constant-time (both sides hashed first, so lengths leak nothing).
 *
 * Without a token (loopback only) the Host header must name a loopback address, so a
 * web page cannot read the API through a DNS name rebound to 127.0.0.1.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const COOKIE_NAME = 'tonari_session';
/** How long a browser keeps the session cookie: 30 days. */
export const COOKIE_MAX_AGE_S = 30 * 86_400;

export interface AuthRequest {
  /** Request target as sent: path and query. */
  url: string;
  authorization?: string | undefined;
  cookie?: string | undefined;
  host?: string | undefined;
}

export type AuthDecision =
  | { ok: true }
  /** `?token=` was right: set this cookie and redirect to `location` (the same URL without the token). */
  | { ok: 'redirect'; location: string; setCookie: string }
  | { ok: false; status: 401 | 403; error: string };

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Constant-time equality of two strings. */
export function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/** The session cookie's value for a token. */
export function sessionValue(token: string): string {
  return createHmac('sha256', token).update('tonari dashboard session').digest('base64url');
}

export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Whether a Host header names this machine: localhost, 127.x.y.z or [::1], with or without a port. */
export function isLoopbackHostHeader(host: string | undefined): boolean {
  if (!host) return false;
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d+$/, '');
  return name === 'localhost' || name === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}

/**
 * Decides one request. `token` undefined: no token is needed (the API listens on
 * loopback only), but the Host must be a loopback name.
 */
export function authorize(request: AuthRequest, token: string | undefined): AuthDecision {
  if (token === undefined) {
    if (isLoopbackHostHeader(request.host)) return { ok: true };
    return { ok: false, status: 403, error: 'this API answers requests for localhost only (set api.token to open it to the network)' };
  }
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(request.authorization ?? '')?.[1];
  if (bearer !== undefined) {
    return sameSecret(bearer, token) ? { ok: true } : { ok: false, status: 401, error: 'wrong token' };
  }
  const url = new URL(request.url, 'http://api.invalid');
  const given = url.searchParams.get('token');
  if (given !== null) {
    if (!sameSecret(given, token)) return { ok: false, status: 401, error: 'wrong token' };
    url.searchParams.delete('token');
    const setCookie = `${COOKIE_NAME}=${sessionValue(token)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${COOKIE_MAX_AGE_S}`;
    return { ok: 'redirect', location: `${url.pathname}${url.search}`, setCookie };
  }
  const session = cookieValue(request.cookie, COOKIE_NAME);
  if (session !== undefined) {
    return sameSecret(session, sessionValue(token)) ? { ok: true } : { ok: false, status: 401, error: 'the session has expired or the token changed: open the page with ?token= again' };
  }
  return { ok: false, status: 401, error: 'a token is needed: Authorization: Bearer TOKEN, or open the page once with ?token=TOKEN' };
}
