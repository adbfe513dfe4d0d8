/**
 * The emails Sumeru sends, as pure functions from their data to `{ subject, text, html }`
 * (the email channel's `EmailMessage` fields): a cart-recovery email to a shopper and a
 * digest to a merchant. Every value is merchant or shopper data, so the HTML escapes each
 * one, links only ever point at `http(s):` or `mailto:` targets (others are left out), and
 * the plain-text part reads on its own (text-only clients and spam filters read it).
 */

/** A rendered email: the subject line and the two alternative bodies. */
export interface RenderedEmail {
  readonly subject: string
  readonly text: string
  readonly html: string
}

export interface CartItem {
  readonly title: string
  readonly quantity: number
  /** The unit price as a decimal amount (Shopify's `MoneyV2.amount`, e.g. `"19.99"`). */
  readonly price: string | number
}

export interface CartRecoveryEmailInput {
  readonly shopName: string
  readonly customerFirstName?: string | undefined
  /** The abandoned checkout's recovery URL. */
  readonly checkoutUrl: string
  readonly items: ReadonlyArray<CartItem>
  /** ISO 4217 code of the prices, e.g. `EUR`. */
  readonly currency: string
  readonly unsubscribeUrl: string
}

export interface DigestLine {
  readonly label: string
  readonly value: string | number
}

export interface MerchantDigestEmailInput {
  readonly shopName: string
  readonly title: string
  readonly lines: ReadonlyArray<DigestLine>
  /** Where to read more, e.g. the admin page of the report; `label` defaults to "Open in Sumeru". */
  readonly link?: { readonly url: string; readonly label?: string | undefined } | undefined
}

// --------------------------------------------------------------------------- helpers

/** Text for an HTML element or a quoted attribute. */
export const escapeHtml = (value: string): string =>
  value.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;")

/** One line: a header or a list entry must not be split (or a header injected) by a newline. */
const oneLine = (value: string): string => value.replace(/[\r\n\t]+/g, " ").replace(/ {2,}/g, " ").trim()

/** A link target we show: `http(s):` or `mailto:` only (never `javascript:`, `data:`…). */
const linkable = (url: string): string | undefined => (/^(https?:\/\/|mailto:)/i.test(url.trim()) ? url.trim() : undefined)

/** An `href` value: a linkable URL, escaped, or `#`. */
const safeHref = (url: string): string => escapeHtml(linkable(url) ?? "#")

/** `label: url` for the plain-text part, or nothing when the URL is not linkable. */
const textLink = (label: string, url: string): ReadonlyArray<string> => {
  const target = linkable(url)
  return target === undefined ? [] : [`${label}: ${target}`]
}

const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/

/** A decimal amount as an exact scaled integer, or undefined when it is not a plain decimal. */
const parseDecimal = (amount: string | number): { readonly units: bigint; readonly scale: number } | undefined => {
  const match = DECIMAL.exec(String(amount).trim())
  if (match === null) return undefined
  const fraction = match[3] ?? ""
  const units = BigInt(`${match[2]}${fraction}`)
  return { units: match[1] === "-" ? -units : units, scale: fraction.length }
}

const decimalString = (units: bigint, scale: number): string => {
  const negative = units < 0n
  const digits = (negative ? -units : units).toString().padStart(scale + 1, "0")
  const whole = digits.slice(0, digits.length - scale)
  const fraction = digits.slice(digits.length - scale)
  return `${negative ? "-" : ""}${whole}${scale > 0 ? `.${fraction}` : ""}`
}

/** Σ quantity × price, exactly (no floating point), or undefined when a price is not a decimal. */
const lineTotal = (price: string | number, quantity: number): string | undefined => {
  const p = parseDecimal(price)
  return p === undefined || !Number.isInteger(quantity) ? undefined : decimalString(p.units * BigInt(quantity), p.scale)
}

const sumDecimals = (amounts: ReadonlyArray<string>): string => {
  const parsed = amounts.flatMap((a) => parseDecimal(a) ?? [])
  const scale = Math.max(0, ...parsed.map((p) => p.scale))
  const total = parsed.reduce((sum, p) => sum + p.units * 10n ** BigInt(scale - p.scale), 0n)
  return decimalString(total, scale)
}

/** `$39.98`, `39,98 €`…: the amount in `currency` (an unknown currency code shows as `39.98 XYZ`). */
const money = (amount: string, currency: string): string => {
  try {
    return new Intl.NumberFormat("en", { style: "currency", currency }).format(amount as Intl.StringNumericLiteral)
  } catch {
    return `${amount} ${currency}`
  }
}

/** The shared HTML frame: a centred 600px card, inline styles (what email clients honour). */
const htmlDocument = (title: string, body: string, footer: string): string =>
  [
    `<!doctype html>`,
    `<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title></head>`,
    `<body style="margin:0;padding:0;background:#f4f4f5;font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;color:#18181b;">`,
    `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f4f5;"><tr><td align="center" style="padding:24px 12px;">`,
    `<table role="presentation" width="600" cellpadding="0" cellspacing="0" style="width:100%;max-width:600px;background:#ffffff;border-radius:8px;">`,
    `<tr><td style="padding:28px 32px;font-size:15px;line-height:1.5;">${body}</td></tr>`,
    `<tr><td style="padding:16px 32px 28px;font-size:12px;line-height:1.5;color:#71717a;">${footer}</td></tr>`,
    `</table></td></tr></table></body></html>`
  ].join("\n")

const button = (href: string, label: string): string =>
  `<p style="margin:24px 0;"><a href="${safeHref(href)}" style="display:inline-block;padding:12px 20px;background:#18181b;color:#ffffff;text-decoration:none;border-radius:6px;font-weight:600;">${escapeHtml(label)}</a></p>`

// ------------------------------------------------------------------------- templates

/**
 * The email that brings a shopper back to an abandoned checkout: what they left (with line
 * and cart totals, computed exactly from the decimal prices), one button to the checkout,
 * and an unsubscribe link in the footer.
 */
export const cartRecoveryEmail = (input: CartRecoveryEmailInput): RenderedEmail => {
  const shop = oneLine(input.shopName)
  const firstName = input.customerFirstName === undefined ? "" : oneLine(input.customerFirstName)
  const lines = input.items.map((item) => {
    const total = lineTotal(item.price, item.quantity)
    return {
      title: oneLine(item.title),
      quantity: item.quantity,
      total,
      shown: total === undefined ? `${String(item.price)} ${input.currency}` : money(total, input.currency)
    }
  })
  const allPriced = lines.every((l) => l.total !== undefined)
  const total = allPriced ? money(sumDecimals(lines.map((l) => l.total as string)), input.currency) : undefined
  const count = input.items.reduce((n, item) => n + item.quantity, 0)
  const greeting = firstName === "" ? "Hi there," : `Hi ${firstName},`
  const intro = `You left ${count === 1 ? "an item" : "some items"} in your cart at ${shop}. They're saved for you:`
  const subject = firstName === "" ? `Your cart at ${shop} is waiting` : `${firstName}, your cart at ${shop} is waiting`
  const footer = `You're receiving this because you started a checkout at ${shop}.`

  const text = [
    greeting,
    "",
    intro,
    "",
    ...lines.map((l) => `  - ${l.quantity} × ${l.title}: ${l.shown}`),
    ...(total === undefined ? [] : ["", `Total: ${total}`]),
    "",
    ...textLink("Complete your order", input.checkoutUrl),
    "",
    "-- ",
    footer,
    ...textLink("Unsubscribe", input.unsubscribeUrl),
    ""
  ].join("\n")

  const rows = lines
    .map((l) =>
      `<tr><td style="padding:8px 0;border-bottom:1px solid #e4e4e7;">${escapeHtml(l.title)}</td>` +
      `<td align="center" style="padding:8px;border-bottom:1px solid #e4e4e7;white-space:nowrap;">× ${l.quantity}</td>` +
      `<td align="right" style="padding:8px 0;border-bottom:1px solid #e4e4e7;white-space:nowrap;">${escapeHtml(l.shown)}</td></tr>`
    )
    .join("\n")
  const totalRow = total === undefined
    ? ""
    : `\n<tr><td colspan="2" style="padding:12px 0 0;font-weight:600;">Total</td><td align="right" style="padding:12px 0 0;font-weight:600;white-space:nowrap;">${escapeHtml(total)}</td></tr>`
  const body = [
    `<h1 style="margin:0 0 16px;font-size:20px;">${escapeHtml(shop)}</h1>`,
    `<p style="margin:0 0 12px;">${escapeHtml(greeting)}</p>`,
    `<p style="margin:0 0 16px;">${escapeHtml(intro)}</p>`,
    `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="border-collapse:collapse;font-size:14px;">\n${rows}${totalRow}\n</table>`,
    button(input.checkoutUrl, "Complete your order")
  ].join("\n")
  const html = htmlDocument(
    subject,
    body,
    `${escapeHtml(footer)} <a href="${safeHref(input.unsubscribeUrl)}" style="color:#71717a;">Unsubscribe</a>`
  )
  return { subject, text, html }
}

/** A short report to the merchant: a title, label/value lines, and an optional link to more. */
export const merchantDigestEmail = (input: MerchantDigestEmailInput): RenderedEmail => {
  const shop = oneLine(input.shopName)
  const title = oneLine(input.title)
  const subject = `${shop}: ${title}`
  const lines = input.lines.map((l) => ({ label: oneLine(l.label), value: oneLine(String(l.value)) }))
  const linkLabel = input.link === undefined ? "" : oneLine(input.link.label ?? "Open in Sumeru")
  const footer = `Sent by Sumeru for ${shop}.`

  const text = [
    title,
    "",
    ...lines.map((l) => `${l.label}: ${l.value}`),
    ...(input.link === undefined ? [] : ["", ...textLink(linkLabel, input.link.url)]),
    "",
    "-- ",
    footer,
    ""
  ].join("\n")

  const rows = lines
    .map((l) =>
      `<tr><td style="padding:8px 16px 8px 0;border-bottom:1px solid #e4e4e7;color:#52525b;">${escapeHtml(l.label)}</td>` +
      `<td align="right" style="padding:8px 0;border-bottom:1px solid #e4e4e7;font-weight:600;">${escapeHtml(l.value)}</td></tr>`
    )
    .join("\n")
  const body = [
    `<p style="margin:0 0 4px;font-size:13px;color:#71717a;">${escapeHtml(shop)}</p>`,
    `<h1 style="margin:0 0 16px;font-size:20px;">${escapeHtml(title)}</h1>`,
    `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="border-collapse:collapse;font-size:14px;">\n${rows}\n</table>`,
    ...(input.link === undefined ? [] : [button(input.link.url, linkLabel)])
  ].join("\n")
  return { subject, text, html: htmlDocument(subject, body, escapeHtml(footer)) }
}
