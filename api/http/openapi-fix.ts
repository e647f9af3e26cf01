// Make the OpenAPI plugin's document valid and true before it is served:
// - Elysia's t.Integer/t.Numeric accept numeric strings (query coercion) and the plugin renders that as
//   anyOf [{type: string, format: integer, default: 0}, {type: integer}], which is invalid (a default of
//   the wrong type) and says a string is fine: the integer member replaces the anyOf.
// - `error` (our validation message) is not JSON Schema: dropped.
// - Request bodies whose every field is optional (refresh, logout: the cookie flow) are not required.
type Json = unknown;

const NUMERIC_STRING = (s: Json) =>
  !!s &&
  typeof s === "object" &&
  (s as Record<string, Json>).type === "string" &&
  ["integer", "numeric", "number"].includes(String((s as Record<string, Json>).format));

function fixSchema(node: Json): Json {
  if (Array.isArray(node)) return node.map(fixSchema);
  if (!node || typeof node !== "object") return node;
  const obj = node as Record<string, Json>;
  const out: Record<string, Json> = {};
  for (const [key, value] of Object.entries(obj)) {
    if (key === "error") continue;
    out[key] = fixSchema(value);
  }
  const anyOf = out.anyOf;
  if (Array.isArray(anyOf) && anyOf.length === 2 && anyOf.some(NUMERIC_STRING)) {
    const numeric = anyOf.find((s) => !NUMERIC_STRING(s)) as Record<string, Json>;
    const { anyOf: _dropped, ...siblings } = out;
    return { ...siblings, ...numeric };
  }
  return out;
}

function allOptional(body: Record<string, Json>): boolean {
  const schema = (body.content as Record<string, { schema?: Record<string, Json> }> | undefined)?.[
    "application/json"
  ]?.schema;
  return (
    !!schema && schema.type === "object" && !(Array.isArray(schema.required) && schema.required.length > 0)
  );
}

export function fixOpenApi<T>(doc: T): T {
  const fixed = fixSchema(doc) as Record<string, Json>;
  const paths = (fixed.paths ?? {}) as Record<string, Record<string, Record<string, Json>>>;
  for (const ops of Object.values(paths))
    for (const op of Object.values(ops)) {
      const body = op.requestBody as Record<string, Json> | undefined;
      if (body && allOptional(body)) body.required = false;
    }
  documentDownloads(paths);
  return fixed as T;
}

/** Analyst SQL answers JSON by default and, by its `format`, CSV, Parquet or an Arrow IPC stream. */
function documentDownloads(paths: Record<string, Record<string, Record<string, Json>>>): void {
  const ok = (
    paths["/api/analytics/sql"]?.post?.responses as Record<string, Record<string, Json>> | undefined
  )?.["200"];
  if (!ok) return;
  const content = (ok.content ?? {}) as Record<string, Json>;
  const binary = { type: "string", format: "binary" };
  content["text/csv"] = { schema: { type: "string", examples: ["exchange,trades\nkraken,1812\n"] } };
  content["application/vnd.apache.parquet"] = { schema: binary };
  content["application/vnd.apache.arrow.stream"] = { schema: binary };
  ok.content = content;
}
