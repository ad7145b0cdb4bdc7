/**
 * Checks several vendors make of a request the same way, written once for their fakes: a form
 * POST (token endpoints, logins) and a Bearer token.
 */
import type { RecordedRequest } from '../fake-https';

const FORM = 'application/x-www-form-urlencoded';

export function isFormPost(req: RecordedRequest): boolean {
  return req.method === 'POST' && req.headers['content-type'] === FORM;
}

/**
 * What is wrong with a form whose body must hold exactly `fields` (each once, any order), those
 * named in `fixed` with that value, and whose query string must be empty; undefined when nothing is.
 */
export function formProblem(req: RecordedRequest, fields: readonly string[], fixed: Record<string, string> = {}): string | undefined {
  if ([...req.query.keys()].length > 0) return 'parameters belong in the form body, not the query string';
  if (req.headers['content-type'] !== FORM) return `content-type must be ${FORM}, got ${String(req.headers['content-type'])}`;
  const form = new URLSearchParams(req.body);
  const keys = [...form.keys()].sort().join(',');
  if (keys !== [...fields].sort().join(',')) return `form fields must be exactly ${fields.join(', ')} (got ${keys})`;
  const wrong = Object.entries(fixed).find(([name, value]) => form.get(name) !== value);
  return wrong && `${wrong[0]} must be ${wrong[1]}`;
}

/** The token of `Authorization: Bearer {token}`; undefined when the header is not of that form. */
export function bearerToken(req: RecordedRequest): string | undefined {
  return /^Bearer (\S+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
}
