/** Says loudly, once per run, when the PostgreSQL half of the suites will not run. */
export default function setup(): void {
  if (!process.env.TEST_DATABASE_URL) {
    const line = '!'.repeat(78);
    console.warn(`\n${line}\n!! PostgreSQL suites SKIPPED: TEST_DATABASE_URL is not set.\n!! Only PGlite was tested. Run e.g.\n!!   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm test\n${line}\n`);
  }
}
