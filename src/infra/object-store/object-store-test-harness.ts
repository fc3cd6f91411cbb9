import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Fastify from 'fastify';
import S3rver from 's3rver';
import { StudioError } from '../../http/common.schemas.ts';
import { installErrorHandler } from '../../http/error-handler.ts';
import { FsObjectStore } from './fs-object-store.ts';
import { MemoryObjectStore } from './memory-object-store.ts';
import type { ObjectStore } from './object-store.ts';
import { S3ObjectStore } from './s3-object-store.ts';
import { signedFilesRoutes } from './signed-files.routes.ts';
import { UrlSigner } from './url-signer.ts';

/** Test support (not loaded by the app): each adapter with a way to fetch the signed URLs it hands out. */
export interface StoreHarness {
  store: ObjectStore;
  /** Local disk root, for checks that nothing is left in `tmp/` or outside the root. */
  rootDir?: string;
  fetchUrl(url: string, init?: { method?: string; body?: Buffer; headers?: Record<string, string> }): Promise<FetchedUrl>;
  close(): Promise<void>;
}

export interface FetchedUrl {
  status: number;
  body: Buffer;
  header(name: string): string | undefined;
}

export const TEST_SIGNING_SECRET = 'object-store-test-signing-secret-0123456789';

/** API-signed stores (memory, local disk): their URLs are served by the signed-files routes, reached by inject. */
async function withSignedRoutes(makeStore: (signer: UrlSigner) => ObjectStore, extra: { rootDir?: string; cleanup?: () => Promise<void> }):
  Promise<StoreHarness> {
  const signer = new UrlSigner({ secret: TEST_SIGNING_SECRET, baseUrl: 'http://postura.test' });
  const store = makeStore(signer);
  const app = Fastify({ logger: false });
  app.addSchema(StudioError);
  installErrorHandler(app);
  await app.register(signedFilesRoutes, { store, signer, maxUploadBytes: 4 * 1024 * 1024 });
  await app.ready();
  return {
    store,
    ...(extra.rootDir ? { rootDir: extra.rootDir } : {}),
    async fetchUrl(url, init = {}) {
      const parsed = new URL(url);
      const response = await app.inject({
        method: (init.method ?? 'GET') as 'GET',
        url: parsed.pathname + parsed.search,
        ...(init.body ? { payload: init.body } : {}),
        ...(init.headers ? { headers: init.headers } : {}),
      });
      return {
        status: response.statusCode,
        body: response.rawPayload,
        header: (name) => {
          const value = response.headers[name.toLowerCase()];
          return value === undefined ? undefined : String(value);
        },
      };
    },
    async close() {
      await app.close();
      await extra.cleanup?.();
    },
  };
}

export function memoryHarness(): Promise<StoreHarness> {
  return withSignedRoutes((signer) => new MemoryObjectStore(signer), {});
}

export async function fsHarness(): Promise<StoreHarness> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'postura-fs-store-'));
  const rootDir = path.join(dir, 'objects');
  return withSignedRoutes((signer) => new FsObjectStore({ rootDir, signer }), {
    rootDir,
    cleanup: () => fs.rm(dir, { recursive: true, force: true }),
  });
}

/** A real S3 API (s3rver) on 127.0.0.1, port chosen by the OS, data in a temp folder. */
export async function s3Harness(): Promise<StoreHarness> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'postura-s3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir, configureBuckets: [] });
  const { port } = await server.run();
  const store = new S3ObjectStore({
    endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', bucket: 'postura-test',
    accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', forcePathStyle: true,
  });
  await store.createBucketIfMissing();
  return {
    store,
    async fetchUrl(url, init = {}) {
      const response = await fetch(url, {
        method: init.method ?? 'GET',
        ...(init.body ? { body: init.body } : {}),
        ...(init.headers ? { headers: init.headers } : {}),
      });
      return {
        status: response.status,
        body: Buffer.from(await response.arrayBuffer()),
        header: (name) => response.headers.get(name) ?? undefined,
      };
    },
    async close() {
      store.close();
      await server.close();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}
