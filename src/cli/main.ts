// Stage: CLI front-end, the entry point. Thin: each command lives in src/cli/commands/ and calls the stages below.
import { Command, CommanderError } from 'commander';
import { ScopeError } from '../core/scope.ts';
import { PortSpecError } from '../core/ports.ts';
import { TargetSpecError } from '../core/targets.ts';
import { StoreError } from '../store/store.ts';
import { ImportError } from '../importers/index.ts';
import { registerDemoCommand } from './commands/demo.ts';
import { fingerprintAfterRun, registerDeviceCommands } from './commands/devices.ts';
import { registerImportCommand } from './commands/import.ts';
import { registerLabCommand } from './commands/lab.ts';
import { registerInventoryCommands } from './commands/inventory.ts';
import { registerScanCommand } from './commands/scan.ts';
import { registerKnowledgeCommands } from './commands/kb.ts';
import { assessAfterRun, registerFindingCommands } from './commands/findings.ts';
import { registerServeCommand } from './commands/serve.ts';
import { registerReportCommand } from './commands/report.ts';
import { registerNetworkCommands } from './commands/networks.ts';
import { CliError } from './errors.ts';
import { openStore } from './store.ts';
import { printable } from '../core/bytes.ts';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('iotscope')
    .description('Measure and reduce the insecurity of IoT devices in the networks you are responsible for.')
    .version('0.1.0')
    .showHelpAfterError();
  registerDemoCommand(program);
  registerScanCommand(program);
  registerLabCommand(program);
  registerImportCommand(program, { openStore, afterImport: async (store, runId, db) => { await fingerprintAfterRun(store, db, runId); await assessAfterRun(store, runId); } });
  registerInventoryCommands(program);
  registerDeviceCommands(program);
  registerKnowledgeCommands(program);
  registerFindingCommands(program);
  registerServeCommand(program);
  registerReportCommand(program);
  registerNetworkCommands(program);
  return program;
}

const USER_ERRORS = [CliError, ScopeError, PortSpecError, TargetSpecError, StoreError, ImportError];

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  program.exitOverride();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    if (USER_ERRORS.some((E) => e instanceof E)) {
      process.stderr.write(`iotscope: ${printable((e as Error).message, 2000)}\n`);
      return 2;
    }
    throw e;
  }
}

if (process.argv[1]?.endsWith("main.ts")) {
  main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
