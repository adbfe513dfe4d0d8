/**
 * What the person may do, from `/app/me`: screens ask only for what the role may read, and offer
 * only the actions it may take (a viewer sees no "Create rule" button that would answer 403).
 */
import { useApi } from "./api.ts"
import type { Me } from "./types.ts"

export const useMe = () => useApi<Me>("/app/me", { staleTime: 300_000 })

/** `can(permission)`: false until `/app/me` has answered. */
export const useCan = (): ((permission: string) => boolean) => {
  const me = useMe()
  const held = new Set(me.data?.permissions ?? [])
  return (permission) => held.has(permission)
}

/** The month the shop's AI budget counts now (`YYYY-MM` in the shop's time zone). */
export const currentBudgetMonth = (timeZone: string | undefined): string =>
  new Intl.DateTimeFormat("en-CA", { timeZone: timeZone ?? "UTC", year: "numeric", month: "2-digit" }).format(new Date()).slice(0, 7)
