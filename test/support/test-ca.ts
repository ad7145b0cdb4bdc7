/**
 * A throwaway certificate authority for tests: fake CRMs serve HTTPS with a certificate it
 * signs, and the HttpClient trusts it through its `ca` option, as a host with a private CA would.
 * Keys are made per test run (nothing committed).
 */
import forge from 'node-forge';

export interface TestCertificate {
  cert: string;
  key: string;
}

export interface TestCa {
  /** PEM of the CA, to pass as HttpClient's `ca`. */
  caPem: string;
  /** A server certificate for `names` (DNS names or IP addresses), signed by the CA. */
  issue(names: string[], options?: { expired?: boolean }): TestCertificate;
  /** A self-signed certificate no one trusts. */
  selfSigned(names: string[]): TestCertificate;
}

let shared: TestCa | undefined;

/** One CA per test process: RSA key generation is slow, so it is made once. */
export function testCa(): TestCa {
  shared ??= createTestCa();
  return shared;
}

function createTestCa(): TestCa {
  const caKeys = forge.pki.rsa.generateKeyPair(2048);
  const caCert = makeCert(caKeys.publicKey, 'CRM Routing Test CA', [], { isCa: true });
  caCert.sign(caKeys.privateKey, forge.md.sha256.create());
  const leafKeys = forge.pki.rsa.generateKeyPair(2048);

  const leaf = (names: string[], issuer: forge.pki.Certificate | null, signer: forge.pki.rsa.PrivateKey, expired = false) => {
    const cert = makeCert(leafKeys.publicKey, names[0] ?? 'localhost', names, { isCa: false, expired });
    if (issuer) cert.setIssuer(issuer.subject.attributes);
    cert.sign(signer, forge.md.sha256.create());
    return { cert: forge.pki.certificateToPem(cert), key: forge.pki.privateKeyToPem(leafKeys.privateKey) };
  };

  return {
    caPem: forge.pki.certificateToPem(caCert),
    issue: (names, options = {}) => leaf(names, caCert, caKeys.privateKey, options.expired),
    selfSigned: (names) => leaf(names, null, leafKeys.privateKey),
  };
}

let serial = 1;

function makeCert(publicKey: forge.pki.PublicKey, commonName: string, names: string[], options: { isCa: boolean; expired?: boolean }): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = (serial++).toString(16).padStart(2, '0');
  const now = Date.now();
  cert.validity.notBefore = new Date(options.expired ? now - 3 * 86_400_000 : now - 86_400_000);
  cert.validity.notAfter = new Date(options.expired ? now - 86_400_000 : now + 86_400_000);
  const subject = [{ name: 'commonName', value: commonName }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  const extensions: object[] = [{ name: 'basicConstraints', cA: options.isCa, critical: options.isCa }];
  if (options.isCa) extensions.push({ name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true });
  else {
    extensions.push({ name: 'extKeyUsage', serverAuth: true });
    extensions.push({
      name: 'subjectAltName',
      altNames: names.map((n) => (/^[\d.]+$|:/.test(n) ? { type: 7, ip: n } : { type: 2, value: n })),
    });
  }
  cert.setExtensions(extensions);
  return cert;
}
