// app.js — small enhancements; every page works without it.
//
// Session timeout (WCAG 2.2.1): two minutes before an idle session ends, show
// the warning that the layout renders (hidden) with its "Stay signed in" form,
// and send that form in the background so the person keeps their place.
const body = document.body;

const warning = document.getElementById('session-timeout');
let endsAt = Number(body.dataset.sessionEnds || 0) * 1000;
const WARN_MS = 2 * 60 * 1000;

function schedule() {
  if (!warning || !endsAt) return;
  const delay = Math.max(0, endsAt - WARN_MS - Date.now());
  setTimeout(() => {
    warning.hidden = false;
    warning.querySelector('button')?.focus();
  }, delay);
  setTimeout(() => {
    if (!warning.hidden) window.location.assign('/sign-in?timeout=1');
  }, Math.max(0, endsAt - Date.now()));
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
    endsAt = data.session_ends * 1000;
    warning.hidden = true;
    schedule();
  } else {
    window.location.assign('/sign-in?timeout=1');
  }
});

schedule();
