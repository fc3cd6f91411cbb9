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

export function depthExceeds(value: unknown, maxDepth: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object' || ArrayBuffer.isView(node)) continue;
    if (depth >= maxDepth) return true;
    for (const inner of Object.values(node)) stack.push([inner, depth + 1]);
  }
  return false;
}
