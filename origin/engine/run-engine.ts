import { FlowDefinitionSchema, MAX_TEMPLATE_OUTPUT_CHARS, describeDefinitionError, pathProblem } from './flow-definition.js';
import type { Step } from './flow-definition.js';

/** The outcome of one flow execution; a `fail` step is a run outcome, not an infrastructure error. */
export type EngineResult =
  | { status: 'SUCCEEDED'; output: unknown }
  | { status: 'FAILED'; error: string; output: unknown };

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// Reads see own properties only: `{{constructor}}` or `{{toString}}` must find nothing, not Object.prototype's.
function getPath(root: Json, path: string): Json | undefined {
  let node: Json | undefined = root;
  for (const key of path.split('.')) {
    if (!isObject(node) || !Object.hasOwn(node, key)) return undefined;
    node = node[key];
  }
  return node;
}

// Defines an own data property, whatever the key: plain assignment to "__proto__" would set the prototype instead.
function defineOwn(node: JsonObject, key: string, value: Json): void {
  Object.defineProperty(node, key, { value, writable: true, enumerable: true, configurable: true });
}

// Writes create intermediate objects; a non-object root becomes `{ value: root }` so steps can still add fields.
// The schema refuses prototype paths already; checking again here keeps this function safe on its own.
function setPath(root: Json, path: string, value: Json): Json {
  const problem = pathProblem(path);
  if (problem !== null) throw new Error(`path "${path}" ${problem}`);
  const base: JsonObject = isObject(root) ? root : { value: root };
  const keys = path.split('.');
  let node = base;
  keys.forEach((key, i) => {
    if (i === keys.length - 1) {
      defineOwn(node, key, value);
      return;
    }
    const next = Object.hasOwn(node, key) ? node[key] : undefined;
    const child: JsonObject = isObject(next) ? next : {};
    defineOwn(node, key, child);
    node = child;
  });
  return base;
}

function render(template: string, data: Json): string {
  let length = template.length;
  return template.replace(/\{\{\s*([\w.-]+)\s*\}\}/g, (match, key: string) => {
    const value = getPath(data, key);
    const text = value === undefined || value === null ? '' : typeof value === 'string' ? value : JSON.stringify(value);
    length += text.length - match.length;
    if (length > MAX_TEMPLATE_OUTPUT_CHARS) throw new Error(`template output exceeds ${MAX_TEMPLATE_OUTPUT_CHARS} characters`);
    return text;
  });
}

function uppercase(value: Json | undefined): Json {
  if (typeof value === 'string') return value.toUpperCase();
  return value ?? null;
}

async function applyStep(data: Json, step: Step, sleep: (ms: number) => Promise<void>): Promise<Json> {
  switch (step.type) {
    case 'set':
      return setPath(data, step.path, step.value as Json);
    case 'template':
      return setPath(data, step.path, render(step.template, data));
    case 'uppercase':
      return setPath(data, step.path, uppercase(getPath(data, step.path)));
    case 'delay':
      await sleep(step.ms);
      return data;
    case 'fail':
      throw new StepFailure(step.message);
  }
}

class StepFailure extends Error {}

export interface RunEngineOptions {
  /** Aborting interrupts a `delay` step; the engine then throws instead of returning a result. */
  signal?: AbortSignal;
  /** Injected so tests can run `delay` steps without waiting. */
  sleep?: (ms: number) => Promise<void>;
}

/** Thrown when the run was interrupted (shutdown), so the caller hands the job back instead of recording a result. */
export class EngineAbortedError extends Error {
  constructor() {
    super('engine run aborted');
    this.name = 'EngineAbortedError';
  }
}

function abortableSleep(signal: AbortSignal | undefined): (ms: number) => Promise<void> {
  return (ms) =>
    new Promise((resolve, reject) => {
      if (signal?.aborted === true) return reject(new EngineAbortedError());
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(new EngineAbortedError());
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
}

/** Executes a flow definition against a webhook payload; no definition echoes the payload. Throws only when aborted. */
export async function runEngine(definition: unknown, payload: unknown, options: RunEngineOptions = {}): Promise<EngineResult> {
  let data = structuredClone(payload ?? null) as Json;
  if (definition === null || definition === undefined) return { status: 'SUCCEEDED', output: data };
  const parsed = FlowDefinitionSchema.safeParse(definition);
  if (!parsed.success) {
    return { status: 'FAILED', error: `invalid flow definition: ${describeDefinitionError(parsed.error)}`, output: data };
  }
  const sleep = options.sleep ?? abortableSleep(options.signal);
  for (const [index, step] of parsed.data.steps.entries()) {
    try {
      data = await applyStep(data, step, sleep);
    } catch (error) {
      if (error instanceof EngineAbortedError || options.signal?.aborted === true) throw new EngineAbortedError();
      const message = error instanceof Error ? error.message : String(error);
      return { status: 'FAILED', error: `step ${index} (${step.type}): ${message}`, output: data };
    }
  }
  return { status: 'SUCCEEDED', output: data };
}
