#!/usr/bin/env node
// Runs the TypeScript sources in a checkout (Node 24 strips types), the compiled ones when installed.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/main.ts', import.meta.url);
const entry = existsSync(source) ? source.href : new URL('../dist/cli/main.js', import.meta.url).href;
const { main } = await import(entry);
process.exitCode = await main(process.argv.slice(2));
