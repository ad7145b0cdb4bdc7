import type { SetupGuide } from './guide';

export const proprietaryGuide: SetupGuide = {
  slug: 'proprietary',
  title: 'Proprietary CRM and Proprietary CRM I',
  summary: 'Two independently configured connectors for an in-house CRM with an HTTPS JSON API: you describe the sign-in, the lookup request (with placeholders such as {e164}) and where the value sits in the answer.',
  appType: 'Whatever credential your CRM issues for machine access: none, HTTP Basic, a Bearer token, an API key header, or an OAuth2 client (client credentials or password grant).',
  permissions: ['Read access to the records the rules look up, for the credential you enter.'],
  steps: [
    'Ask the CRM\'s developers for: the lookup URL and method, how it authenticates, a sample answer, and which statuses mean "not found".',
    'On CRM > Integration, open Proprietary CRM (or Proprietary CRM I), choose the Authentication and fill in its fields (token URL, client ID and secret, scope for OAuth2).',
    'Enter the Lookup URL with placeholders, e.g. https://crm.example.com/api/contacts?phone={e164}; for POST, a JSON body such as {"phone": "{e164}"}.',
    'Enter the Value path (e.g. data[*].{field}), and a Phone path so every returned number is checked against the caller.',
    'Enter a Sample caller number of a real record so Fetch fields can list the fields, and the Modules rules may name.',
    'Click Test connection, then Save with Enabled: Yes.',
  ],
  values: [
    { field: 'Placeholders', where: '{e164}, {national}, {international}, {digits}, {last7}..{last10}, {field}, {module}, {dtmf}, {did}: escaped where they land.' },
    { field: 'Value path / Phone path', where: 'From a sample answer of your CRM: keys and indexes separated by dots, * for the list of records.' },
  ],
  testChecks: 'Authenticates (gets an OAuth2 token when set), looks up a made-up number and reports the status, a not-JSON answer or a record that should not be there (check the value path).',
  docs: [
    { label: 'RFC 6749: The OAuth 2.0 Authorization Framework (client credentials, section 4.4)', url: 'https://www.rfc-editor.org/rfc/rfc6749#section-4.4' },
  ],
};
