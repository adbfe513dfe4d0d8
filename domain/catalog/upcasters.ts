/**
 * Every upcaster of the application's event types. When an event's schema changes, bump its
 * version where it is written and add the step from the old version here.
 */
import { makeUpcasterRegistry, type Upcaster } from "../events/Upcasting.ts"

export const upcasters: ReadonlyArray<Upcaster> = []

export const appUpcasters = makeUpcasterRegistry(upcasters)
