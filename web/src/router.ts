// Hash routing (`#/studio/new`): the server serves one page at `/`, every route works after a reload or from a
// bookmark, and no server rule has to know the client's paths.

export interface Route {
  name: 'signin' | 'signup' | 'new' | 'history' | 'analysis' | 'compare' | 'live' | 'notfound';
  params: string[];
}

const PATTERNS: [RegExp, Route['name']][] = [
  [/^\/signin$/, 'signin'],
  [/^\/signup$/, 'signup'],
  [/^\/(?:studio(?:\/new)?)?$/, 'new'],
  [/^\/studio\/history$/, 'history'],
  [/^\/studio\/analyses\/([\w-]+)$/, 'analysis'],
  [/^\/studio\/compare\/([\w-]+)\/([\w-]+)$/, 'compare'],
  [/^\/live(?:\/.*)?$/, 'live'],
];

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '') || '/';
  for (const [pattern, name] of PATTERNS) {
    const match = pattern.exec(path);
    if (match) return { name, params: match.slice(1).filter((p): p is string => p !== undefined) };
  }
  return { name: 'notfound', params: [] };
}

export function navigate(path: string): void {
  if (location.hash === `#${path}`) window.dispatchEvent(new HashChangeEvent('hashchange'));
  else location.hash = path;
}
