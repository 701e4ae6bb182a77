import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import express from 'express';

/**
 * express 5 with a JSON body parser and a route that does nothing: the HTTP ceiling a webhook
 * route is compared with. Posts `body` `n` times at `concurrency`, on loopback; requests a second.
 */
export async function expressNoop(body: string, n: number, concurrency: number): Promise<number> {
  const app = express();
  app.use(express.json({ limit: '1mb' }));
  app.post('/webhook', (_req, res) => void res.status(200).send('ok'));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook`;
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < n) {
        const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        await res.arrayBuffer();
      }
    }),
  );
  const perS = (n / (performance.now() - t0)) * 1000;
  await new Promise((r) => server.close(r));
  return perS;
}
