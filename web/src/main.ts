// Entry point: restores the session from the cookie, then renders the page of the current hash route. Studio
// pages are in this bundle; the live page and its TensorFlow.js are a separate chunk loaded on #/live only.
import { api, type User } from './api.ts';
import { h, notice } from './dom.ts';
import { navigate, parseRoute, type Route } from './router.ts';
import { createShell, flash, focusHeading } from './shell.ts';
import { mountAuthPage } from './auth-page.ts';
import { mountNewAssessmentPage } from './studio/new-assessment-page.ts';
import { mountHistoryPage } from './studio/history-page.ts';
import { mountAnalysisPage } from './studio/analysis-page.ts';
import { mountComparePage } from './studio/compare-page.ts';

/** What a page gets; it may return a function run when the user leaves it (close sockets, stop the camera). */
export interface PageContext {
  api: typeof api;
  user: User;
}
type Cleanup = (() => void) | void;

let user: User | null = null;
let leave: Cleanup = undefined;
let rendering = 0;

const shell = createShell(document.getElementById('app')!, () => void signOut());

api.onSessionExpired = () => {
  if (!user) return;
  user = null;
  flash('error', 'Your session has expired. Please sign in again.');
  navigate('/signin');
};

async function signOut(): Promise<void> {
  try {
    await api.signOut();
    flash('info', 'You are signed out.');
  } catch (error) {
    flash('error', (error as Error).message);
  }
  user = null;
  navigate('/signin');
}

async function render(): Promise<void> {
  const ticket = ++rendering;
  if (typeof leave === 'function') leave();
  leave = undefined;
  const route = parseRoute(location.hash);
  if (!user && route.name !== 'signin' && route.name !== 'signup') {
    navigate('/signin');
    return;
  }
  if (user && (route.name === 'signin' || route.name === 'signup')) {
    navigate('/studio/new');
    return;
  }
  const page = shell.page(route, user);
  let cleanup: Cleanup = undefined;
  try {
    cleanup = await mount(route, page);
  } catch (error) {
    page.replaceChildren(h('h1', {}, 'Something went wrong'), notice('error', (error as Error).message));
  }
  // Navigated away while this page was mounting: it is already off screen, so it leaves at once.
  if (ticket !== rendering) {
    if (typeof cleanup === 'function') cleanup();
    return;
  }
  leave = cleanup;
  focusHeading(page, page.querySelector('h1')?.textContent ?? 'Postura');
}

async function mount(route: Route, page: HTMLElement): Promise<Cleanup> {
  const onSignedIn = (signedIn: User) => {
    user = signedIn;
    navigate('/studio/new');
  };
  if (route.name === 'signin' || route.name === 'signup') return mountAuthPage(page, { api, mode: route.name, onSignedIn });
  const context: PageContext = { api, user: user! };
  switch (route.name) {
    case 'new': return mountNewAssessmentPage(page, context);
    case 'history': return mountHistoryPage(page, context);
    case 'analysis': return mountAnalysisPage(page, context, route.params[0]!);
    case 'compare': return mountComparePage(page, context, route.params[0]!, route.params[1]!);
    case 'live': {
      page.append(h('p', { role: 'status' }, 'Loading the live mode…'));
      const live = await import('./live/live-page.ts');
      page.replaceChildren();
      const cleanup: unknown = await live.mountLivePage(page, { api });
      return typeof cleanup === 'function' ? cleanup as () => void : undefined;
    }
    default:
      page.append(h('h1', {}, 'Page not found'), h('p', {}, h('a', { href: '#/studio/new' }, 'Start a new assessment')));
  }
}

window.addEventListener('hashchange', () => void render());
api.me().then((me) => {
  user = me;
}, () => {
  flash('error', 'Could not reach the Postura server. Check the connection and reload.');
}).finally(() => void render());
