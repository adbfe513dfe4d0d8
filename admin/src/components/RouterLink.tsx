/** Polaris's links (navigation, `url` actions) as client-side navigation within `/app`; external ones as plain links. */
import type { LinkLikeComponentProps } from "@shopify/polaris/build/ts/src/utilities/link"
import { Link } from "wouter"

export const RouterLink = ({ children, url, external, ...rest }: LinkLikeComponentProps) =>
  external === true || /^[a-z]+:/i.test(url)
    ? <a href={url} target="_blank" rel="noopener noreferrer" {...rest}>{children}</a>
    : <Link href={url} {...rest}>{children}</Link>
