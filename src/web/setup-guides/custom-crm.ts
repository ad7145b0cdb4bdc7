import type { SetupGuide } from './guide';

export const customCrmGuide: SetupGuide = {
  slug: 'custom-crm',
  title: 'Custom CRM (your own URL)',
  summary: 'A rule whose CRM source is "Custom CRM" asks your own https:// URL once per call and routes on the value it answers. Nothing is set up on CRM > Integration: the URL, method and headers are part of the rule.',
  appType: 'Your own HTTPS endpoint (middleware in front of any CRM or database).',
  permissions: ['Whatever your endpoint checks: send a secret header from the rule (Custom HTTP Headers, marked secret) and verify it there.'],
  steps: [
    'Build an endpoint that takes field_name, caller_id, did and dtmf (query string for GET, a JSON body for POST) and answers within the rule\'s deadline.',
    'Answer text/plain with the value, or JSON {"value": ...}; {"found": false} means the caller is unknown. At most 64 KiB; redirects are not followed.',
    'Serve it over https with a certificate the PBX trusts (a private CA can be given to the host with CRM_CA_FILE).',
    'In CRM > Routing, add a rule with CRM source Custom CRM, enter the URL, HTTP Method POST Yes/No and any headers.',
    'Use Test rule on the rule\'s page with a caller number to see the answer, the matching row and the destination.',
  ],
  values: [
    { field: 'Custom URL', where: 'Your endpoint, https:// only; its own query string is kept.' },
    { field: 'Custom HTTP Headers', where: 'Name: value lines; a header marked secret is stored encrypted.' },
  ],
  testChecks: 'Test rule sends a real request for the number you type and shows the value, the outcome (match, no match, not found, error with its cause) and the time taken.',
  docs: [
    { label: 'RFC 9110: HTTP Semantics', url: 'https://www.rfc-editor.org/rfc/rfc9110' },
  ],
};
