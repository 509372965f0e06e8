import { spawnSync } from 'node:child_process';

/**
 * Whether a Debian tool a suite needs is installed. When it is missing the
 * suite must say so loudly: under CI=true that is a failure (the CI script
 * installs every tool), elsewhere a skip with the apt-get line to fix it.
 */
export function toolAvailable(command: string, args: string[] = ['--help']): boolean {
  const res = spawnSync(command, args, { stdio: 'ignore', timeout: 10_000 });
  return res.error === undefined;
}

export function pythonModuleAvailable(module: string): boolean {
  const res = spawnSync('/usr/bin/python3', ['-c', `import ${module}`], { stdio: 'ignore', timeout: 20_000 });
  return res.error === undefined && res.status === 0;
}

interface TapLike {
  fail(message: string): unknown;
  pass(message: string, extra: { skip: string }): unknown;
}

/** Returns true if the suite can run; otherwise fails (CI) or skips loudly. */
export function requireTool(t: TapLike, available: boolean, what: string, aptPackage: string): boolean {
  if (available) return true;
  const message = `MISSING TOOL: ${what} is not installed (apt-get install ${aptPackage}); this suite did not run`;
  process.stderr.write(`\n*** ${message} ***\n\n`);
  if (process.env.CI === 'true') t.fail(message);
  else t.pass(message, { skip: message });
  return false;
}
