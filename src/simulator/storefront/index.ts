/**
 * A Shopify storefront simulator (see `simulator.ts`): Dawn-like HTML for products, pages and
 * articles, Shopify's default robots.txt and sitemap index, deliberate SEO faults on demand —
 * what the site audit crawls in tests and the demo.
 */
export { demoStorefront, fillerText, shopifyRobots, startStorefrontSimulator } from "./simulator.ts"
export type {
  RunningStorefrontSimulator,
  StorefrontArticle,
  StorefrontBrokenLink,
  StorefrontImage,
  StorefrontOptions,
  StorefrontPage,
  StorefrontProduct,
  StorefrontQuirk
} from "./simulator.ts"
