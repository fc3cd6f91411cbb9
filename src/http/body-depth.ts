import type { FastifyInstance } from 'fastify';
import { errors } from '../errors/app-error.ts';

/**
 * Deepest nesting a JSON body may have. No client of either family nests more than a few levels (keypoints,
 * metadata, settings); a body nested thousands deep made the recursive serializers on the way to the database
 * overflow the stack (a 500), so it is refused up front.
 */
export const MAX_BODY_DEPTH = 64;

/** Refuses over-deep bodies on every route, before validation; walks with an explicit stack, never recursion. */
export function installBodyDepthLimit(app: FastifyInstance, maxDepth = MAX_BODY_DEPTH): void {
  app.addHook('preValidation', async (request) => {
    if (depthExceeds(request.body, maxDepth)) {
      throw errors.invalidRequest(`Request body is nested too deeply (more than ${maxDepth} levels)`);
    }
  });
}

/**
 * Whether `value` holds objects or arrays nested more than `maxDepth` levels (`{}` and `{"a": 1}` are 1 level,
 * `{"a": [1]}` 2). Walks with an explicit stack, never recursion, and allocates nothing per node: it runs on every
 * body, a live event's included (~80 nodes), at a thousand requests a second.
 */
export function depthExceeds(value: unknown, maxDepth: number): boolean {
  const nodes: object[] = [];
  const depths: number[] = [];
  if (isContainer(value)) {
    nodes.push(value);
    depths.push(1);
  }
  while (nodes.length > 0) {
    const node = nodes.pop()!;
    const depth = depths.pop()!;
    if (depth > maxDepth) return true;
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const inner: unknown = node[i];
        if (isContainer(inner)) {
          nodes.push(inner);
          depths.push(depth + 1);
        }
      }
    } else {
      for (const key in node) {
        const inner: unknown = (node as Record<string, unknown>)[key];
        if (Object.hasOwn(node, key) && isContainer(inner)) {
          nodes.push(inner);
          depths.push(depth + 1);
        }
      }
    }
  }
  return false;
}

function isContainer(value: unknown): value is object {
  return value !== null && typeof value === 'object' && !ArrayBuffer.isView(value);
}
