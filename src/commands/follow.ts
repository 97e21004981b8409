/** `klogscan -f FILE...`: follow mode (not written yet). */
import { UsageError } from './common.js';
import type { ScanValues } from './scan.js';

export async function followCommand(_v: ScanValues, _files: string[]): Promise<number> {
  throw new UsageError('follow mode (-f) is not available yet');
}
