/**
 * The child program of src/proc/bounded.ts: reads the files named on stdin one after another
 * and reports each on stdout as soon as it is read, so that the parent keeps whatever finished
 * when a read never returns. A read may sleep forever in the kernel (a /proc/PID/cmdline whose
 * mm is wedged sleeps uninterruptibly); then this process is abandoned by its parent, and that
 * is the whole point of running the reads here and not in klogscan.
 *
 * Protocol: stdin is one JSON array of paths. stdout is `ready` and then one JSON object per
 * line: `{"i":N,"data":BASE64}` or `{"i":N,"error":CODE}`. Nothing else is imported, so it
 * starts fast.
 */
import fs from 'node:fs';

function send(line: string): void {
  try {
    fs.writeSync(1, line + '\n');
  } catch {
    // The parent has gone (EPIPE): nobody wants the rest.
    process.exit(0);
  }
}

function main(): void {
  let paths: unknown;
  try {
    paths = JSON.parse(fs.readFileSync(0, 'utf8'));
  } catch {
    process.exit(2);
  }
  if (!Array.isArray(paths)) process.exit(2);
  send('ready');
  paths.forEach((p, i) => {
    try {
      const data = fs.readFileSync(String(p));
      send(JSON.stringify({ i, data: data.toString('base64') }));
    } catch (e) {
      send(JSON.stringify({ i, error: (e as NodeJS.ErrnoException).code ?? 'EIO' }));
    }
  });
}

main();
