/**
 * A Polaris Viz chart made accessible: the chart is a picture only (inert: out of the tab order
 * and the accessibility tree, where its SVG's roles are not ones assistive technology can use),
 * and the same numbers are a table for screen readers — a chart and its data table, the usual
 * pattern.
 */
import type { DataSeries } from "@shopify/polaris-viz"
import { Text } from "@shopify/polaris"
import { type ReactNode, useCallback, useEffect, useState } from "react"

/** Series colours, in order (Polaris Viz's own legend is not used: see below). */
const PALETTE = ["#2c6ecb", "#8051e5", "#1f9e7a", "#e0730b", "#d72c65", "#00848e", "#8a6116", "#5c6ac4"]

export const Chart = ({ label, data, height, render, format = (n) => n.toLocaleString() }: {
  label: string
  data: ReadonlyArray<DataSeries>
  height: number
  /** The Polaris Viz chart of the (coloured) series, without its legend. */
  render: (series: Array<DataSeries>) => ReactNode
  format?: (n: number) => string
}) => {
  // Polaris Viz sizes its own legend after its chart, so a chart with a legend that wraps draws
  // frames with negative heights first (the browser logs each). The legend is drawn here instead,
  // with the colours given to the series.
  const series = data.map((s, i) => ({ ...s, color: s.color ?? PALETTE[i % PALETTE.length]! }))
  // `inert` is not a React 18 prop: set it on the element
  const inert = useCallback((el: HTMLDivElement | null) => el?.setAttribute("inert", ""), [])
  // the chart is drawn once its box is laid out: drawn in the same pass as the page, Polaris Viz
  // sizes its legend before its box and draws a first frame with negative heights
  const [laidOut, setLaidOut] = useState(false)
  useEffect(() => {
    const frame = requestAnimationFrame(() => setLaidOut(true))
    return () => cancelAnimationFrame(frame)
  }, [])
  const keys = [...new Set(data.flatMap((s) => s.data.map((d) => String(d.key))))]
  // an all-zero chart has no scale (Polaris Viz draws it with negative heights): say so instead
  const blank = data.every((s) => s.data.every((d) => !d.value))
  return (
    <figure style={{ margin: 0 }}>
      {blank
        ? <Text as="p" tone="subdued">{label}: every value is zero.</Text>
        : (
          <>
            <div ref={inert} aria-hidden="true" style={{ height }}>{laidOut ? render(series) : null}</div>
            {series.length > 1
              ? (
                <ul className="sumeru-legend" aria-hidden="true">
                  {series.map((s) => <li key={s.name}><span style={{ background: String(s.color) }} />{s.name}</li>)}
                </ul>
              )
              : null}
          </>
        )}
      <table className="Polaris-Text--visuallyHidden">
        <caption>{label}</caption>
        <thead>
          <tr>
            <th scope="col">Series</th>
            {keys.map((k) => <th scope="col" key={k}>{k}</th>)}
          </tr>
        </thead>
        <tbody>
          {data.map((s) => (
            <tr key={s.name}>
              <th scope="row">{s.name}</th>
              {keys.map((k) => {
                const v = s.data.find((d) => String(d.key) === k)?.value
                return <td key={k}>{v === null || v === undefined ? "—" : format(v)}</td>
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  )
}
