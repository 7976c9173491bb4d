// Heartbeats per second for each actor type over the last minute, one line per type, drawn once a second.

const SECONDS = 60
const COLOURS = ['#4fa3ff', '#3ecf8e', '#f0b429', '#ef5350', '#d946ef', '#22d3ee', '#a3e635', '#fb923c', '#94a3b8']

export class BeatChart {
  constructor (canvas, legend) {
    this.canvas = canvas
    this.legend = legend
    this.series = new Map() // agentType -> counts per second, oldest first
    this.current = new Map() // agentType -> beats in the second being counted
  }

  beat (agentType) {
    const type = agentType || 'unknown'
    this.current.set(type, (this.current.get(type) ?? 0) + 1)
  }

  /** Closes the current second and redraws. */
  tick () {
    for (const type of new Set([...this.series.keys(), ...this.current.keys()])) {
      const counts = this.series.get(type) ?? new Array(SECONDS).fill(0)
      counts.push(this.current.get(type) ?? 0)
      if (counts.length > SECONDS) counts.shift()
      this.series.set(type, counts)
    }
    this.current.clear()
    this.draw()
  }

  draw () {
    const { canvas } = this
    const ratio = window.devicePixelRatio || 1
    const width = canvas.clientWidth * ratio
    const height = canvas.clientHeight * ratio
    if (canvas.width !== width || canvas.height !== height) {
      canvas.width = width
      canvas.height = height
    }
    const g = canvas.getContext('2d')
    g.clearRect(0, 0, width, height)
    let max = 1
    for (const counts of this.series.values()) for (const n of counts) if (n > max) max = n
    g.fillStyle = '#8894a5'
    g.font = `${11 * ratio}px system-ui, sans-serif`
    g.fillText(`${max}/s`, 4 * ratio, 12 * ratio)
    const types = [...this.series.keys()].sort()
    types.forEach((type, i) => {
      const counts = this.series.get(type)
      g.strokeStyle = COLOURS[i % COLOURS.length]
      g.lineWidth = 1.5 * ratio
      g.beginPath()
      counts.forEach((n, x) => {
        const px = (x / (SECONDS - 1)) * width
        const py = height - 4 * ratio - (n / max) * (height - 20 * ratio)
        if (x === 0) g.moveTo(px, py)
        else g.lineTo(px, py)
      })
      g.stroke()
    })
    this.renderLegend(types)
  }

  renderLegend (types) {
    const key = types.join(',')
    if (this.legend.dataset.key === key) {
      types.forEach((type, i) => { this.legend.children[i].lastChild.textContent = ` ${type} ${this.series.get(type).at(-1)}/s` })
      return
    }
    this.legend.dataset.key = key
    this.legend.replaceChildren(...types.map((type, i) => {
      const li = document.createElement('li')
      const swatch = document.createElement('span')
      swatch.style.background = COLOURS[i % COLOURS.length]
      li.append(swatch, document.createTextNode(` ${type} ${this.series.get(type).at(-1)}/s`))
      return li
    }))
  }
}
