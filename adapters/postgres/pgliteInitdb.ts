/**
 * A process of its own that creates the embedded database's cluster in the directory given as
 * its argument, then exits. `layerEmbedded` (Database.ts) runs it for a new data directory:
 * creating a cluster (PGlite's initdb, a second WebAssembly module) peaks at ~1 GB and leaves
 * its freed memory fragmented in whichever process ran it, which is then the server for as long
 * as it runs. Here it goes with the process.
 */
import { PGlite } from "@electric-sql/pglite"

const dataDir = process.argv[2]
if (dataDir === undefined || dataDir === "") throw new Error("usage: pgliteInitdb.ts <data directory>")
const db = new PGlite(dataDir)
await db.waitReady
await db.close()
