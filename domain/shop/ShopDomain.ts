/** A shop's permanent domain, as Shopify sends it: `<name>.myshopify.com`, lowercase. */
export const SHOP_DOMAIN = /^[a-z0-9][a-z0-9-]{0,59}\.myshopify\.com$/

export const isShopDomain = (value: string): boolean => SHOP_DOMAIN.test(value)
