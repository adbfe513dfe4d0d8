/**
 * Tombstones of shredded data-key subjects. Shopify retries a webhook for hours and delivers
 * late: an old `customers/update` arriving after `customers/redact` must not get a fresh data
 * key for the customer and bring their personal data back readable. A subject named here gets
 * no new key (`PiiVault.seal` fails `SubjectShredded`; callers keep the event without the
 * personal data). `shop/redact` removes the shop's tombstones with everything else.
 * Like the keys themselves, never readable by the tenant role.
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    CREATE TABLE shredded_subjects (
      shop         text NOT NULL,
      subject      text NOT NULL,
      shredded_at  timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (shop, subject)
    )`
  yield* sql`REVOKE ALL ON shredded_subjects FROM PUBLIC`
  yield* sql`REVOKE ALL ON shredded_subjects FROM sumeru_tenant`
  yield* sql`ALTER TABLE shredded_subjects ENABLE ROW LEVEL SECURITY`
})
