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

/** A product's SEO fields and what templates may use. */
export const PRODUCT_SEO = `query SumeruActionProductSeo($id: ID!) {
  product(id: $id) { id title vendor productType handle seo { title description } marker: metafield(namespace: "sumeru", key: "seo_execution") { value } }
}`

/** `productUpdate` of a product's SEO title and description (2026-07: `product: ProductUpdateInput`). */
export const PRODUCT_SEO_UPDATE = `mutation SumeruActionProductSeoUpdate($product: ProductUpdateInput!) {
  productUpdate(product: $product) { product { id seo { title description } } userErrors { field message } }
}`

/**
 * A page's title, handle, publication and SEO: pages have no `seo` field; Shopify keeps a page's
 * SEO title and description in the `global.title_tag` / `global.description_tag` metafields.
 */
export const PAGE_SEO = `query SumeruActionPageSeo($id: ID!) {
  page(id: $id) {
    id title handle isPublished
    titleTag: metafield(namespace: "global", key: "title_tag") { value }
    descriptionTag: metafield(namespace: "global", key: "description_tag") { value }
    marker: metafield(namespace: "sumeru", key: "seo_execution") { value }
  }
}`

/**
 * SEO written by the AI gateway (`update_seo_meta` mode generate): the title and description
 * metafields Shopify keeps them in, and the marker naming the execution, in one atomic call.
 */
export const SEO_METAFIELDS_SET = `mutation SumeruActionSeoSet($metafields: [MetafieldsSetInput!]!) {
  metafieldsSet(metafields: $metafields) { metafields { key namespace } userErrors { field message } }
}`

/** `pageUpdate`: a page's SEO metafields, or whether it is published. */
export const PAGE_UPDATE = `mutation SumeruActionPageUpdate($id: ID!, $page: PageUpdateInput!) {
  pageUpdate(id: $id, page: $page) { page { id isPublished } userErrors { field message } }
}`

/** Removes metafields (a page's SEO tag that did not exist before the action). */
export const METAFIELDS_DELETE = `mutation SumeruActionMetafieldsDelete($metafields: [MetafieldIdentifierInput!]!) {
  metafieldsDelete(metafields: $metafields) { deletedMetafields { key namespace ownerId } userErrors { field message } }
}`

/** The redirect of a path, if any (`path:` is an exact match). */
export const URL_REDIRECTS_BY_PATH = `query SumeruActionUrlRedirects($query: String!) {
  urlRedirects(first: 5, query: $query) { nodes { id path target } }
}`

export const URL_REDIRECT = `query SumeruActionUrlRedirect($id: ID!) {
  urlRedirect(id: $id) { id path target }
}`

export const URL_REDIRECT_CREATE = `mutation SumeruActionUrlRedirectCreate($urlRedirect: UrlRedirectInput!) {
  urlRedirectCreate(urlRedirect: $urlRedirect) { urlRedirect { id path target } userErrors { field message } }
}`

export const URL_REDIRECT_DELETE = `mutation SumeruActionUrlRedirectDelete($id: ID!) {
  urlRedirectDelete(id: $id) { deletedUrlRedirectId userErrors { field message } }
}`

/** The shop's sales channels' publications (to find "Google & YouTube" and "Online Store" by name). */
export const PUBLICATIONS = `query SumeruActionPublications {
  publications(first: 50) { nodes { id name } }
}`

/** A product's tags and whether it is published on one publication. */
export const PRODUCT_PUBLICATION = `query SumeruActionProductPublication($id: ID!, $publicationId: ID!) {
  product(id: $id) { id title tags publishedOnPublication(publicationId: $publicationId) }
}`

export const PUBLISHABLE_PUBLISH = `mutation SumeruActionPublish($id: ID!, $input: [PublicationInput!]!) {
  publishablePublish(id: $id, input: $input) { userErrors { field message } }
}`

export const PUBLISHABLE_UNPUBLISH = `mutation SumeruActionUnpublish($id: ID!, $input: [PublicationInput!]!) {
  publishableUnpublish(id: $id, input: $input) { userErrors { field message } }
}`

/** A product's or page's title, text and FAQ structured data (`add_faq_structured_data`), by id. */
export const FAQ_RESOURCE = `query SumeruActionFaqResource($id: ID!) {
  node(id: $id) {
    ... on Product { id title description faq: metafield(namespace: "sumeru", key: "faq_jsonld") { value } marker: metafield(namespace: "sumeru", key: "faq_execution") { value } }
    ... on Page { id title body faq: metafield(namespace: "sumeru", key: "faq_jsonld") { value } marker: metafield(namespace: "sumeru", key: "faq_execution") { value } }
  }
}`

/** A product by its handle (a storefront URL's `/products/<handle>`). */
export const PRODUCT_BY_HANDLE = `query SumeruActionProductByHandle($query: String!) {
  products(first: 1, query: $query) { nodes { id handle } }
}`

/** A page by its handle (a storefront URL's `/pages/<handle>`). */
export const PAGE_BY_HANDLE = `query SumeruActionPageByHandle($query: String!) {
  pages(first: 1, query: $query) { nodes { id handle } }
}`

/** The FAQ structured data and the marker naming the execution that wrote it. */
export const FAQ_METAFIELDS_SET = `mutation SumeruActionFaqSet($metafields: [MetafieldsSetInput!]!) {
  metafieldsSet(metafields: $metafields) { metafields { key namespace } userErrors { field message } }
}`

export const FAQ_METAFIELDS_DELETE = METAFIELDS_DELETE

/** A blog post by its handle (a storefront URL's `/blogs/<blog>/<handle>`), with its blog. */
export const ARTICLES_BY_HANDLE = `query SumeruActionArticlesByHandle($query: String!) {
  articles(first: 10, query: $query) { nodes { id handle title body isPublished blog { id handle } } }
}`

/** A blog post as an action reads it before and after changing it. */
export const ARTICLE = `query SumeruActionArticle($id: ID!) {
  article(id: $id) { id handle title body isPublished blog { id handle } }
}`

export const ARTICLE_UPDATE = `mutation SumeruActionArticleUpdate($id: ID!, $article: ArticleUpdateInput!) {
  articleUpdate(id: $id, article: $article) { article { id body } userErrors { field message } }
}`

export const ARTICLE_CREATE = `mutation SumeruActionArticleCreate($article: ArticleCreateInput!) {
  articleCreate(article: $article) { article { id handle isPublished } userErrors { field message } }
}`

export const ARTICLE_DELETE = `mutation SumeruActionArticleDelete($id: ID!) {
  articleDelete(id: $id) { deletedArticleId userErrors { field message } }
}`

/** The shop's blogs (where a content brief is drafted). */
export const BLOGS = `query SumeruActionBlogs {
  blogs(first: 50) { nodes { id handle title } }
}`
