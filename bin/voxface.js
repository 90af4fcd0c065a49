#!/usr/bin/env node
// The `voxface` command: runs the compiled CLI (built by `npm install` through the prepare script).
import { main } from '../dist/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(`voxface: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(70);
  },
);
