// Which methods a path answers, from the app's own route list: a known path asked with another method is
// a 405 with Allow (RFC 9110 §15.5.6), not a 404. The catch-all UI route does not make every path known.
interface RouteLike {
  method: string;
  path: string;
}

export type MethodsFor = (path: string) => string[];

export function methodTable(routes: () => readonly RouteLike[]): MethodsFor {
  let compiled: { re: RegExp; methods: Set<string> }[] | undefined;
  const compile = () => {
    const byPath = new Map<string, Set<string>>();
    for (const r of routes()) {
      if (r.path.includes("*") || r.method === "ALL") continue;
      const set = byPath.get(r.path) ?? new Set<string>();
      set.add(r.method.toUpperCase());
      if (r.method.toUpperCase() === "GET") set.add("HEAD");
      byPath.set(r.path, set);
    }
    return [...byPath].map(([path, methods]) => ({
      re: new RegExp(
        `^${path
          .split("/")
          .map((seg) => (seg.startsWith(":") ? "[^/]+" : escapeRe(seg)))
          .join("/")}/?$`,
      ),
      methods,
    }));
  };
  return (path) => {
    compiled ??= compile();
    const methods = new Set<string>();
    for (const route of compiled) if (route.re.test(path)) for (const m of route.methods) methods.add(m);
    return [...methods].sort();
  };
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
