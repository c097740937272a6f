// session.ts: the login session of this browser tab.
//
// The bearer token lives in sessionStorage: it survives a reload but not
// the tab, and no other site or tab reads it.  When the API says the
// session is over (401), expired() forgets it and goes to the login page
// with the route the user was on, which the login returns to.
import { navigate, currentRoute } from "./router";

const KEY = "ics.session";

export interface Stored { token: string; user: string; stage: string }

type Listener = () => void;
const listeners = new Set<Listener>();

export const session = {
  get(): Stored | null {
    try {
      return JSON.parse(sessionStorage.getItem(KEY) ?? "null") as Stored | null;
    } catch {
      return null;
    }
  },
  token(): string | null {
    return this.get()?.token ?? null;
  },
  set(s: Stored | null) {
    if (s) sessionStorage.setItem(KEY, JSON.stringify(s));
    else sessionStorage.removeItem(KEY);
    listeners.forEach((l) => l());
  },
  expired() {
    const back = currentRoute();
    this.set(null);
    navigate(back.startsWith("/login") ? "/login" : "/login?next=" + encodeURIComponent(back));
  },
  subscribe(l: Listener): () => void {
    listeners.add(l);
    return () => listeners.delete(l);
  },
};
