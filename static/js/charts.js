// Line charts of the Home page's volume widgets, drawn from the JSON each widget embeds.
// Without JavaScript (or before it loads) the widget's figures and table stand alone.
(function () {
  "use strict";

  function draw(root) {
    if (typeof Chart === "undefined") return;
    root.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      if (canvas.dataset.drawn) return;
      const source = document.getElementById(canvas.dataset.chart);
      if (!source) return;
      const data = JSON.parse(source.textContent);
      const scale = Math.pow(10, data.decimals);
      const format = new Intl.NumberFormat(undefined, {
        style: "currency",
        currency: data.currency.toUpperCase(),
        minimumFractionDigits: data.decimals,
        maximumFractionDigits: data.decimals,
      });
      canvas.dataset.drawn = "1";
      new Chart(canvas, {
        type: "line",
        data: {
          labels: data.labels,
          datasets: [{
            label: data.title,
            // Minor units to major units for the axis only; figures come from the server.
            data: data.values.map(function (value) { return value / scale; }),
            borderColor: getComputedStyle(document.documentElement).getPropertyValue("--brand").trim() || "#635bff",
            borderWidth: 2,
            pointRadius: 0,
            tension: 0.25,
          }],
        },
        options: {
          animation: false,
          maintainAspectRatio: false,
          plugins: {
            legend: { display: false },
            tooltip: { callbacks: { label: function (item) { return format.format(item.parsed.y); } } },
          },
          scales: {
            x: { ticks: { maxTicksLimit: 6 }, grid: { display: false } },
            y: { beginAtZero: true, ticks: { maxTicksLimit: 4 } },
          },
        },
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSettle", function (event) { draw(event.target); });
})();
