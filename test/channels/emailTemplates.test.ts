/**
 * The email templates are pure: merchant and shopper data is escaped in the HTML, links
 * only point at http(s)/mailto targets, amounts are exact, and the text part reads alone.
 */
import { describe, expect, it } from "vitest"
import { cartRecoveryEmail, escapeHtml, merchantDigestEmail } from "../../domain/channels/emailTemplates.ts"

const cart = {
  shopName: "Acme & Co",
  customerFirstName: "Ada",
  checkoutUrl: "https://acme.test/checkouts/c1/recover?key=k1&utm=email",
  items: [
    { title: "Blue T-shirt", quantity: 3, price: "0.10" },
    { title: "Socks", quantity: 1, price: "19.99" }
  ],
  currency: "USD",
  unsubscribeUrl: "https://sumeru.test/u/tok1"
}

describe("cartRecoveryEmail", () => {
  it("escapes a product title with <script> in the HTML and keeps it readable in the text", () => {
    const email = cartRecoveryEmail({ ...cart, items: [{ title: `<script>alert("x")</script> Tee`, quantity: 1, price: "5" }] })
    expect(email.html).not.toContain("<script>")
    expect(email.html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Tee")
    expect(email.text).toContain(`1 × <script>alert("x")</script> Tee: $5.00`)
  })

  it("escapes the shop and customer names and the link query string", () => {
    const email = cartRecoveryEmail({ ...cart, customerFirstName: `<img src=x onerror="steal()">` })
    expect(email.html).not.toMatch(/<img/)
    expect(email.html).toContain("Acme &amp; Co")
    expect(email.html).toContain(`href="https://acme.test/checkouts/c1/recover?key=k1&amp;utm=email"`)
    expect(email.subject).toBe(`<img src=x onerror="steal()">, your cart at Acme & Co is waiting`)
  })

  it("lists the items with exact line and cart totals in a plain text that reads on its own", () => {
    const email = cartRecoveryEmail(cart)
    expect(email.subject).toBe("Ada, your cart at Acme & Co is waiting")
    expect(email.text).toBe([
      "Hi Ada,",
      "",
      "You left some items in your cart at Acme & Co. They're saved for you:",
      "",
      "  - 3 × Blue T-shirt: $0.30",
      "  - 1 × Socks: $19.99",
      "",
      "Total: $20.29",
      "",
      "Complete your order: https://acme.test/checkouts/c1/recover?key=k1&utm=email",
      "",
      "-- ",
      "You're receiving this because you started a checkout at Acme & Co.",
      "Unsubscribe: https://sumeru.test/u/tok1",
      ""
    ].join("\n"))
    expect(email.html).toContain("$20.29")
    expect(email.html).toContain(`<a href="https://sumeru.test/u/tok1"`)
  })

  it("greets without a name, and never links a javascript: URL", () => {
    const email = cartRecoveryEmail({ ...cart, customerFirstName: undefined, unsubscribeUrl: "javascript:alert(1)" })
    expect(email.subject).toBe("Your cart at Acme & Co is waiting")
    expect(email.text.startsWith("Hi there,\n")).toBe(true)
    expect(email.html).not.toContain("javascript:")
    expect(email.text).not.toContain("javascript:")
  })

  it("formats amounts in the cart's currency; a price that is not a decimal is shown as given, without a total", () => {
    const euros = cartRecoveryEmail({ ...cart, currency: "EUR" })
    expect(euros.text).toContain("Total: €20.29")
    const odd = cartRecoveryEmail({ ...cart, items: [{ title: "Gift", quantity: 1, price: "free" }] })
    expect(odd.text).toContain("1 × Gift: free USD")
    expect(odd.text).not.toContain("Total:")
  })
})

describe("merchantDigestEmail", () => {
  it("renders title, lines and link, escaped in the HTML and readable as text", () => {
    const email = merchantDigestEmail({
      shopName: "Acme",
      title: "Daily <b>summary</b>",
      lines: [{ label: "Orders", value: 12 }, { label: "Top product", value: `"Tee" <script>` }],
      link: { url: "https://sumeru.test/reports/1", label: "Open the report" }
    })
    expect(email.subject).toBe("Acme: Daily <b>summary</b>")
    expect(email.html).toContain("Daily &lt;b&gt;summary&lt;/b&gt;")
    expect(email.html).toContain("&quot;Tee&quot; &lt;script&gt;")
    expect(email.html).not.toMatch(/<script|<b>/)
    expect(email.html).toContain(`href="https://sumeru.test/reports/1"`)
    expect(email.text).toBe([
      "Daily <b>summary</b>",
      "",
      "Orders: 12",
      `Top product: "Tee" <script>`,
      "",
      "Open the report: https://sumeru.test/reports/1",
      "",
      "-- ",
      "Sent by Sumeru for Acme.",
      ""
    ].join("\n"))
  })

  it("keeps headers on one line", () => {
    expect(merchantDigestEmail({ shopName: "Acme", title: "Weekly\r\nBcc: victim@example.com", lines: [] }).subject)
      .toBe("Acme: Weekly Bcc: victim@example.com")
  })
})

describe("escapeHtml", () => {
  it("escapes the five characters that matter in text and attributes", () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe("&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;")
  })
})
