#!/usr/bin/env node
// The ptp-complete command: the bundled CLI (npm run build writes dist/cli.js).
'use strict';
const path = require('node:path');
const fs = require('node:fs');

const cli = path.join(__dirname, '..', 'dist', 'cli.js');
if (!fs.existsSync(cli)) {
  process.stderr.write(`ptp-complete: ${cli} is missing - run \`npm run build\` in ${path.join(__dirname, '..')}\n`);
  process.exit(1);
}
require(cli);
