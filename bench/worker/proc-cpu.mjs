// workerd's CPU time, read from /proc for the bench scripts (run.mjs, cpu.mjs, cold.mjs).
//
// /proc/PID/stat counts user + system time in clock ticks of 10 ms, so a batch of 10 requests
// reads in steps of 1 ms a request: the 126k pre-flight row read 5.00 or 3.00 ms, never
// between. The scheduler's own figure, the first field of /proc/PID/task/TID/schedstat, is the
// time each thread has run, in ns. Summed over the live threads it misses the time of a thread
// that exited between two readings, so `cpuSample` also returns the thread ids: a caller compares
// them across a batch and says so when they changed (the figure is then too low).
import fs from "node:fs";

/** `{ us, tids }`: CPU time of PID's live threads so far in µs, and their ids joined. */
export function cpuSample(pid) {
  const tids = fs.readdirSync(`/proc/${pid}/task`).sort();
  let ns = 0;
  for (const tid of tids) ns += Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
  return { us: ns / 1e3, tids: tids.join(",") };
}

/**
 * Measures PID's CPU time over `work` (an async function): `{ us, stable }`, where `stable` is
 * false when a thread started or ended meanwhile.
 */
export async function cpuDuring(pid, work) {
  const a = cpuSample(pid);
  await work();
  const b = cpuSample(pid);
  return { us: b.us - a.us, stable: a.tids === b.tids };
}
