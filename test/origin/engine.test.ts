import { describe, expect, it } from 'vitest';
import { FlowDefinitionSchema, MAX_TEMPLATE_OUTPUT_CHARS } from '../../origin/engine/flow-definition.js';
import { EngineAbortedError, runEngine } from '../../origin/engine/run-engine.js';

const noSleep = (): Promise<void> => Promise.resolve();

describe('runEngine', () => {
  it('echoes the payload when the flow has no definition', async () => {
    expect(await runEngine(null, { a: 1 })).toEqual({ status: 'SUCCEEDED', output: { a: 1 } });
  });

  it('applies set, template and uppercase steps in order', async () => {
    const definition = {
      steps: [
        { type: 'set', path: 'user.role', value: 'admin' },
        { type: 'template', path: 'line', template: '{{user.name}} is {{ user.role }} ({{missing}})' },
        { type: 'uppercase', path: 'line' },
      ],
    };
    const result = await runEngine(definition, { user: { name: 'ada' } });
    expect(result).toEqual({ status: 'SUCCEEDED', output: { user: { name: 'ada', role: 'admin' }, line: 'ADA IS ADMIN ()' } });
  });

  it('wraps a non-object payload so steps can add fields', async () => {
    const result = await runEngine({ steps: [{ type: 'set', path: 'x', value: 1 }] }, 'raw text');
    expect(result).toEqual({ status: 'SUCCEEDED', output: { value: 'raw text', x: 1 } });
  });

  it('stops at a fail step and reports which step failed', async () => {
    const result = await runEngine({ steps: [{ type: 'set', path: 'a', value: 1 }, { type: 'fail', message: 'nope' }, { type: 'set', path: 'b', value: 2 }] }, {});
    expect(result).toEqual({ status: 'FAILED', error: 'step 1 (fail): nope', output: { a: 1 } });
  });

  it('fails a run whose definition is invalid instead of throwing', async () => {
    const result = await runEngine({ steps: [{ type: 'teleport' }] }, {});
    expect(result.status).toBe('FAILED');
  });

  it('does not mutate the payload it was given', async () => {
    const payload = { a: { b: 1 } };
    await runEngine({ steps: [{ type: 'set', path: 'a.b', value: 2 }] }, payload);
    expect(payload).toEqual({ a: { b: 1 } });
  });

  it('waits through delay steps with the injected sleep', async () => {
    const slept: number[] = [];
    const sleep = (ms: number): Promise<void> => {
      slept.push(ms);
      return noSleep();
    };
    await runEngine({ steps: [{ type: 'delay', ms: 250 }] }, {}, { sleep });
    expect(slept).toEqual([250]);
  });

  it('throws EngineAbortedError when aborted during a delay', async () => {
    const controller = new AbortController();
    const run = runEngine({ steps: [{ type: 'delay', ms: 60_000 }] }, {}, { signal: controller.signal });
    controller.abort();
    await expect(run).rejects.toBeInstanceOf(EngineAbortedError);
  });

  describe('tenant isolation', () => {
    it.each(['__proto__.polluted', 'constructor.prototype.polluted', 'a.__proto__.polluted', 'prototype'])(
      'fails a stored definition writing to %j with a clear error, leaving Object.prototype untouched',
      async (path) => {
        const result = await runEngine({ steps: [{ type: 'set', path, value: 'yes' }] }, {});
        expect(result).toMatchObject({ status: 'FAILED', error: expect.stringMatching(/^invalid flow definition: steps\.0\.path: path ".*" segment "(__proto__|constructor|prototype)" is not allowed$/) });
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      },
    );

    it('reads own properties only, so templates cannot reach Object.prototype', async () => {
      const result = await runEngine({ steps: [{ type: 'template', path: 'out', template: '[{{constructor}}][{{toString}}][{{a.hasOwnProperty}}]' }] }, { a: {} });
      expect(result).toEqual({ status: 'SUCCEEDED', output: { a: {}, out: '[][][]' } });
    });

    it('keeps a payload key named __proto__ as plain data', async () => {
      const payload = JSON.parse('{"__proto__": {"polluted": "yes"}, "name": "ada"}') as unknown;
      const result = await runEngine({ steps: [{ type: 'template', path: 'greeting', template: 'hi {{name}}{{polluted}}' }] }, payload);
      expect(result).toMatchObject({ status: 'SUCCEEDED', output: { greeting: 'hi ada' } });
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it('fails a template whose output would exceed the bound instead of building it', async () => {
      const result = await runEngine({ steps: [{ type: 'template', path: 'out', template: '{{big}}{{big}}' }] }, { big: 'x'.repeat(MAX_TEMPLATE_OUTPUT_CHARS / 2 + 1) });
      expect(result).toMatchObject({ status: 'FAILED', error: `step 0 (template): template output exceeds ${MAX_TEMPLATE_OUTPUT_CHARS} characters` });
    });

    it.each([
      [{ steps: [{ type: 'set', path: 'a..b', value: 1 }] }, 'empty segment'],
      [{ steps: [{ type: 'set', path: Array.from({ length: 21 }, () => 'a').join('.'), value: 1 }] }, 'more than 20 segments'],
      [{ steps: [{ type: 'uppercase', path: 'x', extra: true }] }, 'Unrecognized key'],
    ])('refuses %j in the definition schema', (definition, message) => {
      const parsed = FlowDefinitionSchema.safeParse(definition);
      expect(parsed.success).toBe(false);
      expect(JSON.stringify(parsed.error?.issues)).toContain(message);
    });
  });
});
