/**
 * The test run's last lines say when the browser tests were skipped (no Chromium), with the
 * command that installs it, so a newcomer whose `npm test` "passed" is told what did not run.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const MOCHA = path.join(__dirname, '..', '..', 'node_modules', 'mocha', 'bin', 'mocha.js');
const REPORTER = path.join(__dirname, 'summary-reporter.cjs');

async function runSpec(body: string): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'crm-reporter-'));
  try {
    const spec = path.join(dir, 'spec.cjs');
    writeFileSync(spec, body);
    const { stdout, stderr } = await run(process.execPath, [MOCHA, '--no-config', '--reporter', REPORTER, spec], { timeout: 20_000 });
    return stdout + stderr;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('The test summary reporter', function () {
  this.timeout(30_000);

  it('ends with a note naming the skipped browser suites and how to install Chromium', async () => {
    const out = await runSpec("globalThis.crmBrowserSuitesSkipped = 2; it('passes', () => {});");
    assert.match(out, /NOTE: 2 browser test suite\(s\) were SKIPPED: Chromium was not found at \/usr\/bin\/chromium/);
    assert.match(out, /apt-get update && apt-get install -y chromium`, or run `bash \.ci\/run`/);
  });

  it('says nothing when every suite ran', async () => {
    assert.doesNotMatch(await runSpec("it('passes', () => {});"), /SKIPPED/);
  });
});
