// login.tsx: the login page -- user name and password, then the second
// factor when the account has one (stage "second_factor": a TOTP or
// recovery code) or must enrol one (stage "enrol": QR code, first code,
// recovery codes).  The manager answers every refusal the same way
// (unknown user, wrong password or code, locked or disabled account), so
// the page shows its message as it is.  Afterwards the user returns to
// the page they were on (?next=).
import { useState } from "preact/hooks";
import { api, ApiError, type Session } from "../api";
import { navigate, routeQuery } from "../router";
import { session } from "../session";
import { ErrorBox } from "../ui";

export function LoginPage({ route }: { route: string }) {
  const next = routeQuery(route).get("next") || "/";
  const [stage, setStage] = useState<"password" | "second_factor" | "enrol" | "recovery">("password");
  const [user, setUser] = useState("");
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  const [pending, setPending] = useState<Session | null>(null);
  const [enrolment, setEnrolment] = useState<{ qr_svg: string; secret: string } | null>(null);
  const [codes, setCodes] = useState<string[]>([]);

  const done = (s: Session, token: string) => {
    session.set({ token, user: s.user, stage: "full" });
    navigate(next.startsWith("/login") ? "/" : next);
  };
  const explain = (e: unknown) => {
    const err = e as ApiError;
    if (err.status === 429) setError(new Error("Too many attempts: " + err.message));
    else setError(err);
  };

  const onPassword = async (ev: Event) => {
    ev.preventDefault();
    const f = new FormData(ev.target as HTMLFormElement);
    const name = String(f.get("username")), pw = String(f.get("password"));
    setBusy(true); setError(null);
    try {
      const s = await api.login(name, pw);
      setUser(name);
      if (s.stage === "full") return done(s, s.token!);
      // keep the partial session to prove or enrol the second factor
      session.set({ token: s.token!, user: s.user, stage: s.stage });
      setPending(s);
      if (s.stage === "enrol") setEnrolment(await api.totpEnrol(s.user));
      setStage(s.stage);
    } catch (e) { explain(e); } finally { setBusy(false); }
  };

  const onCode = async (ev: Event) => {
    ev.preventDefault();
    const code = String(new FormData(ev.target as HTMLFormElement).get("code")).trim();
    const token = session.token()!;
    setBusy(true); setError(null);
    try {
      if (stage === "enrol") {
        const r = await api.totpConfirm(user || pending!.user, code);
        session.set({ token, user: pending!.user, stage: "partial" });
        setCodes(r.recovery_codes);
        setStage("recovery");
      } else {
        const s = await api.secondFactor(code);
        done(s, token);
      }
    } catch (e) {
      if ((e as ApiError).status === 401) {
        // the waiting session ended (locked out, or expired): start over
        session.set(null);
        setStage("password");
      }
      explain(e);
    } finally { setBusy(false); }
  };

  return (
    <main class="page container" id="main">
      <article style="max-width:28rem;margin:3rem auto">
        <header><h1>ICS console</h1></header>
        <ErrorBox error={error} />
        {stage === "password" && (
          <form onSubmit={onPassword} aria-label="Log in">
            <label>User name<input name="username" autoComplete="username" required autoFocus /></label>
            <label>Password<input name="password" type="password" autoComplete="current-password" required /></label>
            <button type="submit" aria-busy={busy} disabled={busy}>Log in</button>
          </form>
        )}
        {(stage === "second_factor" || stage === "enrol") && (
          <form onSubmit={onCode} aria-label="Second factor">
            {stage === "enrol" ? (
              <>
                <p>Your account must use a second factor. Scan this code with an authenticator app, then enter the code it shows.</p>
                {enrolment && <img alt={"QR code of the secret " + enrolment.secret} src={"data:image/svg+xml;base64," + btoa(enrolment.qr_svg)} width={200} height={200} />}
                {enrolment && <p><small>Secret: <code>{enrolment.secret}</code></small></p>}
              </>
            ) : <p>Enter the code of your authenticator app, or a recovery code.</p>}
            <label>Code<input name="code" inputMode="numeric" autoComplete="one-time-code" required autoFocus /></label>
            <button type="submit" aria-busy={busy} disabled={busy}>Verify</button>
          </form>
        )}
        {stage === "recovery" && (
          <section aria-label="Recovery codes">
            <p>Your second factor is active. Keep these recovery codes somewhere safe; each works once and they are shown only now.</p>
            <ul>{codes.map((c) => <li key={c}><code>{c}</code></li>)}</ul>
            <button onClick={() => done(pending!, session.token()!)}>Continue</button>
          </section>
        )}
      </article>
    </main>
  );
}
