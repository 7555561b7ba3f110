import { useMemo, useState } from 'preact/hooks';
import { api } from '../api.ts';
import { ErrorMessage } from '../components/error-message.tsx';
import { FieldError, fieldProps } from '../components/field-error.tsx';
import { formatBytes, formatCount } from '../components/format-bytes.ts';
import { NotAllowed } from '../components/not-allowed.tsx';
import { PageHeading } from '../components/page-heading.tsx';
import type { ImportReport } from '../components/registry-types.ts';
import { href } from '../router.ts';
import { useSession } from '../session.ts';

const FORM = 'import';
/** Past this the file is not put in the text box (a 50,000-line export would make typing in it crawl). */
const EDITABLE_LIMIT = 256 * 1024;
/** Rows of a report shown before "show all". */
const SHOWN = 200;
const EXAMPLE = '"00:c0:4f:18:62:63","lab-01","192.0.2.10","Room 2","","win11"';

/** The physical lines of the text, as the report numbers them (1-based; CRLF, LF or CR). */
export function sourceLines(text: string): string[] {
  return (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).split(/\r\n|\r|\n/);
}

/** POST /api/hosts/import with the CSV as text/csv; `dryRun` checks without recording. */
export function importHosts(csv: string, options: { dryRun: boolean; allOrNothing: boolean }): Promise<ImportReport> {
  return api('POST', '/api/hosts/import', {
    body: csv,
    headers: { 'content-type': 'text/csv' },
    query: { dryRun: options.dryRun || undefined, allOrNothing: options.allOrNothing || undefined },
  });
}

/**
 * Hosts from a FOG CSV export (pasted or chosen): checked first (dry run)
 * with a per-line report, accepted lines and rejected ones with the reason,
 * then imported in one go. The check and the import read the same text:
 * change it and it must be checked again.
 */
export function HostImportPage() {
  const session = useSession();
  const [text, setText] = useState('');
  const [fileName, setFileName] = useState<string | null>(null);
  const [allOrNothing, setAllOrNothing] = useState(false);
  const [checked, setChecked] = useState<{ text: string; report: ImportReport } | null>(null);
  const [committed, setCommitted] = useState<{ text: string; report: ImportReport } | null>(null);
  const [busy, setBusy] = useState<'check' | 'import' | null>(null);
  const [error, setError] = useState<unknown>(null);

  const lineCount = useMemo(() => (text ? sourceLines(text.replace(/(\r\n|\r|\n)$/, '')).length : 0), [text]);
  if (!session.can('hosts:write')) {
    return (
      <section>
        <p class="crumbs"><a href={href('hosts')}>Hosts</a> /</p>
        <PageHeading title="Import hosts" />
        <NotAllowed what="import hosts" />
      </section>
    );
  }

  const upToDate = checked !== null && checked.text === text;
  const accepted = upToDate ? checked.report.imported.length : 0;
  const blocked = upToDate && allOrNothing && checked.report.rejected.length > 0;

  function change(next: string, name: string | null) {
    setText(next);
    setFileName(name);
    setCommitted(null);
    setError(null);
  }

  async function choose(event: Event) {
    const file = (event.currentTarget as HTMLInputElement).files?.[0];
    if (!file) return;
    change(await file.text(), file.name);
  }

  async function run(dryRun: boolean) {
    setBusy(dryRun ? 'check' : 'import');
    setError(null);
    try {
      const report = await importHosts(text, { dryRun, allOrNothing });
      if (dryRun) setChecked({ text, report });
      else {
        setCommitted({ text, report });
        setChecked(null);
      }
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(null);
    }
  }

  const large = text.length > EDITABLE_LIMIT;
  return (
    <section class="import-page">
      <p class="crumbs"><a href={href('hosts')}>Hosts</a> /</p>
      <PageHeading title="Import hosts from CSV" />
      <p>
        FOG's host export: one host a line, <code>"mac","name","ip","description","os","image name"</code> (the last four may be empty).
        The file is checked first; nothing is recorded until you import.
      </p>
      <form class="form" onSubmit={(e) => { e.preventDefault(); void run(true); }}>
        <label>Choose a file
          <input type="file" accept=".csv,text/csv,text/plain" onChange={choose} />
        </label>
        {large ? (
          <div class="file-summary" id={fieldProps(FORM, 'body', error).id} tabIndex={-1}>
            <p><strong>{fileName ?? 'pasted text'}</strong>: {formatCount(lineCount)} lines, {formatBytes(text.length)} (too large to edit here).</p>
            <button type="button" class="secondary" onClick={() => change('', null)}>Clear</button>
          </div>
        ) : (
          <label>Or paste the lines
            <textarea {...fieldProps(FORM, 'body', error)} class="mono csv" rows={8} value={text} placeholder={EXAMPLE} spellcheck={false} wrap="off"
              onInput={(e) => change(e.currentTarget.value, null)} />
          </label>
        )}
        <FieldError form={FORM} field="body" error={error} />
        <label class="check">
          <input type="checkbox" checked={allOrNothing} onChange={(e) => setAllOrNothing(e.currentTarget.checked)} />
          All or nothing: import no line if any line is rejected
        </label>
        <ErrorMessage error={error} shownByFields={['body']} />
        <div class="form-actions">
          <button type="submit" disabled={busy !== null || text.trim() === ''}>{busy === 'check' ? 'Checking…' : upToDate ? 'Check again' : 'Check the file'}</button>
          <button type="button" disabled={busy !== null || !upToDate || accepted === 0 || blocked} onClick={() => void run(false)}
            aria-describedby="import-why">
            {busy === 'import' ? 'Importing…' : upToDate ? `Import ${formatCount(accepted)} ${accepted === 1 ? 'host' : 'hosts'}` : 'Import'}
          </button>
          <span id="import-why" class="muted">
            {text.trim() === '' ? '' : committed && committed.text === text ? 'Imported: the report is below.'
              : !upToDate ? (checked ? 'The text changed since the check: check it again.' : 'Check the file first.')
              : blocked ? 'All or nothing: some lines are rejected.' : accepted === 0 ? 'No line can be imported.' : ''}
          </span>
        </div>
      </form>

      {committed && <Report title="Imported" report={committed.report} text={committed.text} />}
      {upToDate && !committed && <Report title="Check" report={checked.report} text={checked.text} />}
    </section>
  );
}

/** A per-line report: what was (or would be) imported, what was rejected and why. */
function Report({ title, report, text }: { title: string; report: ImportReport; text: string }) {
  const lines = useMemo(() => sourceLines(text), [text]);
  const [allRejected, setAllRejected] = useState(false);
  const [allAccepted, setAllAccepted] = useState(false);
  const rejected = allRejected ? report.rejected : report.rejected.slice(0, SHOWN);
  const accepted = allAccepted ? report.imported : report.imported.slice(0, SHOWN);
  const verb = report.dryRun ? 'would be imported' : 'imported';
  return (
    <section class="import-report" aria-labelledby="import-report-title" aria-live="polite">
      <h2 id="import-report-title">{title}: {formatCount(report.imported.length)} {verb}, {formatCount(report.rejected.length)} rejected</h2>
      {report.rejected.length > 0 && (
        <>
          <h3>Rejected lines</h3>
          <table class="table stack rejected">
            <thead><tr><th class="col-line">Line</th><th>Content</th><th>Why</th></tr></thead>
            <tbody>
              {rejected.map((r) => (
                <tr key={r.line}>
                  <td data-label="Line" class="num">{r.line}</td>
                  <td data-label="Content" class="mono">{lines[r.line - 1] ?? ''}</td>
                  <td data-label="Why" class="wrap">{r.reason}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {!allRejected && report.rejected.length > SHOWN && (
            <button type="button" class="secondary" onClick={() => setAllRejected(true)}>Show all {formatCount(report.rejected.length)} rejected lines</button>
          )}
        </>
      )}
      {report.imported.length > 0 && (
        <>
          <h3>{report.dryRun ? 'Accepted lines' : 'Imported hosts'}</h3>
          <table class="table stack accepted">
            <thead><tr><th class="col-line">Line</th><th>Name</th><th>MAC</th></tr></thead>
            <tbody>
              {accepted.map((a) => (
                <tr key={a.line}>
                  <td data-label="Line" class="num">{a.line}</td>
                  <td data-label="Name">{report.dryRun ? a.name : <a href={href('hosts', a.hostId)}>{a.name}</a>}</td>
                  <td data-label="MAC" class="mono">{a.mac}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {!allAccepted && report.imported.length > SHOWN && (
            <button type="button" class="secondary" onClick={() => setAllAccepted(true)}>Show all {formatCount(report.imported.length)} lines</button>
          )}
        </>
      )}
    </section>
  );
}
