/**
 * What a post may carry. Every post to the plugin is a form (application/x-www-form-urlencoded),
 * except the few its page scripts send as JSON (JSON_POSTS). A body of any other type is refused
 * with 415 before it is parsed, so no handler ever meets a shape it does not expect (a JSON
 * object where a form field's string should be once gave HTTP 500). Handlers then read fields
 * with `formText`, which answers a string whatever the body holds, and never a property the body
 * inherited.
 */
import type { Request, RequestHandler } from 'express';

/** Paths (inside the plugin's app) whose posts are JSON: the rule form's field picker. */
export const JSON_POSTS: readonly RegExp[] = [/^\/integration\/[^/]+\/fields\/?$/];

const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';

export function bodyTypeGate(jsonPaths: readonly RegExp[] = JSON_POSTS): RequestHandler {
  return (req, res, next) => {
    if (req.method !== 'POST') return next();
    const json = jsonPaths.some((path) => path.test(req.path));
    // null: no body at all (handlers read it as an empty form); false: a body of another type.
    if (req.is(json ? JSON_TYPE : FORM) !== false) return next();
    const message = json
      ? 'This address takes JSON (Content-Type: application/json); nothing was changed.'
      : 'This address takes a form post (Content-Type: application/x-www-form-urlencoded); nothing was changed.';
    if (req.accepts(['html', 'json']) === 'json') return void res.status(415).json({ ok: false, message });
    res.status(415).type('text').send(message);
  };
}

/** The posted fields: the parsed body when it is an object, else none (a post without a body). */
export function formFields(req: Request): Record<string, unknown> {
  const body: unknown = req.body;
  return body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
}

/**
 * A form field as one string: the value, the first of a repeated field, '' when absent or of any
 * other shape; cut at `max` characters.
 */
export function formText(fields: Record<string, unknown>, name: string, max = 10_000): string {
  if (!Object.hasOwn(fields, name)) return '';
  const value = fields[name];
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' ? first.slice(0, max) : '';
}
