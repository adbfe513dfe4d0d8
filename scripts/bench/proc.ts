/**
 * Process measurements for every benchmark, from /proc: this process's CPU and peak RSS, the
 * CPU time of another process (and its children: a PostgreSQL postmaster), peak RSS of a pid,
 * and the whole machine's busy time, so each row shows where time went.
 */
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"

const CLOCK_TICKS = 100 // getconf CLK_TCK on Linux

const statFields = (pid: number): Array<string> | null => {
  try {
    const stat = readFileSync(join("/proc", String(pid), "stat"), "utf8")
    // pid (comm) state ppid …: comm may hold spaces, split after the last ')'
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")
  } catch {
    return null // exited meanwhile, or no /proc
  }
}

export const parentPid = (pid: number): number | null => {
  const f = statFields(pid)
  return f === null ? null : Number(f[1])
}

/** CPU seconds of `pid` (and, with `children`, of every process whose parent it is). */
export const cpuSecondsOf = (pid: number | null, children: boolean): number | null => {
  if (pid === null) return null
  if (!children) {
    const f = statFields(pid)
    return f === null ? null : (Number(f[11]) + Number(f[12])) / CLOCK_TICKS
  }
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
    const p = Number(entry)
    const f = statFields(p)
    if (f === null) continue
    if (p !== pid && Number(f[1]) !== pid) continue
    found = true
    ticks += Number(f[11]) + Number(f[12]) // utime + stime
  }
  return found ? ticks / CLOCK_TICKS : null
}

/** CPU seconds used so far by the postmaster `pid` and its children (null when unreadable). */
export const serverCpuSeconds = (postmasterPid: number | null): number | null => cpuSecondsOf(postmasterPid, true)

/** A memory field of `pid`'s /proc status, MB (null when unreadable). */
const statusMb = (pid: number | null, field: "VmHWM" | "VmRSS"): number | null => {
  if (pid === null) return null
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(join("/proc", String(pid), "status"), "utf8"))
    return m === null ? null : Number(m[1]) / 1024
  } catch {
    return null
  }
}

/** Peak resident set of `pid` (VmHWM), MB. */
export const peakRssOfPid = (pid: number | null): number | null => statusMb(pid, "VmHWM")

/** Resident set of `pid` now (VmRSS), MB. */
export const rssOfPid = (pid: number | null): number | null => statusMb(pid, "VmRSS")

/** The pid of the process listening with this command name and argument (e.g. nats-server, port). */
export const findPidByCmdline = (name: string, arg: string): number | null => {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const argv = readFileSync(join("/proc", entry, "cmdline"), "utf8").split("\0")
      if (argv[0]?.endsWith(name) && argv.includes(arg)) return Number(entry)
    } catch {
      // exited meanwhile
    }
  }
  return null
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

/**
 * This process's peak resident set, MB: VmHWM where there is /proc. Not getrusage's maxRSS
 * there: Linux carries it across exec, so a forked child's starts at its parent's resident set.
 */
export const peakRssMb = (): number => statusMb(process.pid, "VmHWM") ?? process.resourceUsage().maxRSS / 1024

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
