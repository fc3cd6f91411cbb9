// `npm run bench`: every benchmark in sequence (pose, live, upload, analysis, soak), then one summary table of each
// figure against its goal. Figures are ratios against a baseline measured in the same run where a goal is relative;
// on a shared machine note the load average printed with each figure.
//   npm run bench                                   all of them, full size (pose alone takes several minutes)
//   npm run bench -- --only=upload,analysis         a subset (names: pose, live, auth, idle, realtime, upload, analysis, soak)
//   npm run bench -- --quick                        shorter runs (pose: cx only, no 60 s RSS run; live 5 s;
//                                                   upload 256 MiB once; analysis without the bare comparison;
//                                                   soak 60 s instead of 5 minutes)
//   npm run bench -- --strict                       exit code 1 when a goal is not met (default: only on a crash)
import os from 'node:os';

type Verdict = 'PASS' | 'FAIL' | 'info' | 'ERROR';
interface Row { bench: string; figure: string; value: string; goal: string; verdict: Verdict }

const BENCHES = ['pose', 'live', 'auth', 'idle', 'realtime', 'upload', 'analysis', 'soak'] as const;
type BenchName = (typeof BENCHES)[number];

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const strict = args.includes('--strict');
const onlyArg = args.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const selected: BenchName[] = onlyArg
  ? onlyArg.split(',').map((s) => s.trim()).filter(Boolean).map((name) => {
      if (!(BENCHES as readonly string[]).includes(name)) throw new Error(`unknown bench "${name}": use ${BENCHES.join(', ')}`);
      return name as BenchName;
    })
  : [...BENCHES];

const loadavg = (): string => os.loadavg().map((l) => l.toFixed(2)).join(' ');
const verdict = (met: boolean): Verdict => (met ? 'PASS' : 'FAIL');

async function pose(rows: Row[]): Promise<void> {
  const { runPoseBench } = await import('./pose.bench.ts');
  const r = await runPoseBench(quick ? { models: ['cx'], rssSeconds: 0 } : {});
  for (const m of r.models) {
    for (const b of m.bare) rows.push({ bench: 'pose', figure: `${m.model} bare ${b.workers}w fps`, value: b.fps.toFixed(2), goal: '', verdict: 'info' });
    for (const p of m.pipeline) rows.push({ bench: 'pose', figure: `${m.model} pipeline ${p.workers}w fps`, value: p.fps.toFixed(2), goal: '', verdict: 'info' });
  }
  for (const g of r.goals) rows.push({ bench: 'pose', figure: g.goal, value: g.value, goal: g.goal, verdict: verdict(g.met) });
}

async function live(rows: Row[]): Promise<void> {
  const { runLiveBench } = await import('./live.bench.ts');
  const r = await runLiveBench(quick ? { seconds: 5 } : {});
  rows.push({ bench: 'live', figure: 'bare route req/s', value: r.bare.requestsPerSecond.toFixed(0), goal: '', verdict: 'info' });
  rows.push({ bench: 'live', figure: 'event route events/s', value: r.event.requestsPerSecond.toFixed(0), goal: '', verdict: 'info' });
  rows.push({ bench: 'live', figure: 'event / bare throughput', value: r.ratio.toFixed(2), goal: '≥ 0.5', verdict: verdict(r.ratio >= 0.5) });
  rows.push({
    bench: 'live', figure: `delivery p99 at ${r.delivery.rate} events/s`, value: `${r.delivery.p99Ms.toFixed(2)} ms`, goal: '≤ 10 ms',
    verdict: verdict(r.delivery.p99Ms <= 10),
  });
  const d = r.delivery;
  if (d.coldStart) {
    rows.push({
      bench: 'live', figure: `delivery p99 over the server's first ${d.coldStart.seconds} s (cold, before the run)`,
      value: `${d.coldStart.p99Ms.toFixed(2)} ms`, goal: '', verdict: 'info',
    });
  }
  rows.push({ bench: 'live', figure: `delivery p50 at ${d.rate} events/s (${d.generator})`, value: `${d.p50Ms.toFixed(2)} ms`, goal: '', verdict: 'info' });
  rows.push({ bench: 'live', figure: 'delivery fan-out p99 (publish → socket write)', value: `${d.fanoutP99Ms.toFixed(2)} ms`, goal: '', verdict: 'info' });
  rows.push({ bench: 'live', figure: 'delivery write p99 (request parsed → committed)', value: `${d.writeP99Ms.toFixed(2)} ms`, goal: '', verdict: 'info' });
  rows.push({ bench: 'live', figure: 'delivery rate achieved', value: `${d.deliveredPerSecond.toFixed(0)} events/s`, goal: `${d.rate}`, verdict: 'info' });
  rows.push({ bench: 'live', figure: 'server CPU per event (delivery run)', value: `${d.serverCpuMsPerEvent.toFixed(2)} ms`, goal: '', verdict: 'info' });
  rows.push({
    bench: 'live', figure: 'server waiting for a CPU (delivery run)',
    value: d.serverRunQueueShare === null ? 'n/a' : `${(d.serverRunQueueShare * 100).toFixed(0)} %`, goal: '', verdict: 'info',
  });
}

async function auth(rows: Row[]): Promise<void> {
  const { runAuthBench } = await import('./auth.bench.ts');
  const r = await runAuthBench(quick ? { seconds: 4 } : {});
  rows.push({ bench: 'auth', figure: 'GET /api/health req/s', value: r.health.requestsPerSecond.toFixed(0), goal: '', verdict: 'info' });
  rows.push({ bench: 'auth', figure: 'GET /api/auth/me/ req/s', value: r.me.requestsPerSecond.toFixed(0), goal: '', verdict: 'info' });
  rows.push({ bench: 'auth', figure: 'auth/me / health', value: r.ratio.toFixed(2), goal: '≥ 0.5', verdict: verdict(r.ratio >= 0.5) });
}

async function idle(rows: Row[]): Promise<void> {
  const { runIdleBench, IDLE_RSS_GOAL_MB } = await import('./idle.bench.ts');
  const r = await runIdleBench({ runs: 1, holdSeconds: quick ? 0 : 60 });
  for (const [label, sample] of [['brand-new data dir', r.fresh], ['restart on the same dir', r.restart]] as const) {
    rows.push({
      bench: 'idle', figure: `serve RSS, nothing uploaded, ${label}`, value: `${sample.rssMb.toFixed(0)} MB`,
      goal: `< ${IDLE_RSS_GOAL_MB} MB`, verdict: verdict(sample.rssMb < IDLE_RSS_GOAL_MB),
    });
    if (sample.heldRssMb !== null) {
      rows.push({ bench: 'idle', figure: `  the same ${r.holdSeconds} s after health`, value: `${sample.heldRssMb.toFixed(0)} MB`, goal: '', verdict: 'info' });
    }
  }
}

async function realtime(rows: Row[]): Promise<void> {
  const { runRealtimeBench } = await import('./realtime.bench.ts');
  const r = await runRealtimeBench({ runs: quick ? 1 : 3 });
  rows.push({
    bench: 'realtime', figure: `demo clip (${r.clipSeconds.toFixed(1)} s, ${r.frames} frames at 1 in ${r.frameStep}) wall, start-up included`,
    value: `${(r.medianWallMs / 1000).toFixed(2)} s`, goal: '', verdict: 'info',
  });
  rows.push({ bench: 'realtime', figure: 'wall / clip duration', value: r.ratio.toFixed(2), goal: '≤ 1', verdict: verdict(r.ratio <= 1) });
  rows.push({
    bench: 'realtime', figure: `models alone / clip duration (${r.frames} × ${r.floor.landmarkMs.toFixed(0)} ms + ${r.floor.keyframes} × `
      + `${r.floor.locatorMs.toFixed(0)} ms CPU over ${r.floor.cores} cores)`, value: r.floor.ratio.toFixed(2), goal: '', verdict: 'info',
  });
  rows.push({ bench: 'realtime', figure: 'same result every run', value: String(r.identical), goal: 'true', verdict: verdict(r.identical) });
}

async function upload(rows: Row[]): Promise<void> {
  const { runUploadBench, RSS_GROWTH_GOAL_MIB } = await import('./upload.bench.ts');
  const r = await runUploadBench(quick ? { mib: 256, smallRepeats: 0 } : {});
  const m = r.main;
  rows.push({ bench: 'upload', figure: `${m.mib} MiB upload MiB/s`, value: m.uploadMiBps.toFixed(0), goal: '', verdict: 'info' });
  rows.push({ bench: 'upload', figure: 'plain file copy MiB/s (same run)', value: m.copyMiBps.toFixed(0), goal: '', verdict: 'info' });
  rows.push({ bench: 'upload', figure: 'upload / copy', value: m.ratio.toFixed(2), goal: '(reported)', verdict: 'info' });
  if (r.smallMedianRatio !== null) {
    rows.push({ bench: 'upload', figure: `upload / copy, median of ${r.runs.length - 1} smaller runs`, value: r.smallMedianRatio.toFixed(2), goal: '(reported)', verdict: 'info' });
  }
  rows.push({
    bench: 'upload', figure: `server RSS growth during ${m.mib} MiB upload`, value: `${m.growthMiB.toFixed(1)} MiB`,
    goal: `< ${RSS_GROWTH_GOAL_MIB} MiB${m.mib === 1024 ? '' : ' (goal is for 1 GiB)'}`, verdict: verdict(m.growthMiB < RSS_GROWTH_GOAL_MIB),
  });
  rows.push({ bench: 'upload', figure: 'upload answer', value: String(m.status), goal: '201', verdict: verdict(m.status === 201) });
}

async function analysis(rows: Row[]): Promise<void> {
  const { runAnalysisBench } = await import('./analysis.bench.ts');
  const r = await runAnalysisBench({ bare: !quick });
  rows.push({
    bench: 'analysis', figure: `2 views (image + ${r.videoSeconds} s video, ${r.videoFrames} frames), upload → completed`,
    value: `${(r.totalMs / 1000).toFixed(1)} s`, goal: 'completes (wall time reported)', verdict: verdict(r.status === 'completed'),
  });
  rows.push({ bench: 'analysis', figure: 'of which upload / queue wait', value: `${r.uploadMs.toFixed(0)} / ${r.queueWaitMs.toFixed(0)} ms`, goal: '', verdict: 'info' });
  if (r.bareMs !== null) {
    rows.push({ bench: 'analysis', figure: 'bare analyze work, same files and pool', value: `${(r.bareMs / 1000).toFixed(1)} s`, goal: '', verdict: 'info' });
    rows.push({ bench: 'analysis', figure: 'API total / bare', value: (r.totalMs / r.bareMs).toFixed(2), goal: '', verdict: 'info' });
    if (r.outputsMs !== null) {
      rows.push({ bench: 'analysis', figure: 'video overlay + chart / bare', value: (r.outputsMs / r.bareMs).toFixed(2), goal: '', verdict: 'info' });
    }
  }
}

async function soak(rows: Row[]): Promise<void> {
  const { runSoak } = await import('./soak.bench.ts');
  const r = await runSoak(quick ? { seconds: 60 } : {});
  const row = (figure: string, value: string, goal = '', v: Verdict = 'info') => rows.push({ bench: 'soak', figure, value, goal, verdict: v });
  row('mixed capacity (closed loop)', `${r.capacity.requestsPerSecond} req/s`);
  row(`${r.soak.seconds} s at ${r.soak.targetPerSecond} req/s: errors`, String(r.soak.errors), '0', verdict(r.soak.errors === 0));
  row('event / read / upload p99', `${r.soak.ops.event.p99Ms} / ${r.soak.ops.read.p99Ms} / ${r.soak.ops.upload.p99Ms} ms`);
  row('analyses completed', `${r.analyses.completed}/${r.analyses.uploaded}`, 'all', verdict(r.analyses.completed === r.analyses.uploaded));
  row('events read back / acknowledged', `${r.events.readBack}/${r.events.acknowledged}`, 'equal', verdict(r.events.readBack === r.events.acknowledged));
  row('server RSS start → mid → end', `${r.memory.startMb} → ${r.memory.midMb} → ${r.memory.endMb} MB`);
  row('RSS slope, second half', `${r.memory.slopeMbPerMinute} MB/min`, '< 2 MB/min (flat)', verdict(r.memory.slopeMbPerMinute < 2));
  row('JS heap start → mid → end', `${r.memory.heapStartMb} → ${r.memory.heapMidMb} → ${r.memory.heapEndMb} MB`);
  row('JS heap slope, second half', `${r.memory.heapSlopeMbPerMinute} MB/min`, '< 2 MB/min (flat)', verdict(r.memory.heapSlopeMbPerMinute < 2));
}

function printTable(rows: Row[]): void {
  const header: Row = { bench: 'bench', figure: 'figure', value: 'value', goal: 'goal', verdict: 'info' };
  const cols = ['bench', 'figure', 'value', 'goal'] as const;
  const width = Object.fromEntries(cols.map((c) => [c, Math.max(...[header, ...rows].map((r) => r[c].length))])) as Record<(typeof cols)[number], number>;
  const line = (r: Row, v: string) => `${cols.map((c) => r[c].padEnd(width[c])).join(' │ ')} │ ${v}`;
  console.log(`\nSummary (${os.availableParallelism()} CPUs, ${os.cpus()[0]?.model ?? 'unknown'}; load now ${loadavg()})`);
  console.log(line(header, 'result'));
  console.log(cols.map((c) => '─'.repeat(width[c])).join('─┼─') + '─┼───────');
  for (const r of rows) console.log(line(r, r.verdict === 'info' ? '' : r.verdict));
}

const runners: Record<BenchName, (rows: Row[]) => Promise<void>> = { pose, live, auth, idle, realtime, upload, analysis, soak };
const rows: Row[] = [];
let crashed = false;
for (const name of selected) {
  console.log(`\n=== ${name} bench (load ${loadavg()}) ===`);
  const t0 = performance.now();
  try {
    await runners[name](rows);
  } catch (error) {
    crashed = true;
    console.error(`${name} bench failed:`, error);
    rows.push({ bench: name, figure: 'run', value: String((error as Error)?.message ?? error).slice(0, 80), goal: 'runs', verdict: 'ERROR' });
  }
  console.log(`=== ${name} bench done in ${((performance.now() - t0) / 1000).toFixed(0)} s ===`);
}
printTable(rows);
if (crashed || (strict && rows.some((r) => r.verdict === 'FAIL'))) process.exitCode = 1;
