/**
 * Every plugin page and post answers 403 while the license feature is off. Asked per request,
 * so toggling the license in the host takes effect at once.
 */
import type { RequestHandler } from 'express';
import type { HostLicense } from '../host';

export const LICENSE_FEATURE = 'crm_routing';
export const UNLICENSED_MESSAGE = 'CRM Routing is not enabled in your license';

export function licenseGate(license: HostLicense, deny: RequestHandler): RequestHandler {
  return (req, res, next) => (license.isEnabled(LICENSE_FEATURE) ? next() : deny(req, res, next));
}
