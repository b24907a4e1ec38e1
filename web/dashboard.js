// dashboard.js — draws the pressure dashboard's trend chart with uPlot from the
// table beside it, so the chart and the table always show the same numbers. The
// page is complete without it: the chart is hidden from screen readers
// (aria-hidden), which read the table.
//
// Each <figure data-chart="TABLE-ID" data-columns="3,4,5,6"> names its table
// and the columns (0 = the row header) to draw; each cell carries its number in
// data-value ("" when suppressed, which uPlot leaves as a gap).
const colours = ['#007f3b', '#ffb81c', '#d5281b', '#212b32', '#005eb8', '#4c6272'];

function draw(figure) {
  const table = document.getElementById(figure.dataset.chart);
  if (!table || typeof window.uPlot !== 'function') return;
  const columns = figure.dataset.columns.split(',').map(Number);
  const headers = [...table.querySelectorAll('thead th')].map((th) => th.textContent.trim());
  const rows = [...table.querySelectorAll('tbody tr')];
  const labels = rows.map((tr) => tr.querySelector('th').textContent.trim());
  const xs = rows.map((_, i) => i);
  const series = columns.map((c) =>
    rows.map((tr) => {
      const cell = tr.children[c];
      const v = cell ? cell.dataset.value : '';
      return v === '' || v === undefined ? null : Number(v);
    }),
  );
  const width = Math.max(280, Math.min(figure.parentElement.clientWidth, 900));
  const options = {
    width,
    height: 260,
    scales: { x: { time: false } },
    axes: [
      { values: (u, ticks) => ticks.map((t) => (labels[t] || '').replace('week beginning ', '')) },
      {},
    ],
    series: [
      { label: 'Week', value: (u, v) => (v == null ? '' : labels[v]) },
      ...columns.map((c, i) => ({ label: headers[c], stroke: colours[i % colours.length], width: 2 })),
    ],
  };
  // eslint-disable-next-line no-new
  new window.uPlot(options, [xs, ...series], figure);
}

function drawAll() {
  document.querySelectorAll('figure[data-chart]').forEach(draw);
}

if (document.readyState === 'complete') drawAll();
else window.addEventListener('load', drawAll);
