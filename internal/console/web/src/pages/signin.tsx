// The sign-in page: an access key id and its secret, the keys the CLI uses.
// The secret signs one request (CreateSession) and is then forgotten.
import { useRef, useState } from "preact/hooks";
import { ApiError, errorOf, signedFetch } from "../api";
import { navigate } from "../router";
import { setSession, type Session } from "../session";
import { ErrorBox, useTitle } from "../ui";

export function SignIn({ next }: { next: string }) {
  useTitle("Sign in");
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const idRef = useRef<HTMLInputElement>(null);
  const secretRef = useRef<HTMLInputElement>(null);

  const submit = async (e: Event) => {
    e.preventDefault();
    const accessKeyId = idRef.current!.value.trim();
    const secretAccessKey = secretRef.current!.value;
    setError(undefined);
    if (!accessKeyId || !secretAccessKey) {
      setError(new ApiError("ValidationException", "Enter an access key id and its secret access key.", 400));
      return;
    }
    setBusy(true);
    try {
      const resp = await signedFetch({ accessKeyId, secretAccessKey }, "POST", "/console/api/session", {}, {});
      if (!resp.ok) throw await errorOf(resp);
      const s = (await resp.json()) as Session;
      setSession(s);
      secretRef.current!.value = "";
      const to = next.startsWith("/console/") && !next.startsWith("/console/signin") ? next : "/console/data-sets";
      navigate(to, true);
    } catch (err) {
      setError(err);
      secretRef.current!.value = "";
      secretRef.current!.focus();
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="signin" id="main">
      <form class="card signin-card" onSubmit={submit} aria-labelledby="signin-title">
        <h1 id="signin-title">Sign in to Wharf</h1>
        <p class="muted">Use an access key of your account: the same access key id and secret access key the AWS CLI uses.</p>
        {next ? <p class="notice">Your session has ended or you are signed out. Sign in to go on.</p> : null}
        <label class="field">
          <span class="field-label">Access key id</span>
          <input ref={idRef} name="accessKeyId" id="accessKeyId" autoComplete="username" spellcheck={false} autoCapitalize="off" required autoFocus />
        </label>
        <label class="field">
          <span class="field-label">Secret access key</span>
          <input ref={secretRef} name="secretAccessKey" id="secretAccessKey" type="password" autoComplete="off" required />
        </label>
        <ErrorBox error={error} />
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
