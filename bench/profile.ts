/**
 * Summarises a .cpuprofile (from BENCH_CPU_PROF=1): where the server's CPU time goes.
 *
 *   npx tsx bench/profile.ts bench/profiles/switchboard-<time>/CPU.*.cpuprofile [--top 30] [--skip 3]
 *
 * Prints self time by package/source file, then the functions with the most self and inclusive
 * time (inclusive counts a function once per sample even when it recurses). `--skip S` ignores the
 * first S seconds (start-up and module loading).
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const args = process.argv.slice(2);
const topIdx = args.indexOf('--top');
const top = topIdx >= 0 ? Number(args.splice(topIdx, 2)[1]) : 25;
const skipIdx = args.indexOf('--skip');
const skipUs = skipIdx >= 0 ? Number(args.splice(skipIdx, 2)[1]) * 1e6 : 0;
if (!args.length) {
  process.stderr.write('usage: tsx bench/profile.ts <file.cpuprofile> [--top N]\n');
  process.exit(2);
}

/** A short place name: npm package, src/ path, node: internal, or a V8 pseudo-frame. */
function place(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.startsWith('node:')) return url;
  const src = url.search(/\/(src|bench|test)\//);
  return src >= 0 ? url.slice(src + 1) : url;
}

for (const file of args) {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  let t = 0;
  const samples = p.samples.filter((_, i) => (t += p.timeDeltas[i]) >= skipUs);
  const total = samples.length;
  const ms = (p.endTime - p.startTime - skipUs) / 1000;
  const pct = (n: number) => `${((100 * n) / total).toFixed(1).padStart(5)}%`;

  const selfByPlace = new Map<string, number>();
  const selfByFn = new Map<string, number>();
  const inclByFn = new Map<string, number>();
  const key = (n: Node) => `${n.callFrame.functionName || '(anonymous)'}  ${place(n.callFrame.url, n.callFrame.functionName)}:${n.callFrame.lineNumber + 1}`;
  for (const id of samples) {
    const n = byId.get(id)!;
    const pl = place(n.callFrame.url, n.callFrame.functionName);
    selfByPlace.set(pl, (selfByPlace.get(pl) ?? 0) + 1);
    selfByFn.set(key(n), (selfByFn.get(key(n)) ?? 0) + 1);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const k = key(byId.get(cur)!);
      if (seen.has(k)) continue;
      seen.add(k);
      inclByFn.set(k, (inclByFn.get(k) ?? 0) + 1);
    }
  }
  const idle = selfByPlace.get('(idle)') ?? 0;
  const print = (title: string, m: Map<string, number>) => {
    process.stdout.write(`\n${title}\n`);
    for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`  ${pct(v)}  ${k}\n`);
  };
  process.stdout.write(`${file}: ${total} samples over ${ms.toFixed(0)} ms, ${pct(idle).trim()} idle\n`);
  print('self time by place', selfByPlace);
  print('self time by function', selfByFn);
  print('inclusive time by function', inclByFn);
}
