/**
 * Which browser origins may send a shop's pixel touchpoints (CORS): the shop's own
 * `https://<shop>.myshopify.com` always, plus the storefront's custom domains registered in
 * `storefront_origins`. Origins are compared in their canonical form (`scheme://host[:port]`,
 * lowercase, no path), exactly as browsers send the `Origin` header.
 */

/** The origin every shop's storefront has. */
export const shopOrigin = (shop: string): string => `https://${shop}`

/**
 * The canonical origin of `input` (`https://Shop.Example.com/` → `https://shop.example.com`),
 * or `undefined` if it is not an http(s) origin (a path, query or credentials are refused, not
 * silently dropped: a registered origin must be exactly what a browser sends).
 */
export const normalizeOrigin = (input: string): string | undefined => {
  if (!URL.canParse(input)) return undefined
  const url = new URL(input)
  if (url.protocol !== "https:" && url.protocol !== "http:") return undefined
  if (url.username !== "" || url.password !== "" || url.search !== "" || url.hash !== "") return undefined
  if (url.pathname !== "/" && url.pathname !== "") return undefined
  return url.origin
}
