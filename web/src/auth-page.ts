// Sign in and sign up, on the studio accounts (`/auth/login` sets the HttpOnly cookie the whole app then rides on).
import type { ApiClient, User } from './api.ts';
import { field, h, notice } from './dom.ts';

interface AuthPageOptions {
  api: ApiClient;
  mode: 'signin' | 'signup';
  onSignedIn(user: User): void;
}

export function mountAuthPage(page: HTMLElement, { api, mode, onSignedIn }: AuthPageOptions): void {
  const signingUp = mode === 'signup';
  const name = h('input', { name: 'name', autocomplete: 'name', required: true, maxlength: 100 });
  const email = h('input', { name: 'email', type: 'email', autocomplete: 'email', required: true });
  const password = h('input', {
    name: 'password', type: 'password', required: true, minlength: signingUp ? 8 : null,
    autocomplete: signingUp ? 'new-password' : 'current-password',
  });
  const messages = h('div', { class: 'messages' });
  const submit = h('button', { type: 'submit' }, signingUp ? 'Create account' : 'Sign in');
  const form = h('form', { class: 'card auth-form' },
    signingUp ? field('Your name', name) : null,
    field('Email', email),
    field('Password', password, signingUp ? 'At least 8 characters.' : undefined),
    messages,
    submit);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    submit.disabled = true;
    messages.replaceChildren();
    try {
      const user = signingUp
        ? await api.signUp(name.value.trim(), email.value.trim(), password.value)
        : await api.signIn(email.value.trim(), password.value);
      onSignedIn(user);
    } catch (error) {
      messages.replaceChildren(notice('error', (error as Error).message));
      submit.disabled = false;
    }
  });
  page.append(
    h('div', { class: 'auth' },
      h('h1', {}, signingUp ? 'Create your Postura account' : 'Sign in to Postura'),
      h('p', { class: 'lead' }, 'Posture assessments from photos and videos, and live coaching with your webcam.'),
      form,
      h('p', {}, signingUp
        ? h('span', {}, 'Already have an account? ', h('a', { href: '#/signin' }, 'Sign in'))
        : h('span', {}, 'New to Postura? ', h('a', { href: '#/signup' }, 'Create an account')))),
  );
}
