/**
 * The embedded database's in-memory wire connection (`adapters/postgres/PgliteWire.ts`), spoken
 * to in raw protocol messages: what the driver relies on beyond the statements every PGlite
 * suite runs through it — the SSL request refused, a message split over several writes, a
 * cancel request ignored, an answer too large for one piece, and a connection that closes
 * inside a transaction leaving no transaction behind for the next one.
 */
import { PGlite } from "@electric-sql/pglite"
import type { Duplex } from "node:stream"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { pgliteConnection } from "../../adapters/postgres/PgliteWire.ts"

let db: PGlite

beforeAll(async () => {
  db = new PGlite()
  await db.waitReady
  await db.exec("CREATE TABLE notes (id int PRIMARY KEY, body text)")
})

afterAll(async () => {
  await db?.close()
})

const int32 = (n: number) => {
  const b = Buffer.alloc(4)
  b.writeInt32BE(n)
  return b
}
const startup = () => {
  const body = Buffer.concat([int32(196608), Buffer.from("user\0postgres\0database\0postgres\0\0")])
  return Buffer.concat([int32(body.length + 4), body])
}
const sslRequest = () => Buffer.concat([int32(8), int32(80877103)])
const cancelRequest = () => Buffer.concat([int32(16), int32(80877102), int32(1), int32(2)])
const query = (text: string) => {
  const body = Buffer.from(`${text}\0`)
  return Buffer.concat([Buffer.from("Q"), int32(body.length + 4), body])
}

/** The connection's answers, as messages (after `skip` bytes: the one-byte answer to an SSL request). */
const answers = (connection: Duplex, skip = 0) => {
  let received = Buffer.alloc(0)
  const waiters: Array<() => void> = []
  connection.on("data", (chunk: Buffer) => {
    received = Buffer.concat([received, chunk])
    for (const w of waiters.splice(0)) w()
  })
  const messages = () => {
    const out: Array<{ type: string; body: Buffer }> = []
    for (let at = skip; at + 5 <= received.length;) {
      const length = received.readInt32BE(at + 1)
      out.push({ type: String.fromCharCode(received[at]!), body: received.subarray(at + 5, at + 1 + length) })
      at += 1 + length
    }
    return out
  }
  return {
    raw: () => received,
    /** Every message once `count` ReadyForQuery messages ('Z') came. */
    untilReady: async (count: number) => {
      while (messages().filter((m) => m.type === "Z").length < count) await new Promise<void>((resolve) => waiters.push(resolve))
      return messages()
    }
  }
}

/** A new connection past its startup: the session's first ReadyForQuery has come. */
const session = async () => {
  const connection = pgliteConnection(db)()
  const seen = answers(connection)
  connection.write(startup())
  await seen.untilReady(1)
  return { connection, seen }
}

describe("PGlite wire connection", () => {
  it("refuses SSL with 'N', then serves a session; a message split over writes is answered once", async () => {
    const connection = pgliteConnection(db)()
    const seen = answers(connection, 1)
    connection.write(sslRequest())
    connection.write(startup())
    await seen.untilReady(1)
    expect(seen.raw().subarray(0, 1).toString()).toBe("N")
    const insert = query("INSERT INTO notes VALUES (1, 'split') RETURNING body")
    connection.write(insert.subarray(0, 7))
    connection.write(insert.subarray(7))
    const messages = await seen.untilReady(2)
    const rows = messages.filter((m) => m.type === "D")
    expect(rows).toHaveLength(1)
    expect(rows[0]!.body.toString()).toContain("split")
    connection.destroy()
  })

  it("an answer larger than PGlite's buffers comes back whole, in order, and a second one after it", async () => {
    const { connection, seen } = await session()
    // 40 rows of 200 kB: PGlite hands such an answer over in many pieces, copied out one by one
    connection.write(query("SELECT n, repeat(chr(64 + n), 200000) AS body FROM generate_series(1, 40) AS n"))
    connection.write(query("SELECT 'after' AS body"))
    const messages = await seen.untilReady(3)
    const rows = messages.filter((m) => m.type === "D")
    expect(rows).toHaveLength(41)
    rows.slice(0, 40).forEach((row, i) => {
      const body = row.body.toString("latin1")
      expect(body.endsWith(String.fromCharCode(65 + i).repeat(200000))).toBe(true)
    })
    expect(rows[40]!.body.toString()).toContain("after")
    connection.destroy()
  })

  it("an error answers ErrorResponse and the session goes on", async () => {
    const { connection, seen } = await session()
    connection.write(query("SELECT * FROM no_such_table"))
    connection.write(query("SELECT count(*) FROM notes"))
    const messages = await seen.untilReady(3)
    expect(messages.map((m) => m.type).filter((t) => t === "E")).toHaveLength(1)
    expect(messages.filter((m) => m.type === "D")).toHaveLength(1)
    connection.destroy()
  })

  it("a connection that closes inside a transaction leaves none open: its writes are rolled back", async () => {
    const { connection: first, seen } = await session()
    first.write(query("BEGIN; INSERT INTO notes VALUES (2, 'uncommitted')"))
    await seen.untilReady(2)
    expect(db.isInTransaction()).toBe(true)
    await new Promise<void>((resolve) => first.destroy().once("close", () => resolve()))
    expect(db.isInTransaction()).toBe(false)

    const { connection: second, seen: next } = await session()
    second.write(query("SELECT id FROM notes ORDER BY id"))
    const rows = (await next.untilReady(2)).filter((m) => m.type === "D")
    expect(rows).toHaveLength(1) // note 1 only
    second.destroy()
  })

  it("a cancel request is ignored: nothing is answered and the database is untouched", async () => {
    const connection = pgliteConnection(db)()
    const seen = answers(connection)
    await new Promise<void>((resolve, reject) => connection.write(cancelRequest(), (e) => (e ? reject(e) : resolve())))
    expect(seen.raw()).toHaveLength(0)
    expect((await db.query<{ n: number }>("SELECT count(*)::int AS n FROM notes")).rows[0]!.n).toBe(1)
    connection.destroy()
  })
})
