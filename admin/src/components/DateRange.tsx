/** A from/to pair of days (UTC dates, both included), with quick picks. */
import { Button, ButtonGroup, InlineStack, TextField } from "@shopify/polaris"
import { daysAgo, isoDay } from "../format.ts"

export interface Range {
  readonly from: string
  readonly to: string
}

export const lastDays = (n: number): Range => ({ from: isoDay(daysAgo(n - 1)), to: isoDay(new Date()) })

export const DateRange = ({ value, onChange }: { value: Range; onChange: (r: Range) => void }) => (
  <InlineStack gap="300" blockAlign="end" wrap>
    <TextField label="From" type="date" autoComplete="off" value={value.from} onChange={(from) => onChange({ ...value, from })} />
    <TextField label="To" type="date" autoComplete="off" value={value.to} onChange={(to) => onChange({ ...value, to })} />
    <ButtonGroup variant="segmented">
      {[7, 30, 90].map((n) => (
        <Button key={n} pressed={value.from === lastDays(n).from && value.to === lastDays(n).to} onClick={() => onChange(lastDays(n))}>
          {`${n} days`}
        </Button>
      ))}
    </ButtonGroup>
  </InlineStack>
)
