// Stage: web front-end (browser). Draws the ECharts charts from the options each chart element carries in its
// data-chart attribute, and sorts tables marked "sortable" by a click on a header. No data is turned into markup.
(function () {
  'use strict';
  function drawCharts(root) {
    if (typeof window.echarts === 'undefined') return;
    root.querySelectorAll('.chart[data-chart]').forEach(function (el) {
      if (el.dataset.drawn) return;
      var options;
      try {
        options = JSON.parse(el.dataset.chart);
      } catch (e) {
        return;
      }
      var chart = window.echarts.init(el, null, { renderer: 'canvas' });
      chart.setOption(options);
      el.dataset.drawn = '1';
      window.addEventListener('resize', function () { chart.resize(); });
    });
  }
  function cellValue(td) {
    if (td.dataset.value !== undefined) return Number(td.dataset.value);
    return td.textContent.trim();
  }
  function makeSortable(root) {
    root.querySelectorAll('table.sortable').forEach(function (table) {
      if (table.dataset.sortReady) return;
      table.dataset.sortReady = '1';
      table.querySelectorAll('thead th').forEach(function (th, index) {
        th.classList.add('sort-header');
        th.setAttribute('role', 'button');
        th.tabIndex = 0;
        var sort = function () {
          var body = table.tBodies[0];
          var rows = Array.prototype.slice.call(body.rows).filter(function (r) { return r.cells.length > index; });
          var desc = th.dataset.dir !== 'desc';
          table.querySelectorAll('thead th').forEach(function (h) { delete h.dataset.dir; });
          th.dataset.dir = desc ? 'desc' : 'asc';
          rows.sort(function (a, b) {
            var x = cellValue(a.cells[index]);
            var y = cellValue(b.cells[index]);
            var r = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y), undefined, { numeric: true });
            return desc ? -r : r;
          });
          rows.forEach(function (r) { body.appendChild(r); });
        };
        th.addEventListener('click', sort);
        th.addEventListener('keydown', function (e) { if (e.key === 'Enter') sort(); });
      });
    });
  }
  function init(root) {
    drawCharts(root);
    makeSortable(root);
  }
  document.addEventListener('DOMContentLoaded', function () { init(document); });
  // htmx swaps in filtered tables and pages; set them up like the first load.
  document.addEventListener('htmx:load', function (e) { init(e.target); });
})();
