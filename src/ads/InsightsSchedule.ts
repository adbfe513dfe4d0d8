/** When each connected ad account's insights are pulled: a durable timer per account, daily at 04:00 UTC (`InsightsPull.ts`). */
import { encodeShopMessage } from "../../domain/messages/ShopMessages.ts"
import type { ScheduledMessage } from "../actors/ShopHandlers.ts"

/** The timer id of an account's daily pull. */
export const insightsTimerId = (platform: string, accountId: string) => `ads.insights:${platform}:${accountId}`

/** The next 04:00 UTC after `now` (the platforms have settled the day before by then). */
export const nextPullAt = (now: Date): Date => {
  const at = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), 4))
  return at.getTime() > now.getTime() ? at : new Date(at.getTime() + 86_400_000)
}

/** The account's daily pull timer, due next at 04:00 UTC. */
export const insightsTimer = (platform: "google" | "meta" | "tiktok", accountId: string, now: Date): ScheduledMessage => ({
  id: insightsTimerId(platform, accountId),
  at: nextPullAt(now),
  ...encodeShopMessage({ type: "ads.insights_pull", payload: { platform, accountId } })
})

