import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';

/** One canned answer of a stand-in tool. */
export interface FakeResponse {
  /** Matched against the arguments joined by spaces; `*` matches anything, everything else is literal. */
  args: string;
  stdout?: string;
  stderr?: string;
  exitCode?: number;
}

/** One recorded invocation of a stand-in tool. */
export interface FakeCall {
  tool: string;
  args: string[];
  stdin: string;
}

/** A directory of stand-in executables to put first on PATH, and what they were asked to do. */
export interface FakeTools {
  /** `PATH` with the stand-ins first. */
  path: string;
  /** A scratch directory for the test's own files, removed with the stand-ins. */
  scratch: string;
  calls(): FakeCall[];
  /** The calls as command lines, e.g. `kubectl apply -f -`, for readable assertions. */
  commandLines(): string[];
  remove(): void;
}

/** An exit code no real tool uses here, so an unexpected invocation cannot pass for a canned answer. */
export const UNEXPECTED_CALL_EXIT = 97;

const quote = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;
const casePattern = (glob: string) => glob.split('*').map((part) => (part === '' ? '' : quote(part))).join('*') || "''";

/**
 * Writes bash stand-ins for `kubectl`, `docker`, `git`, `wrangler`, …: no Kubernetes cluster, Docker engine or
 * Cloudflare account exists where these tests run (and the git history is not the test's to choose), so the CLIs talk
 * to these instead. Each records its argv and stdin, then answers with the first response whose `args` match; any
 * other invocation fails with UNEXPECTED_CALL_EXIT. Tools not listed are not faked.
 */
export function fakeTools(tools: Record<string, readonly FakeResponse[]>): FakeTools {
  const root = mkdtempSync(join(tmpdir(), 'canary-deploy-'));
  const bin = join(root, 'bin');
  const scratch = join(root, 'scratch');
  for (const dir of [bin, scratch, join(root, 'stdin'), join(root, 'answers')]) mkdirSync(dir);
  const log = join(root, 'calls.log');
  writeFileSync(log, '');

  for (const [tool, responses] of Object.entries(tools)) {
    const cases = responses.map((response, index) => {
      const answer = join(root, 'answers', `${tool}.${index}`);
      writeFileSync(`${answer}.out`, response.stdout ?? '');
      writeFileSync(`${answer}.err`, response.stderr ?? '');
      return `  ${casePattern(response.args)}) cat ${quote(`${answer}.out`)}; cat ${quote(`${answer}.err`)} >&2; exit ${response.exitCode ?? 0} ;;`;
    });
    const script = [
      '#!/usr/bin/env bash',
      `# Stand-in for ${tool}: no cluster, Docker engine or Cloudflare account exists in the test environment.`,
      'set -u',
      `n="$(wc -l < ${quote(log)})"`,
      `{ printf '%s' ${quote(tool)}; for arg in "$@"; do printf '\\t%s' "$arg"; done; printf '\\n'; } >> ${quote(log)}`,
      `cat > ${quote(join(root, 'stdin'))}/"$n"`,
      'case "$*" in',
      ...cases,
      `  *) echo "stand-in ${tool}: no canned response for: $*" >&2; exit ${UNEXPECTED_CALL_EXIT} ;;`,
      'esac',
      '',
    ].join('\n');
    writeFileSync(join(bin, tool), script);
    chmodSync(join(bin, tool), 0o755);
  }

  const calls = (): FakeCall[] => readFileSync(log, 'utf8').split('\n').filter((line) => line !== '').map((line, index) => {
    const [tool = '', ...args] = line.split('\t');
    return { tool, args, stdin: readFileSync(join(root, 'stdin', String(index)), 'utf8') };
  });
  return {
    path: `${bin}:${process.env.PATH ?? ''}`,
    scratch,
    calls,
    commandLines: () => calls().map((call) => [call.tool, ...call.args].join(' ')),
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** Returns a `fakeTools` that removes every stand-in directory it made after each test. Call inside a describe. */
export function useFakeTools(): typeof fakeTools {
  const made: FakeTools[] = [];
  afterEach(() => {
    for (const tools of made.splice(0)) tools.remove();
  });
  return (tools) => {
    const fake = fakeTools(tools);
    made.push(fake);
    return fake;
  };
}
