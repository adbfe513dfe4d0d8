/**
 * `notify_merchant` (any trigger; typically `ads.daily_insights_complete`,
 * `sales.attribution_computed`, `seo.audit_completed`): e-mails the shop's staff (the rule's
 * `recipients`) a digest of what the trigger found about the resource — one line per field of
 * its payload — through the email channel (`src/channels/Email.ts`).
 *
 * - snapshot: nothing to read.
 * - handler: one message per recipient, each with a Message-ID derived from the execution and the
 *   recipient (a re-run after a crash sends the same Message-ID, which mail clients show once);
 *   a hard bounce fails the execution with the address and the server's answer. With the
 *   `whatsapp` channel, the recipients are staff phone numbers and the digest goes as the rule's
 *   approved template (`{{1}}` the subject, `{{2}}` the digest's lines) from the shop's number.
 * - undoHandler: an e-mail cannot be unsent — undo answers `already_sent`.
 */
import { Effect } from "effect"
import { actionMeta } from "../../../domain/automation/Actions.ts"
import { merchantDigestEmail } from "../../../domain/channels/emailTemplates.ts"
import { ActionPermanent, type ActionImplementation, ActionTransient } from "../../../src/automation/ActionSteps.ts"
import { EmailSender, emailMessageId } from "../../../src/channels/Email.ts"
import { WhatsAppSender } from "../../../src/channels/WhatsApp.ts"
import { ShopWhatsAppNumbers } from "./sendCartRecovery.ts"

export const meta = actionMeta("notify_merchant")!

const fill = (template: string, fields: Readonly<Record<string, string>>) =>
  template.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, name: string) => fields[name] ?? "")

/** The payload's scalar fields as digest lines, in their order. */
const linesOf = (payload: unknown) =>
  typeof payload !== "object" || payload === null
    ? []
    : Object.entries(payload).flatMap(([label, value]) =>
      typeof value === "string" || typeof value === "number" ? [{ label, value }] : typeof value === "boolean" ? [{ label, value: value ? "yes" : "no" }] : [])

export const notifyMerchant: ActionImplementation<EmailSender | WhatsAppSender> = {
  snapshot: () => Effect.succeed(null),
  handler: (shop, run) =>
    Effect.gen(function*() {
      const email = yield* EmailSender
      const recipients = Array.isArray(run.params.recipients) ? run.params.recipients.filter((r): r is string => typeof r === "string") : []
      if (recipients.length === 0) return yield* Effect.fail(new ActionPermanent({ code: "no_recipients", message: "the rule names no recipients" }))
      const resource = run.resourceLabel ?? run.resourceId
      const subject = fill(typeof run.params.subject === "string" ? run.params.subject : "{{event}}: {{resource}}", { event: run.triggerEvent, resource })
      const rendered = merchantDigestEmail({ shopName: shop, title: subject, lines: [{ label: "resource", value: resource }, ...linesOf(run.resourcePayload)] })
      const channel = typeof run.params.channel === "string" ? run.params.channel : "email"
      if (channel !== "email" && channel !== "whatsapp") return yield* Effect.fail(new ActionPermanent({ code: "invalid_params", message: `the channel ${channel} is neither email nor whatsapp` }))
      if (channel === "whatsapp") {
        const numberOf = yield* ShopWhatsAppNumbers
        const from = numberOf(shop)
        if (from === undefined) return yield* Effect.fail(new ActionPermanent({ code: "no_whatsapp_number", message: "the shop has no WhatsApp number (WHATSAPP_PHONE_NUMBERS)" }))
        const whatsapp = yield* WhatsAppSender
        const digest = [`resource: ${resource}`, ...linesOf(run.resourcePayload).map((l) => `${l.label}: ${l.value}`)].join("; ").slice(0, 1000)
        for (const to of recipients) {
          yield* whatsapp.sendTemplate({
            phoneNumberId: from, to, idempotencyKey: `notify:${run.executionId}:${to}`,
            template: { name: typeof run.params.whatsappTemplate === "string" ? run.params.whatsappTemplate : "merchant_digest", language: "en_US", parameters: [subject, digest] }
          }).pipe(Effect.mapError((e) =>
            e._tag === "WhatsAppThrottled" || e._tag === "WhatsAppUnavailable"
              ? new ActionTransient({ message: `WhatsApp: ${e.message}`, retryAfterMs: null })
              : new ActionPermanent({ code: "whatsapp_refused", message: `WhatsApp refused the message to ${to}: ${e.message}` })
          ))
        }
        return { after: { sentTo: recipients.length, channel: "whatsapp" }, summary: `sent ${recipients.length} WhatsApp digest${recipients.length === 1 ? "" : "s"}: ${subject}` }
      }
      for (const to of recipients) {
        yield* email.send({ to, subject: rendered.subject, text: rendered.text, html: rendered.html, messageId: emailMessageId(`${run.executionId}.${to}`) }).pipe(
          Effect.mapError((e) =>
            e._tag === "EmailTransient"
              ? new ActionTransient({ message: `the mail server did not take the message to ${to}: ${e.message}`, retryAfterMs: null })
              : new ActionPermanent({ code: e.bounce ? "bounced" : "email_refused", message: `the message to ${to} was refused: ${e.message}` })
          )
        )
      }
      return { after: { sentTo: recipients, subject: rendered.subject }, summary: `e-mailed ${recipients.join(", ")}: ${rendered.subject}` }
    }),
  undoHandler: () => Effect.fail(new ActionPermanent({ code: "already_sent", message: "an e-mail cannot be unsent" }))
}
