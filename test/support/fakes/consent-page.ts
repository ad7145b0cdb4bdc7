/**
 * The vendor's side of the OAuth authorization code flow, written once for the fakes of every CRM
 * with a "Connect" button: the consent page (an HTML page with Allow and Deny, as a person sees
 * it in Chromium), the decision that sends the browser back to the registered redirect URI with
 * `code` and `state` (or `error=access_denied`), and the code's redemption at the token endpoint,
 * which checks what real vendors check: single use, short-lived, the same client and redirect
 * URI, and the PKCE verifier (S256) when a challenge was sent (AuthorizationCodes, shared with
 * the fakes whose consent is approved without a page).
 *
 * A fake calls `authorize` from its consent path, `decide` from `DECISION_PATH`, and `redeem`
 * from its token endpoint; requests the checks refuse go into the fake's `violations`.
 */
import { randomBytes } from 'node:crypto';
import type { FakeReply, RecordedRequest } from '../fake-https';
import { AuthorizationCodes, redirectBack } from './authorization-codes';

export const DECISION_PATH = '/fake-consent/decision';

export interface AuthorizationRequest {
  clientId: string;
  redirectUri: string;
  state: string;
  scope: string;
  codeChallenge?: string;
  /** Every query parameter of the consent request. */
  query: Record<string, string>;
}

export interface ConsentOptions {
  /** Shown on the page: "Zendesk", "Pipedrive". */
  vendor: string;
  /** The registered OAuth client. */
  clientId: string;
  /** Redirect URIs registered for it: exactly one of these must come back. */
  redirectUris: string[];
  /** Whether the vendor takes PKCE (S256). Without, a challenge is a violation. */
  pkce: boolean;
  /** Whether the vendor requires redirect_uri on the consent request (Bullhorn: optional). Default true. */
  redirectUriRequired?: boolean;
  /** Whether response_type=code is part of the documented request (Pipedrive documents none). Default true. */
  responseType?: boolean;
  /** Extra parameters sent back with the code (Zoho's location...). */
  extraCallbackParams?: Record<string, string>;
}

export class ConsentPages {
  /** Consent requests as they arrived, in order. */
  readonly requests: AuthorizationRequest[] = [];
  /** Codes issued so far. */
  codesIssued = 0;
  private readonly pending = new Map<string, AuthorizationRequest>();
  private readonly codes = new AuthorizationCodes();

  /** `violations`: the fake's own list, where refused requests are written. */
  constructor(readonly options: ConsentOptions, private readonly violations: string[]) {}

  /** GET of the consent page: checks the request, then shows Allow / Deny. */
  authorize(req: RecordedRequest, checkScope: (scope: string) => string | undefined = () => undefined): FakeReply {
    const q = Object.fromEntries(req.query.entries());
    const { options } = this;
    const problem =
      req.method !== 'GET' ? 'the consent page is opened with GET'
      : (options.responseType ?? true) && q.response_type !== 'code' ? `response_type must be code (got ${q.response_type})`
      : !(options.responseType ?? true) && q.response_type !== undefined && q.response_type !== 'code' ? `response_type ${q.response_type} is not supported`
      : q.client_id !== options.clientId ? `unknown client_id ${q.client_id}`
      : (options.redirectUriRequired ?? true) && !q.redirect_uri ? 'redirect_uri is missing'
      : q.redirect_uri && !options.redirectUris.includes(q.redirect_uri) ? `redirect_uri ${q.redirect_uri} is not registered for the client`
      : !q.state || q.state.length < 16 ? 'state is missing or too short to be unguessable'
      : !options.pkce && (q.code_challenge || q.code_challenge_method) ? `${options.vendor} does not take PKCE`
      : options.pkce && q.code_challenge && q.code_challenge_method !== 'S256' ? 'code_challenge_method must be S256'
      : options.pkce && q.code_challenge && !/^[A-Za-z0-9_-]{43}$/.test(q.code_challenge) ? 'code_challenge must be a base64url SHA-256'
      : checkScope(q.scope ?? '');
    if (problem) {
      this.violations.push(`consent page: ${problem}`);
      // Vendors show an error page and do not redirect when client or redirect URI are wrong.
      return { status: 400, headers: { 'content-type': 'text/html' }, body: `<html><body><h1>${options.vendor}: invalid request</h1><p>${escape(problem)}</p></body></html>` };
    }
    const request: AuthorizationRequest = {
      clientId: q.client_id!, redirectUri: q.redirect_uri ?? options.redirectUris[0]!, state: q.state!, scope: q.scope ?? '', query: q,
      ...(q.code_challenge ? { codeChallenge: q.code_challenge } : {}),
    };
    this.requests.push(request);
    const id = randomBytes(12).toString('hex');
    this.pending.set(id, request);
    const button = (decision: string, label: string) =>
      `<form method="post" action="${DECISION_PATH}"><input type="hidden" name="request" value="${id}"><input type="hidden" name="decision" value="${decision}"><button type="submit">${label}</button></form>`;
    return {
      headers: { 'content-type': 'text/html; charset=utf-8' },
      body: `<!doctype html><html><head><title>${options.vendor}: allow access?</title><link rel="icon" href="data:,"></head><body><h1>Allow CRM Routing to read your ${options.vendor} data?</h1><p>Scope: ${escape(request.scope)}</p>${button('allow', 'Allow')}${button('deny', 'Deny')}</body></html>`,
    };
  }

  /** POST of Allow or Deny: back to the redirect URI with a code, or with access_denied. */
  decide(req: RecordedRequest): FakeReply {
    const form = new URLSearchParams(req.body);
    const request = this.pending.get(form.get('request') ?? '');
    if (!request) {
      this.violations.push('consent decision for an unknown request');
      return { status: 400, body: 'unknown consent request' };
    }
    this.pending.delete(form.get('request')!);
    if (form.get('decision') !== 'allow') {
      const denied = { error: 'access_denied', error_description: 'The end-user or authorization server denied the request.', state: request.state };
      return { status: 302, headers: { location: redirectBack(request.redirectUri, denied) } };
    }
    const code = this.codes.issue({
      clientId: request.clientId, redirectUri: request.query.redirect_uri ?? '', scopes: request.scope.split(/[ ,]+/).filter(Boolean),
      ...(request.codeChallenge ? { codeChallenge: request.codeChallenge } : {}),
    });
    this.codesIssued += 1;
    return { status: 302, headers: { location: redirectBack(request.redirectUri, { code, ...this.options.extraCallbackParams, state: request.state }) } };
  }

  /**
   * A code presented at the token endpoint: its consent request's scopes, or the OAuth error the
   * vendor answers (invalid_grant for a code spent or issued to another client or redirect URI,
   * or with a wrong PKCE verifier).
   */
  redeem(code: string, presented: { clientId: string; redirectUri?: string; codeVerifier?: string }): { scopes: string[] } | { error: string; error_description: string } {
    const form = new URLSearchParams({ client_id: presented.clientId, redirect_uri: presented.redirectUri ?? '', ...(presented.codeVerifier ? { code_verifier: presented.codeVerifier } : {}) });
    const grant = this.codes.redeem(code, form);
    return typeof grant === 'string' ? { error: 'invalid_grant', error_description: grant } : { scopes: grant.scopes };
  }
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
