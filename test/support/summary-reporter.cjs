// Mocha's spec reporter, plus a machine-readable summary for .ci/run:
// when MOCHA_SUMMARY_FILE is set, the run's counts are written there as JSON at the end.
'use strict';
const fs = require('node:fs');
const { Spec } = require('mocha').reporters;

class SummaryReporter extends Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once('end', () => {
      const skipped = globalThis.crmBrowserSuitesSkipped ?? 0;
      if (skipped > 0) {
        console.warn(`\n  NOTE: ${skipped} browser test suite(s) were SKIPPED: Chromium was not found at /usr/bin/chromium (or CHROMIUM_PATH).`);
        console.warn('  Install it with `apt-get update && apt-get install -y chromium`, or run `bash .ci/run`, which installs what is missing.\n');
      }
      const file = process.env.MOCHA_SUMMARY_FILE;
      if (!file) return;
      const { passes = 0, failures = 0, pending = 0, tests = 0 } = this.stats;
      fs.writeFileSync(file, JSON.stringify({ passes, failures, pending, tests }));
    });
  }
}

module.exports = SummaryReporter;
