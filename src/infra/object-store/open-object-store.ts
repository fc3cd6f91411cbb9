import { createHmac } from 'node:crypto';
import type { Config } from '../../config/config.ts';
import { FsObjectStore } from './fs-object-store.ts';
import type { ObjectStore } from './object-store.ts';
import { S3ObjectStore } from './s3-object-store.ts';
import { UrlSigner } from './url-signer.ts';

export interface OpenedObjectStore {
  store: ObjectStore;
  /** Present for the disk store, whose signed URLs the API itself serves under /files. */
  signer: UrlSigner | null;
}

/**
 * The disk store's URL signing key is derived from the server secret with its own label, so one secret to manage
 * gives two keys that cannot be used for each other's purpose.
 */
export function openObjectStore(config: Pick<Config, 'storage' | 'publicUrl'>, serverSecret: string): OpenedObjectStore {
  if (config.storage.driver === 's3') {
    const { endpoint, ...rest } = config.storage;
    return { store: new S3ObjectStore({ ...rest, ...(endpoint ? { endpoint } : {}) }), signer: null };
  }
  const signer = new UrlSigner({
    secret: createHmac('sha256', serverSecret).update('postura:signed-file-urls').digest(),
    baseUrl: config.publicUrl,
  });
  return { store: new FsObjectStore({ rootDir: config.storage.root, signer }), signer };
}
