// The console's only script, served as it is (no build step). The pages work without it; it adds
// what a server-rendered page cannot: times in the viewer's zone, deadlines counting down, and live
// updates from the server-sent event stream (a changed region of the page is fetched again and
// swapped in, except one the person is typing in or has focused).

const BACKGROUND = { 'X-Console-Background': '1' };

/** Times in the viewer's zone; the UTC text stays on hover (title). */
function localTimes(root) {
  const format = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
  for (const el of root.querySelectorAll('time[data-local]')) {
    const at = new Date(el.getAttribute('datetime'));
    if (!Number.isNaN(at.getTime())) el.textContent = format.format(at);
  }
}

/** "4m 05s" until a deadline, or "expired". */
function remaining(ms) {
  if (ms <= 0) return 'expired';
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}h ${String(m).padStart(2, '0')}m` : `${m}m ${sec}s`;
}

function countdowns() {
  for (const el of document.querySelectorAll('time[data-countdown]')) {
    el.textContent = remaining(new Date(el.getAttribute('datetime')).getTime() - Date.now());
  }
}

function say(text, link) {
  const status = document.getElementById('live-status');
  if (!status) return;
  status.textContent = text;
  if (link) {
    const a = document.createElement('a');
    a.href = link.href;
    a.textContent = link.text;
    status.append(' ', a);
  }
  status.classList.add('shown');
}

/** A region someone is working in: focused, or a field with text typed into it. */
function busy(region) {
  if (region.contains(document.activeElement) && document.activeElement !== document.body) return true;
  return [...region.querySelectorAll('textarea, input:not([type=hidden])')].some((f) => f.value !== f.defaultValue);
}

let refreshing = null;
let again = false;

/** Fetches this page again (as a background request) and swaps in the regions that changed. */
async function refresh() {
  if (refreshing) {
    again = true;
    return;
  }
  refreshing = (async () => {
    const res = await fetch(location.href, { headers: BACKGROUND, credentials: 'same-origin', cache: 'no-store' });
    if (res.status === 401 || new URL(res.url).pathname === '/console/sign-in') {
      stop('Your session ended.');
      return;
    }
    if (!res.ok) return;
    const next = new DOMParser().parseFromString(await res.text(), 'text/html');
    const before = document.querySelector('[data-live="run-head"] [data-state]')?.dataset.state;
    for (const fresh of next.querySelectorAll('[data-live]')) {
      const old = document.querySelector(`[data-live="${fresh.dataset.live}"]`);
      if (!old || busy(old) || old.innerHTML === fresh.innerHTML) continue;
      old.replaceWith(document.importNode(fresh, true));
    }
    const held = next.querySelector('[data-held]');
    const badge = document.querySelector('[data-held]');
    if (badge && held) badge.textContent = held.textContent;
    localTimes(document);
    countdowns();
    const after = document.querySelector('[data-live="run-head"] [data-state]');
    if (after && before && after.dataset.state !== before) say(`This run is now ${after.textContent.trim()}.`);
  })();
  try {
    await refreshing;
  } catch {
    // A failed refresh is tried again on the next event.
  } finally {
    refreshing = null;
    if (again) {
      again = false;
      void refresh();
    }
  }
}

let source = null;
let timer = null;

function stop(why) {
  source?.close();
  source = null;
  document.body.dataset.live = 'ended';
  say(`${why} Live updates stopped.`, { href: `/console/sign-in?next=${encodeURIComponent(location.pathname + location.search)}`, text: 'Sign in again' });
}

function live(url) {
  source = new EventSource(url);
  source.addEventListener('open', () => {
    document.body.dataset.live = 'open';
  });
  const soon = () => {
    clearTimeout(timer);
    timer = setTimeout(() => void refresh(), 150);
  };
  source.addEventListener('run', soon);
  source.addEventListener('refresh', soon);
  source.addEventListener('ended', () => stop('Your session ended.'));
  source.addEventListener('error', () => {
    // EventSource retries by itself; it gives up (CLOSED) when the answer is not a stream (401).
    if (source && source.readyState === EventSource.CLOSED) stop('The live stream closed.');
  });
}

localTimes(document);
countdowns();
setInterval(countdowns, 1000);
const stream = document.body.dataset.stream;
if (stream) live(stream);
