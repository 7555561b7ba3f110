import { readFile } from 'node:fs/promises';
import { parse } from '../args.ts';
import { CliError, expectOk, usageError, withBrume } from '../cli-context.ts';

export const HOSTS_USAGE = `brume hosts import FILE.csv [--dry-run] [--all-or-nothing] [--as USER] [--json]
  Imports hosts from a FOG host CSV, one host a line:
    "00:c0:4f:18:62:63","Hostname","IP","Description","OS","Image name"
  Every line is checked first; the good lines are imported together and each
  rejected line is reported with its reason. --dry-run only reports.
  --all-or-nothing imports nothing if any line is bad. FILE "-" reads stdin.`;

export async function hostsCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { 'dry-run': { type: 'boolean' }, 'all-or-nothing': { type: 'boolean' } });
  const [sub, file] = positionals;
  if (values.help || sub !== 'import') {
    console.log(HOSTS_USAGE);
    return values.help ? 0 : 2;
  }
  if (!file) throw usageError('say which CSV file to import: brume hosts import FILE.csv');
  const csv = await readInput(file);
  return withBrume(values, async ({ brume, meta }) => {
    const onProgress = (stage: 'checking' | 'writing', count: number) =>
      process.stderr.write(stage === 'checking' ? `checking ${count} line(s)...\n` : `writing ${count} host(s) in one transaction...\n`);
    const report = expectOk(await brume.commands.hosts.importCsv(meta(), csv, { dryRun: values['dry-run'], allOrNothing: values['all-or-nothing'], onProgress }));
    if (values.json) {
      console.log(JSON.stringify(report, null, 2));
    } else {
      const verb = report.dryRun ? 'would import' : 'imported';
      console.log(`${verb} ${report.imported.length} host(s); rejected ${report.rejected.length} line(s)`);
      for (const line of report.imported) console.log(`  line ${line.line}: ${report.dryRun ? 'ok' : 'imported'} ${line.name} ${line.mac}`);
      for (const line of report.rejected) console.log(`  line ${line.line}: rejected: ${line.reason}`);
    }
    return report.rejected.length > 0 ? 1 : 0;
  });
}

async function readInput(file: string): Promise<string> {
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
}
