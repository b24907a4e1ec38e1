// live.js — live updates for pages that carry data-live-src (the pressure
// briefing, the dashboard). Every page works without it.
//
// The server sends "changed" on an event stream (GET /pressure/live) when a
// return is saved, anywhere in the collective. The event names a period and
// nothing else, so the page fetches itself again and swaps in each fresh
// [data-live-region] by id. A short pause gathers a burst of returns into one
// fetch. The #live-status region (aria-live="polite") tells screen reader users
// that the figures changed, without moving their focus.
const root = document.querySelector('[data-live-src]');
if (root && 'EventSource' in window) {
  const status = document.getElementById('live-status');
  let timer = null;

  async function refresh() {
    const res = await fetch(window.location.href, { headers: { Accept: 'text/html' } }).catch(() => null);
    if (!res || !res.ok) return;
    const fresh = new DOMParser().parseFromString(await res.text(), 'text/html');
    let changed = false;
    for (const region of document.querySelectorAll('[data-live-region]')) {
      const next = fresh.getElementById(region.id);
      if (next && next.innerHTML !== region.innerHTML) {
        region.innerHTML = next.innerHTML;
        changed = true;
      }
    }
    if (changed && status) {
      const time = new Date().toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' });
      status.textContent = `Figures updated at ${time}`;
    }
  }

  const source = new EventSource(root.dataset.liveSrc);
  // For tests and curious readers of the DOM: whether the stream is open.
  source.addEventListener('open', () => { root.dataset.liveState = 'open'; });
  source.addEventListener('error', () => { root.dataset.liveState = 'closed'; });
  source.addEventListener('changed', () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, 300);
  });
}
