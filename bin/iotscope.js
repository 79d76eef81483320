#!/usr/bin/env node
// Entry point of the installed command: runs the TypeScript CLI through tsx's loader,
// so the package needs no separate build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
