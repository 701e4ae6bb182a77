import type { GuardStatus } from '../../guards/guard-switches.js';
import type { Principal } from '../roles.js';
import { time } from './format.js';
import { html, type HtmlValue, type SafeHtml } from './html.js';

/** The console's sections, in the order of the navigation. */
export type Section = 'runs' | 'waiting' | 'decisions' | 'playbooks' | 'guards' | 'audit';

const SECTIONS: readonly { id: Section; href: string; label: string }[] = [
  { id: 'runs', href: '/console/runs', label: 'Runs' },
  { id: 'waiting', href: '/console/waiting', label: 'Waiting for me' },
  { id: 'decisions', href: '/console/decisions', label: 'Decisions' },
  { id: 'playbooks', href: '/console/playbooks', label: 'Playbooks' },
  { id: 'guards', href: '/console/guards', label: 'Guards' },
  { id: 'audit', href: '/console/audit', label: 'Audit' },
];

/** What every signed-in page shows around its content. */
export interface Frame {
  readonly title: string;
  readonly section: Section | null;
  readonly principal: Principal;
  readonly csrf: string;
  /** Held runs (the badge on "Waiting for me"). */
  readonly held: number;
  readonly guards: GuardStatus | null;
  /** A notice after an action (PRG: carried in the redirect's query). */
  readonly notice?: { readonly kind: 'ok' | 'error'; readonly text: string } | null;
}

/** A signed-in page: the head (our stylesheet and script only), navigation, who is signed in, banners. */
export function page(frame: Frame, content: HtmlValue): SafeHtml {
  const p = frame.principal;
  const nav = SECTIONS.map(
    (s) =>
      html`<li>
        <a href="${s.href}" ${s.id === frame.section ? html` aria-current="page"` : ''}
          >${s.label}${s.id === 'waiting' && frame.held > 0 ? html` <span class="count" data-held>${frame.held}</span>` : ''}</a
        >
      </li>`,
  );
  return document(
    frame.title,
    frame.csrf,
    html`<header class="top">
        <a class="brand" href="/console/runs">remediator</a>
        <nav aria-label="Console sections">
          <ul>
            ${nav}
          </ul>
        </nav>
        <div class="who">
          <span title="how you signed in: ${p.source === 'proxy' ? 'your authenticating proxy' : 'an API token'}"
            ><span class="identity">${p.identity}</span> <span class="roles">(${p.roles.join(', ') || 'no roles'})</span></span
          >
          <form method="post" action="/console/sign-out">
            <input type="hidden" name="_csrf" value="${frame.csrf}" />
            <button type="submit" class="link">Sign out</button>
          </form>
        </div>
      </header>
      ${banners(frame.guards)}
      <div id="live-status" class="live-status" role="status" aria-live="polite"></div>
      <main id="main" tabindex="-1">
        ${frame.notice ? html`<p class="notice notice-${frame.notice.kind}" role="${frame.notice.kind === 'error' ? 'alert' : 'status'}">${frame.notice.text}</p>` : ''}
        ${content}
      </main>`,
    true,
  );
}

/** A page without navigation (sign-in, errors before sign-in). */
export function barePage(title: string, content: HtmlValue): SafeHtml {
  return document(title, null, html`<main id="main" class="bare" tabindex="-1">${content}</main>`, false);
}

function document(title: string, csrf: string | null, body: SafeHtml, live: boolean): SafeHtml {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="same-origin" />
        ${csrf === null ? '' : html`<meta name="csrf-token" content="${csrf}" />`}
        <title>${title} · remediator</title>
        <link rel="stylesheet" href="/console/assets/console.css" />
        <script type="module" src="/console/assets/console.js"></script>
      </head>
      <body${live ? html` data-stream="/console/events"` : ''}>
        <a class="skip" href="#main">Skip to content</a>
        ${body}
      </body>
    </html>`;
}

/** The pause and the circuit, on every page while either is in force. */
function banners(g: GuardStatus | null): SafeHtml {
  if (g === null) return html``;
  return html`<div data-live="banners">
    ${
      g.paused && g.pause
        ? html`<p class="banner banner-wait" role="status">
            <strong>Paused</strong> by ${g.pause.by} until ${time(g.pause.until)}: ${g.pause.reason}. <a href="/console/guards">Guards</a>
          </p>`
        : ''
    }
    ${
      g.circuitOpen && g.circuit
        ? html`<p class="banner banner-bad" role="status">
            <strong>Circuit open</strong> since ${time(g.circuit.openedAt)}: ${g.circuit.reason}. Every live run waits for approval.
            <a href="/console/guards">Guards</a>
          </p>`
        : ''
    }
  </div>`;
}
