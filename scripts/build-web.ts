import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

/**
 * Builds the web app (web/src → web/dist) with esbuild: ESM with code splitting, so the live page and its
 * TensorFlow.js load only when someone opens it. Hashed assets go under web/dist/app/ (served with a long cache),
 * index.html at web/dist/ names them. `npm start` runs this first, and so do the browser tests, so it must be
 * quick and safe to run from several processes at once: it is skipped when its inputs have not changed, and every
 * file is written under a temporary name and renamed into place, index.html and the stamp last.
 */

export const WEB_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'web');
export const WEB_DIST = path.join(WEB_ROOT, 'dist');
const SOURCE = path.join(WEB_ROOT, 'src');
const STAMP = path.join(WEB_DIST, 'build-stamp');
/** The live engineer's page: built in when present, a notice page in its place until then. */
const LIVE_PAGE = path.join(SOURCE, 'live', 'live-page.ts');

export interface WebBuildResult {
  /** False when the inputs matched the last build and nothing was written. */
  built: boolean;
  /** Bytes of index.html plus the JS and CSS a first visit loads (entry script, its static imports, the CSS). */
  firstLoadBytes: number;
}

export async function buildWebApp(options: { force?: boolean } = {}): Promise<WebBuildResult> {
  const stamp = await inputStamp();
  if (!options.force && existsSync(path.join(WEB_DIST, 'index.html')) && await readText(STAMP) === stamp) {
    return { built: false, firstLoadBytes: Number((await readText(path.join(WEB_DIST, 'first-load-bytes'))) ?? 0) };
  }
  const result = await esbuild.build({
    entryPoints: { main: path.join(SOURCE, 'main.ts'), styles: path.join(SOURCE, 'styles.css') },
    outdir: path.join(WEB_DIST, 'app'),
    publicPath: '/app/',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome110', 'firefox115', 'safari16'],
    minify: true,
    sourcemap: 'linked',
    entryNames: '[name]-[hash]',
    chunkNames: 'chunks/[name]-[hash]',
    assetNames: 'assets/[name]-[hash]',
    metafile: true,
    write: false,
    logLevel: 'silent',
    plugins: [missingLivePage],
  });
  const outputs = Object.entries(result.metafile.outputs);
  const entryOf = (name: string) => {
    const found = outputs.find(([, output]) => output.entryPoint?.endsWith(`src/${name}`));
    if (!found) throw new Error(`web build: no output for ${name}`);
    return found;
  };
  const [mainJs, mainMeta] = entryOf('main.ts');
  const [stylesCss] = entryOf('styles.css');
  const publicUrl = (file: string) => `/app/${path.relative(path.join(WEB_DIST, 'app'), path.resolve(file)).split(path.sep).join('/')}`;
  const template = await readFile(path.join(WEB_ROOT, 'index.html'), 'utf8');
  const html = template
    .replace('%STYLES%', publicUrl(stylesCss))
    .replace('%MAIN%', publicUrl(mainJs));

  const written = new Set<string>();
  for (const file of result.outputFiles) {
    await writeAtomically(file.path, file.contents);
    written.add(path.resolve(file.path));
  }
  await pruneStale(path.join(WEB_DIST, 'app'), written);
  const staticImports = mainMeta.imports.filter((i) => i.kind === 'import-statement').map((i) => i.path);
  const sizeOf = (file: string) => result.metafile.outputs[file]?.bytes ?? 0;
  const firstLoadBytes = Buffer.byteLength(html) + sizeOf(mainJs) + sizeOf(stylesCss)
    + staticImports.reduce((sum, file) => sum + sizeOf(file), 0);
  await writeAtomically(path.join(WEB_DIST, 'first-load-bytes'), String(firstLoadBytes));
  await writeAtomically(path.join(WEB_DIST, 'index.html'), html);
  await writeAtomically(STAMP, stamp);
  return { built: true, firstLoadBytes };
}

/** Until web/src/live/live-page.ts exists, its dynamic import resolves to a page saying the mode is not built. */
const missingLivePage: esbuild.Plugin = {
  name: 'missing-live-page',
  setup(build) {
    build.onResolve({ filter: /\/live\/live-page\.ts$/ }, () => (
      existsSync(LIVE_PAGE) ? undefined : { path: 'live-page-missing', namespace: 'postura' }
    ));
    build.onLoad({ filter: /.*/, namespace: 'postura' }, () => ({
      loader: 'ts',
      contents: `export function mountLivePage(root: HTMLElement): void {
        root.textContent = 'The live mode is not part of this build.';
      }`,
    }));
  },
};

/** A hash of everything the output depends on: the sources, the page template, this script and the lockfile. */
async function inputStamp(): Promise<string> {
  const hash = createHash('sha256');
  const lockfile = path.join(WEB_ROOT, '..', 'package-lock.json');
  const files = [path.join(WEB_ROOT, 'index.html'), fileURLToPath(import.meta.url), ...await listFiles(SOURCE)].sort();
  if (existsSync(lockfile)) files.push(lockfile);
  for (const file of files) {
    hash.update(file);
    hash.update(await readFile(file));
  }
  return hash.digest('hex');
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

async function readText(file: string): Promise<string | null> {
  return readFile(file, 'utf8').catch(() => null);
}

async function writeAtomically(file: string, contents: string | Uint8Array): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temporary = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temporary, contents);
  await rename(temporary, file);
}

/** Removes earlier builds' hashed files (a concurrent build of the same inputs writes the same names). */
async function pruneStale(dir: string, keep: Set<string>): Promise<void> {
  for (const file of await listFiles(dir)) {
    if (!keep.has(path.resolve(file)) && !file.endsWith('.tmp')) await rm(file, { force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = performance.now();
  const { built, firstLoadBytes } = await buildWebApp({ force: process.argv.includes('--force') });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(built
    ? `web app built into ${path.relative(process.cwd(), WEB_DIST)} in ${seconds} s (first load ${(firstLoadBytes / 1024).toFixed(1)} KiB)`
    : 'web app up to date');
}
