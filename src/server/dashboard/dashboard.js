/* global document, uPlot */
// Charts of the Usage and Session pages: reads the data from <script type="application/json">
// blocks (never evaluated as code) and draws them with uPlot. A spec with `x` has a plain
// numeric x axis named so (the session's turns); without it the x axis is time.
document.querySelectorAll("[data-chart]").forEach(function (el) {
  var spec = JSON.parse(document.getElementById(el.getAttribute("data-chart")).textContent);
  var opts = {
    width: Math.min(1100, el.clientWidth || 900),
    height: 220,
    series: [spec.x ? { label: spec.x } : {}].concat(
      spec.series.map(function (s, i) {
        var colours = [
          "#3b5bdb",
          "#2b8a3e",
          "#c92a2a",
          "#b7791f",
          "#862e9c",
          "#0b7285",
          "#e8590c",
          "#495057",
        ];
        return { label: s, stroke: colours[i % colours.length], width: 2 };
      }),
    ),
  };
  if (spec.x) {
    opts.scales = { x: { time: false } };
    opts.axes = [{ label: spec.x, incrs: [1, 2, 5, 10, 20, 50, 100] }, {}];
  }
  new uPlot(opts, spec.data, el);
});
