// The one body parser of the API's JSON routes: JSON only, and an empty body reads as {} (so a route
// whose fields are all optional, like refresh and logout with the refresh cookie, can be called without
// one, and a route with required fields says which one is missing). Anything else, and any JSON that is
// not an object, is a JSON 400.
import { BadRequestError } from "../errors.ts";

export async function jsonBody({ request }: { request: Request }): Promise<unknown> {
  const text = await request.text();
  if (text.trim() === "") return {};
  const type = request.headers.get("content-type") ?? "";
  if (!/^application\/([a-z0-9.+-]*\+)?json\s*(;|$)/i.test(type))
    throw new BadRequestError("request body is not valid JSON");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new BadRequestError("request body is not valid JSON");
  }
  // Every body of this API is an object; the validator would take an array for one.
  if (value === null || typeof value !== "object" || Array.isArray(value))
    throw new BadRequestError("request body must be a JSON object");
  return value;
}

/**
 * The route option: jsonBody always answers (a value or an error), so the "json" after it never runs; it
 * is there for the OpenAPI plugin, which documents the request body's media type from the parser names.
 */
export const JSON_BODY = [jsonBody, "json" as const];
