// The worker thread of ReportThread: opens the SQLite file read-only and computes one report per
// request, off the daemon's event loop.
import { parentPort, workerData } from 'node:worker_threads';
import { errorMessage } from '../domain/errors.js';
import type { ReportAnswer, ReportRequest } from './report-thread.js';
import { ReportReader } from './sqlite/report-reader.js';

const { file } = workerData as { file: string };
let reader: ReportReader | null = null;

parentPort?.on('message', (req: ReportRequest) => {
  let answer: ReportAnswer;
  try {
    reader ??= ReportReader.open(file);
    answer = { id: req.id, reports: reader.reports(req.windows) };
  } catch (err) {
    reader?.close();
    reader = null;
    answer = { id: req.id, error: errorMessage(err) };
  }
  parentPort?.postMessage(answer);
});
