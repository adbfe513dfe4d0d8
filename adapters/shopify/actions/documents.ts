/**
 * The GraphQL documents of the decision plane's Shopify actions (Admin API 2026-07);
 * `test/shopify/actionDocuments.test.ts` validates every one against the real schema.
 */

/** The snapshot of a product before an action changes it. */
export const PRODUCT_SNAPSHOT = `query SumeruActionProductSnapshot($id: ID!) {
  product(id: $id) { id title tags }
}`

/** A product's tags as a handler finds them (to look its effect up before repeating it). */
export const PRODUCT_TAGS = `query SumeruActionProductTags($id: ID!) {
  product(id: $id) { id title tags }
}`

export const TAGS_ADD = `mutation SumeruActionTagsAdd($id: ID!, $tags: [String!]!) {
  tagsAdd(id: $id, tags: $tags) { node { id } userErrors { field message } }
}`

export const TAGS_REMOVE = `mutation SumeruActionTagsRemove($id: ID!, $tags: [String!]!) {
  tagsRemove(id: $id, tags: $tags) { node { id } userErrors { field message } }
}`
