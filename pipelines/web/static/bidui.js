// bidui — the little script the pages share. Charts: an element with class "chart" and
// data-chart="ID" draws the JSON in <script type="application/json" id="ID"> with Apache ECharts
// (vendored, /static/vendor/echarts). Forms with data-confirm ask before they are sent; a form is
// sent once.
(function () {
  "use strict";
  function lineChart(el, spec) {
    if (typeof echarts === "undefined") { return; }
    var chart = echarts.init(el, null, { renderer: "svg" });
    chart.setOption({
      title: { text: spec.title || "", left: "center", textStyle: { fontSize: 14 } },
      tooltip: { trigger: "axis" },
      legend: { top: 30 },
      grid: { left: 56, right: 24, top: 72, bottom: 32 },
      xAxis: { type: "category", data: spec.dates },
      yAxis: { type: "value", name: spec.unit || "" },
      series: spec.series.map(function (s) { return { name: s.name, type: s.type || "line", data: s.data, smooth: false, showSymbol: spec.dates.length < 60 }; })
    });
    window.addEventListener("resize", function () { chart.resize(); });
    el.setAttribute("data-drawn", "1");
  }
  function barChart(el, spec) {
    if (typeof echarts === "undefined") { return; }
    var chart = echarts.init(el, null, { renderer: "svg" });
    chart.setOption({
      title: { text: spec.title || "", left: "center", textStyle: { fontSize: 14 } },
      tooltip: { trigger: "axis", valueFormatter: function (v) { return spec.percent ? v + "%" : v; } },
      grid: { left: 56, right: 24, top: 48, bottom: 64 },
      xAxis: { type: "category", data: spec.labels, axisLabel: { interval: 0, rotate: spec.labels.length > 8 ? 30 : 0 } },
      yAxis: { type: "value", max: spec.percent ? 100 : null, name: spec.percent ? "%" : "" },
      series: spec.series.map(function (s) { return { name: s.name, type: "bar", data: s.data }; })
    });
    window.addEventListener("resize", function () { chart.resize(); });
    el.setAttribute("data-drawn", "1");
  }
  document.querySelectorAll("[data-chart]").forEach(function (el) {
    var source = document.getElementById(el.getAttribute("data-chart"));
    if (!source) { return; }
    var spec = JSON.parse(source.textContent);
    (spec.kind === "bar" ? barChart : lineChart)(el, spec);
  });
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });
  // A form sent is not sent again by a second click while the answer comes (a release re-runs a
  // night, an upload imports a workbook); a button with data-busy says what is under way.
  document.querySelectorAll("form[method=post]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (event.defaultPrevented) { return; }
      if (form.getAttribute("data-sent") === "1") { event.preventDefault(); return; }
      form.setAttribute("data-sent", "1");
      var button = event.submitter;
      if (button && button.getAttribute("data-busy")) { button.textContent = button.getAttribute("data-busy"); }
    });
  });
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) { return; }
    document.querySelectorAll("form[data-sent]").forEach(function (form) { form.removeAttribute("data-sent"); });
  });
})();
