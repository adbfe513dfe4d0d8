/**
 * Process measurements: this process's CPU and peak RSS, and the CPU time of a PostgreSQL
 * server (postmaster and all its children) from /proc, so each row shows where time went.
 */
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"

const CLOCK_TICKS = 100 // getconf CLK_TCK on Linux

/** CPU seconds used so far by the postmaster `pid` and its children (null when unreadable). */
export const serverCpuSeconds = (postmasterPid: number | null): number | null => {
  if (postmasterPid === null) return null
  let ticks = 0
  let found = false
  let entries: Array<string>
  try {
    entries = readdirSync("/proc")
  } catch {
    return null
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue
    let stat: string
    try {
      stat = readFileSync(join("/proc", entry, "stat"), "utf8")
    } catch {
      continue // exited meanwhile
    }
    // pid (comm) state ppid ... ; comm may contain spaces, so split after the last ')'
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    const pid = Number(entry)
    const ppid = Number(rest[1])
    if (pid !== postmasterPid && ppid !== postmasterPid) continue
    found = true
    ticks += Number(rest[11]) + Number(rest[12]) // utime + stime (fields 14, 15)
  }
  return found ? ticks / CLOCK_TICKS : null
}

/** The postmaster's pid from its data directory's `postmaster.pid` (first line). */
export const postmasterPidOf = (dataDirectory: string): number | null => {
  try {
    const pid = Number(readFileSync(join(dataDirectory, "postmaster.pid"), "utf8").split("\n")[0])
    return Number.isInteger(pid) && pid > 0 ? pid : null
  } catch {
    return null
  }
}

export const peakRssMb = (): number => process.resourceUsage().maxRSS / 1024

export const processCpuSeconds = (): number => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1e6
}

/** Busy CPU seconds of the whole machine so far (all processes, from /proc/stat), null when unreadable. */
export const machineBusySeconds = (): number | null => {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0]!
    const f = line.trim().split(/\s+/).slice(1).map(Number)
    // user nice system idle iowait irq softirq steal
    const busy = f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + f[7]!
    return busy / CLOCK_TICKS
  } catch {
    return null
  }
}
