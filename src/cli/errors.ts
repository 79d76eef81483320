// Stage: CLI front-end. An error meant for the user: printed as one line, no stack, exit code 2.
export class CliError extends Error {
  override name = 'CliError';
}
