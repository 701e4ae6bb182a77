import { barePage } from '../layout.js';
import { html, type SafeHtml } from '../html.js';

/** What the sign-in page says and keeps. */
export interface SignInView {
  /** The form's CSRF token (double submit with its cookie). */
  readonly token: string;
  /** Where to go after signing in (a console path). */
  readonly next: string;
  /** Why the person is here: their session ended, they signed out, or the token was wrong. */
  readonly why?: 'idle' | 'expired' | 'signed-out' | 'wrong-token' | 'form';
  /** The proxy header, when an authenticating proxy is configured. */
  readonly proxyHeader: string | null;
}

const WHY: Readonly<Record<NonNullable<SignInView['why']>, string>> = {
  idle: 'Your session ended after a while without activity. Sign in again.',
  expired: 'Your session reached its maximum age. Sign in again.',
  'signed-out': 'You are signed out.',
  'wrong-token': 'That token is not one of the API tokens (REMEDIATOR_API_TOKENS). Try again.',
  form: 'The form expired or did not come from this page. Try again.',
};

/** The sign-in form: an API token starts a session as its identity. */
export function signInPage(v: SignInView): SafeHtml {
  const bad = v.why === 'wrong-token' || v.why === 'form';
  return barePage(
    'Sign in',
    html`<h1>remediator</h1>
      <p>Sign in to the console with your API token: you act as its identity, with that identity's roles.</p>
      ${v.why ? html`<p class="notice ${bad ? 'notice-error' : 'notice-ok'}" role="${bad ? 'alert' : 'status'}">${WHY[v.why]}</p>` : ''}
      <form method="post" action="/console/sign-in" class="sign-in">
        <input type="hidden" name="_csrf" value="${v.token}" />
        <input type="hidden" name="next" value="${v.next}" />
        <label for="token">API token</label>
        <input id="token" name="token" type="password" autocomplete="current-password" required autofocus />
        <button type="submit">Sign in</button>
      </form>
      ${v.proxyHeader ? html`<p class="hint">Behind the company's sign-in proxy you are signed in by it (${v.proxyHeader}) and never see this page.</p>` : ''}`,
  );
}

/** An error page (HTML, for people), with the status and what to do. */
export function errorPage(status: number, message: string): SafeHtml {
  return barePage(
    `Error ${status}`,
    html`<h1>${status === 403 ? 'Not allowed' : status === 404 ? 'Not found' : 'Something went wrong'}</h1>
      <p class="notice notice-error" role="alert">${message}</p>
      <p><a href="/console/runs">Back to the runs</a></p>`,
  );
}
