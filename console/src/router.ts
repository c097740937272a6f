// router.ts: hash routes ("#/vms/UUID").  The daemon serves only flat file
// names under /console/, so the route lives in the fragment, which never
// reaches the server; a reload or a bookmark lands on the same page.
import { useEffect, useState } from "preact/hooks";

export function currentRoute(): string {
  return location.hash.replace(/^#/, "") || "/";
}

export function navigate(route: string) {
  if (currentRoute() !== route) location.hash = "#" + route;
}

export function useRoute(): string {
  const [route, setRoute] = useState(currentRoute());
  useEffect(() => {
    const on = () => setRoute(currentRoute());
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return route;
}

// Match "/vms/:uuid" against a route; the parameters or null.
export function match(pattern: string, route: string): Record<string, string> | null {
  const [pathPart] = route.split("?");
  const p = pattern.split("/"), r = pathPart.split("/");
  if (p.length !== r.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i].startsWith(":")) {
      if (!r[i]) return null;
      params[p[i].slice(1)] = decodeURIComponent(r[i]);
    } else if (p[i] !== r[i]) return null;
  }
  return params;
}

export function routeQuery(route: string): URLSearchParams {
  return new URLSearchParams(route.split("?")[1] ?? "");
}
