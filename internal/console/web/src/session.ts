// session.ts: the short-lived session credentials Wharf issues at sign-in.
// They live in sessionStorage (this tab only); the long-term secret typed
// into the sign-in form is never stored.
export interface Session {
  AccountId: string;
  Credentials: {
    AccessKeyId: string;
    SecretAccessKey: string;
    SessionToken: string;
    Expiration: string;
  };
}

const key = "wharf.console.session";

export function getSession(): Session | null {
  try {
    const raw = sessionStorage.getItem(key);
    if (!raw) return null;
    const s = JSON.parse(raw) as Session;
    if (!s?.Credentials?.SessionToken) return null;
    return s;
  } catch {
    return null;
  }
}

export function setSession(s: Session) {
  sessionStorage.setItem(key, JSON.stringify({ AccountId: s.AccountId, Credentials: s.Credentials }));
}

export function clearSession() {
  sessionStorage.removeItem(key);
}
