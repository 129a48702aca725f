// The earnings page's chart: net earnings per month, one bar series per dataset (Chart.js).
//
// The figures come from the page itself (a json_script element the server rendered from the
// same rows as the table beside it), so the chart never disagrees with the table and the page
// reads the same without JavaScript. Only the parts of Chart.js a bar chart needs are bundled.
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from 'chart.js'

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip)

function draw () {
  const canvas = document.getElementById('earnings-chart')
  const source = document.getElementById('earnings-data')
  if (!canvas || !source) return
  const data = JSON.parse(source.textContent)
  // Numbers as the page's language writes them (1,234.50 / 1.234,50); the labels come translated
  // in the data. The tooltip's format can be given as data-tooltip="{series}: {value}".
  const language = document.documentElement.lang || 'en'
  const number = new Intl.NumberFormat(language, { minimumFractionDigits: 2, maximumFractionDigits: 2 })
  const tooltip = canvas.dataset.tooltip || '{series}: {value}'
  const chart = new Chart(canvas, {
    type: 'bar',
    data: {
      labels: data.periods,
      datasets: data.series.map((series) => ({ label: series.label, data: series.values }))
    },
    options: {
      animation: false,
      locale: language,
      responsive: true,
      scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } },
      plugins: {
        tooltip: {
          callbacks: {
            label: (item) => tooltip.replace('{series}', item.dataset.label).replace('{value}', number.format(item.parsed.y))
          }
        }
      }
    }
  })
  // Lets a test (and a curious reader) see what was drawn.
  canvas.dataset.chartReady = String(chart.data.datasets.length)
}

if (document.readyState === 'loading') {
  document.addEventListener('DOMContentLoaded', draw)
} else {
  draw()
}
