// api.ts: every request the console makes to Wharf, signed with SigV4 like
// the AWS SDKs sign them (service dataexchange), and the errors it returns.
import { SignatureV4 } from "@smithy/signature-v4";
import { Sha256 } from "@aws-crypto/sha256-js";
import { navigate, currentLocation } from "./router";
import { clearSession, getSession, type Session } from "./session";

export type Query = Record<string, string | string[] | undefined>;

/** An error as the API returned it: the exception name and its message. */
export class ApiError extends Error {
  constructor(public code: string, message: string, public status: number) {
    super(message);
  }
}

/** Thrown after a dead session sent the user to sign-in; nothing to show. */
export class SignedOut extends Error {}

export interface Keys {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

let region = "us-east-1";
export function setRegion(r: string) {
  region = r;
}

/** escape is RFC 3986 percent-encoding, as SigV4 canonicalizes. */
export function escape(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
}

function queryString(q: Query): [string, Record<string, string | string[]>] {
  const parts: string[] = [];
  const clean: Record<string, string | string[]> = {};
  for (const k of Object.keys(q).sort()) {
    const v = q[k];
    if (v === undefined || v === "" || (Array.isArray(v) && v.length === 0)) continue;
    clean[k] = v;
    for (const one of Array.isArray(v) ? v : [v]) parts.push(escape(k) + "=" + escape(one));
  }
  return [parts.join("&"), clean];
}

/**
 * signedFetch sends one request signed with keys. path is the wire path,
 * its segments already escaped.
 */
export async function signedFetch(keys: Keys, method: string, path: string, query: Query = {}, body?: unknown): Promise<Response> {
  const signer = new SignatureV4({
    service: "dataexchange",
    region,
    credentials: keys,
    sha256: Sha256,
  });
  const [qs, cleanQuery] = queryString(query);
  const text = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string> = { host: location.host };
  if (text !== undefined) headers["content-type"] = "application/json";
  const signed = await signer.sign({
    method,
    protocol: location.protocol,
    hostname: location.hostname,
    port: location.port ? Number(location.port) : undefined,
    path,
    query: cleanQuery,
    headers,
    body: text,
  });
  const send: Record<string, string> = {};
  for (const [k, v] of Object.entries(signed.headers)) {
    if (k.toLowerCase() !== "host") send[k] = v as string;
  }
  return fetch(path + (qs ? "?" + qs : ""), { method, headers: send, body: text, credentials: "omit", cache: "no-store" });
}

/** errorOf reads an AWS error response. */
export async function errorOf(resp: Response): Promise<ApiError> {
  let body: any = {};
  const text = await resp.text();
  try {
    body = JSON.parse(text);
  } catch {
    body = { Message: text };
  }
  let code = resp.headers.get("x-amzn-errortype") || body.__type || body.code || "";
  code = String(code).split(":")[0];
  if (code.includes("#")) code = code.slice(code.lastIndexOf("#") + 1);
  const msg = body.Message ?? body.message ?? "";
  return new ApiError(code || `HTTP ${resp.status}`, msg || resp.statusText, resp.status);
}

/** The exceptions that mean the session is over: sign in again. */
const deadSession = new Set(["ExpiredTokenException", "UnrecognizedClientException"]);

function toSignIn(): never {
  clearSession();
  const here = currentLocation();
  if (!location.pathname.startsWith("/console/signin")) {
    navigate("/console/signin?next=" + encodeURIComponent(here), true);
  }
  throw new SignedOut("signed out");
}

/** call runs one API operation with the session's credentials. */
export async function call<T = any>(method: string, path: string, query: Query = {}, body?: unknown): Promise<T> {
  const s = getSession();
  // The server decides whether the session still lives (no clock skew
  // between this browser and Wharf can keep a dead session or end a live one).
  if (!s) toSignIn();
  const resp = await signedFetch(sessionKeys(s!), method, path, query, body);
  if (!resp.ok) {
    const err = await errorOf(resp);
    if (resp.status === 403 && deadSession.has(err.code)) toSignIn();
    throw err;
  }
  if (resp.status === 204 || resp.status === 202) return undefined as T;
  const text = await resp.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

export function sessionKeys(s: Session): Keys {
  return {
    accessKeyId: s.Credentials.AccessKeyId,
    secretAccessKey: s.Credentials.SecretAccessKey,
    sessionToken: s.Credentials.SessionToken,
  };
}

/** listAll follows NextToken through every page of a listing. */
export async function listAll<T>(path: string, member: string, query: Query = {}, limit = 2000): Promise<T[]> {
  const out: T[] = [];
  let token: string | undefined;
  do {
    const page: any = await call("GET", path, { ...query, maxResults: "200", nextToken: token });
    out.push(...(page[member] ?? []));
    token = page.NextToken;
  } while (token && out.length < limit);
  return out;
}

/** p builds a wire path from segments, escaping each. */
export function p(...segments: string[]): string {
  return "/" + segments.map(escape).join("/");
}
