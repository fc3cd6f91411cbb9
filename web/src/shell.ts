// The frame every page sits in: the header with the navigation and the signed-in user, one <main> the current
// page owns, and the message that survives one navigation (e.g. "session expired" on the sign-in page).
import { h, notice } from './dom.ts';
import type { Route } from './router.ts';

export interface ShellUser {
  name: string;
}

type Flash = { kind: 'error' | 'info' | 'success'; text: string };
let pending: Flash | null = null;

/** A message for the next page shown (one navigation), e.g. partial upload failures on the results page. */
export function flash(kind: Flash['kind'], text: string): void {
  pending = { kind, text };
}

export interface Shell {
  /** Empties <main> for the next page and returns it, with any flash message on top. */
  page(route: Route, user: ShellUser | null): HTMLElement;
}

const NAV: { label: string; href: string; active: Route['name'][] }[] = [
  { label: 'New assessment', href: '#/studio/new', active: ['new'] },
  { label: 'History', href: '#/studio/history', active: ['history', 'analysis', 'compare'] },
  { label: 'Live', href: '#/live', active: ['live'] },
];

export function createShell(container: HTMLElement, onSignOut: () => void): Shell {
  const nav = h('nav', { 'aria-label': 'Main' });
  const account = h('div', { class: 'account' });
  const main = h('main', { id: 'main', tabindex: '-1' });
  // Not an href="#main": with hash routing that would be a route. It moves the focus instead.
  const skip = h('a', { class: 'skip-link', href: '#main' }, 'Skip to content');
  skip.addEventListener('click', (event) => {
    event.preventDefault();
    main.focus();
  });
  container.replaceChildren(
    skip,
    h('header', { class: 'app-header' }, h('a', { class: 'brand', href: '#/studio/new' }, 'Postura'), nav, account),
    main,
  );
  return {
    page(route, user) {
      nav.replaceChildren(user ? h('ul', {}, ...NAV.map((item) => h('li', {},
        h('a', { href: item.href, 'aria-current': item.active.includes(route.name) ? 'page' : null }, item.label)))) : '');
      account.replaceChildren(...(user
        ? [h('span', { class: 'user-name' }, user.name), h('button', { type: 'button', class: 'secondary', onclick: onSignOut }, 'Sign out')]
        : []));
      const page = h('div', { class: 'page' });
      main.replaceChildren(pending ? notice(pending.kind, pending.text) : '', page);
      pending = null;
      return page;
    },
  };
}

/** Gives the page's heading the focus after a navigation, so keyboard and screen-reader users start there. */
export function focusHeading(page: HTMLElement, title: string): void {
  document.title = `${title} · Postura`;
  const heading = page.querySelector('h1');
  if (!heading) return;
  heading.setAttribute('tabindex', '-1');
  heading.focus({ preventScroll: false });
}
