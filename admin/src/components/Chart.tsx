/**
 * A Polaris Viz chart made accessible: the chart is a picture only (inert: out of the tab order
 * and the accessibility tree, where its SVG's roles are not ones assistive technology can use),
 * and the same numbers are a table for screen readers — a chart and its data table, the usual
 * pattern.
 */
import type { DataSeries } from "@shopify/polaris-viz"
import { Text } from "@shopify/polaris"
import { type ReactNode, useCallback, useEffect, useState } from "react"

export const Chart = ({ label, data, height, children, format = (n) => n.toLocaleString() }: {
  label: string
  data: ReadonlyArray<DataSeries>
  height: number
  children: ReactNode
  format?: (n: number) => string
}) => {
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
        : <div ref={inert} aria-hidden="true" style={{ height }}>{laidOut ? children : null}</div>}
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
