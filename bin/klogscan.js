#!/usr/bin/env node
// Entry point: the compiled CLI lives in dist/ (npm install runs `prepare`, which builds it).
import { main } from '../dist/src/cli.js';

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
