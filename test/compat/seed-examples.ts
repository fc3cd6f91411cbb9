import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The examples of the two documents existing clients were written against (../shared/seeds), read as they are
 * written: fenced HTTP requests, JavaScript FormData uploads and curl commands. The documents are research material
 * kept outside the repository; a suite that needs them skips, saying so, when they are absent.
 */
export const SEEDS_DIR = path.resolve(import.meta.dirname, '../../../shared/seeds');
export const STUDIO_SEED = '000_581d63a270a8e814.txt';
export const LIVE_SEED = '003_fb115ece0614781f.txt';

export function readSeed(name: string): string | null {
  const file = path.join(SEEDS_DIR, name);
  return existsSync(file) ? readFileSync(file, 'utf8') : null;
}

export interface FencedBlock {
  lang: string;
  /** The nearest heading above the block (`Register User`). */
  heading: string;
  code: string;
}

export function fencedBlocks(text: string): FencedBlock[] {
  const blocks: FencedBlock[] = [];
  let heading = '';
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/^> ?/, '');
    const title = /^#+\s+(.*)$/.exec(line);
    if (title) heading = title[1]!.replace(/[^\x20-\x7e]/g, '').trim();
    const open = /^```(\w*)\s*$/.exec(line);
    if (!open) continue;
    const code: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!.replace(/^> ?/, '')); i++) code.push(lines[i]!.replace(/^> ?/, ''));
    blocks.push({ lang: open[1] ?? '', heading, code: code.join('\n') });
  }
  return blocks;
}

export interface HttpExample {
  heading: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  /** The body exactly as written, or null. */
  body: string | null;
}

/** The ```http blocks: a request line, headers, a blank line and a body. */
export function httpExamples(text: string): HttpExample[] {
  return fencedBlocks(text).filter((b) => b.lang === 'http').map((block) => {
    const [head, ...rest] = block.code.split(/\n\s*\n/);
    const [requestLine, ...headerLines] = head!.trim().split('\n');
    const [method, target] = requestLine!.trim().split(/\s+/);
    const headers: Record<string, string> = {};
    for (const line of headerLines) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const body = rest.join('\n\n').trim();
    return { heading: block.heading, method: method!, path: target!, headers, body: body === '' ? null : body };
  });
}

export interface FormDataExample {
  heading: string;
  /** In the order the example appends them: a file (a variable) or a literal string value. */
  parts: Array<{ name: string; file: string } | { name: string; value: string }>;
}

/** The ```javascript blocks that build a FormData: each `formData.append(name, x)` in order. */
export function formDataExamples(text: string): FormDataExample[] {
  const examples: FormDataExample[] = [];
  let heading = '';
  for (const block of fencedBlocks(text)) {
    if (block.lang !== 'javascript' || !block.code.includes('FormData')) continue;
    heading = block.heading;
    const parts: FormDataExample['parts'] = [];
    for (const match of block.code.matchAll(/formData\.append\(\s*'([^']+)'\s*,\s*([^)]+?)\s*\)/g)) {
      const [, name, argument] = match;
      const literal = /^'([^']*)'$/.exec(argument!);
      parts.push(literal ? { name: name!, value: literal[1]! } : { name: name!, file: argument! });
    }
    examples.push({ heading, parts });
  }
  return examples;
}

export interface CurlCommand {
  method: string;
  url: string;
  headers: Record<string, string>;
  /** `-d` body exactly as written. */
  data: string | null;
  /** `-F name=value` or `-F name=@file`, in order. */
  form: Array<{ name: string; value: string }>;
  /** The shell variable the output is assigned to (`TOKEN=$(curl ...)`), if any. */
  assignsTo: string | null;
}

/** Every curl command of the ```bash blocks (and bare blocks), continuation lines joined. */
export function curlCommands(text: string): CurlCommand[] {
  const commands: CurlCommand[] = [];
  for (const block of fencedBlocks(text)) {
    if (block.lang !== 'bash' && block.lang !== '') continue;
    const joined = block.code.replace(/\\\n\s*/g, ' ').split('\n');
    // A quoted body may span lines ('{ ... }'): glue lines until the quotes balance.
    const statements: string[] = [];
    for (const line of joined) {
      const last = statements.at(-1);
      if (last !== undefined && (last.split("'").length - 1) % 2 === 1) statements[statements.length - 1] = `${last}\n${line}`;
      else statements.push(line);
    }
    for (const statement of statements) {
      const at = statement.indexOf('curl ');
      if (at < 0 || statement.trimStart().startsWith('#')) continue;
      const assign = /^\s*([A-Z_]+)=\$\(/.exec(statement);
      commands.push(parseCurl(statement.slice(at + 5).replace(/\)\s*$/, '').replace(/\|.*$/s, ''), assign?.[1] ?? null));
    }
  }
  return commands;
}

function parseCurl(args: string, assignsTo: string | null): CurlCommand {
  const tokens = [...args.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
  const command: CurlCommand = { method: '', url: '', headers: {}, data: null, form: [], assignsTo };
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token === '-X') command.method = tokens[++i]!;
    else if (token === '-H') {
      const header = tokens[++i]!;
      const colon = header.indexOf(':');
      command.headers[header.slice(0, colon).trim().toLowerCase()] = header.slice(colon + 1).trim();
    } else if (token === '-d') command.data = tokens[++i]!;
    else if (token === '-F') {
      const field = tokens[++i]!;
      const eq = field.indexOf('=');
      command.form.push({ name: field.slice(0, eq), value: field.slice(eq + 1) });
    } else if (token === '-s') continue;
    else if (!token.startsWith('-')) command.url = token;
  }
  if (!command.method) command.method = command.data !== null || command.form.length > 0 ? 'POST' : 'GET';
  return command;
}

/** The path and query of an example URL (`http://localhost:8000/api/x/` → `/api/x/`), with shell variables filled in. */
export function examplePath(url: string, variables: Record<string, string> = {}): string {
  const filled = url.replace(/\$([A-Z_]+)/g, (whole, name: string) => variables[name] ?? whole);
  return filled.startsWith('/') ? filled : new URL(filled).pathname + new URL(filled).search;
}
