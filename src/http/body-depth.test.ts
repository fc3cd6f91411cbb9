import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { installErrorHandler } from './error-handler.ts';
import { depthExceeds, installBodyDepthLimit } from './body-depth.ts';

/** `levels` objects and arrays nested, alternating, around a number. */
function nested(levels: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = i % 2 ? [value] : { a: value };
  return value;
}

describe('depthExceeds', () => {
  it('counts objects and arrays as levels, scalars as none', () => {
    expect(depthExceeds(1, 0)).toBe(false);
    expect(depthExceeds('x', 0)).toBe(false);
    expect(depthExceeds({}, 0)).toBe(true);
    expect(depthExceeds({}, 1)).toBe(false);
    expect(depthExceeds({ a: 1, b: 'x' }, 1)).toBe(false);
    expect(depthExceeds({ a: [1] }, 1)).toBe(true);
    expect(depthExceeds({ a: [1] }, 2)).toBe(false);
    for (const levels of [1, 4, 5, 64, 65]) {
      expect(depthExceeds(nested(levels), levels)).toBe(false);
      expect(depthExceeds(nested(levels), levels - 1)).toBe(true);
    }
  });

  it('finds the deep branch among shallow siblings, in arrays and objects alike', () => {
    expect(depthExceeds({ a: 1, b: [1, 2, { c: nested(2) }], d: {} }, 5)).toBe(false);
    expect(depthExceeds({ a: 1, b: [1, 2, { c: nested(3) }], d: {} }, 5)).toBe(true);
    expect(depthExceeds([{}, [], [[nested(2)]]], 4)).toBe(true);
    expect(depthExceeds([{}, [], [[nested(2)]]], 5)).toBe(false);
  });

  it('walks 100,000 levels without overflowing the stack', () => {
    expect(depthExceeds(nested(100_000), 64)).toBe(true);
  });
});

describe('the body depth limit on a route', () => {
  it('answers 400 past the limit and lets the limit itself through', async () => {
    const app = Fastify();
    installErrorHandler(app);
    installBodyDepthLimit(app, 8);
    app.post('/echo', async (request) => ({ ok: request.body !== undefined }));
    const ok = await app.inject({ method: 'POST', url: '/echo', payload: nested(8) as object });
    expect(ok.statusCode).toBe(200);
    const deep = await app.inject({ method: 'POST', url: '/echo', payload: nested(9) as object });
    expect(deep.statusCode).toBe(400);
    expect(deep.json().message).toBe('Request body is nested too deeply (more than 8 levels)');
    await app.close();
  });
});
