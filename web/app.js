// app.js — small enhancements; every page works without it.
//
// Session timeout (WCAG 2.2.1): two minutes before an idle session ends, show
// the warning that the layout renders (hidden) with its "Stay signed in" form,
// and send that form in the background so the person keeps their place. The
// server gives seconds left, not a time of day, so a wrong clock does no harm.
const warning = document.getElementById('session-timeout');
const left = Number(document.body.dataset.sessionSeconds || 0);
let endsAt = left ? Date.now() + left * 1000 : 0;
const WARN_MS = 2 * 60 * 1000;

// At the end, sign out on the server too (the clocks may differ a little),
// then say why on the sign-in page.
async function signOut() {
  const csrf = warning.querySelector('input[name="csrf"]').value;
  await fetch('/sign-out', { method: 'POST', body: new URLSearchParams({ csrf }) }).catch(() => {});
  window.location.assign('/sign-in?timeout=1');
}

let timers = [];
function schedule() {
  if (!warning || !endsAt) return;
  timers.forEach(clearTimeout);
  timers = [
    setTimeout(() => {
      warning.hidden = false;
      warning.querySelector('button')?.focus();
    }, Math.max(0, endsAt - WARN_MS - Date.now())),
    setTimeout(signOut, Math.max(0, endsAt - Date.now())),
  ];
}

warning?.querySelector('form')?.addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.target;
  const res = await fetch(form.action, {
    method: 'POST',
    body: new URLSearchParams(new FormData(form)),
    headers: { Accept: 'application/json' },
  });
  if (res.ok) {
    const data = await res.json();
    endsAt = Date.now() + data.session_seconds * 1000;
    warning.hidden = true;
    schedule();
  } else {
    signOut();
  }
});

schedule();
