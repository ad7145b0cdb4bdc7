// Mocha's spec reporter, plus a machine-readable summary for .ci/run:
// when MOCHA_SUMMARY_FILE is set, the run's counts are written there as JSON at the end.
'use strict';
const fs = require('node:fs');
const { Spec } = require('mocha').reporters;

class SummaryReporter extends Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once('end', () => {
      const file = process.env.MOCHA_SUMMARY_FILE;
      if (!file) return;
      const { passes = 0, failures = 0, pending = 0, tests = 0 } = this.stats;
      fs.writeFileSync(file, JSON.stringify({ passes, failures, pending, tests }));
    });
  }
}

module.exports = SummaryReporter;
