import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse, stringify } from 'yaml';

// The demo's Prometheus and Alertmanager configurations: the files of this directory, as a person
// would use them, with the addresses the demo chose and absolute paths.

/** `dir`/prometheus.yml with the demo's addresses. */
export async function prometheusConfig(dir: string, serviceUrl: string, alertmanagerPort: number): Promise<string> {
  const config = parse(await readFile(path.join(dir, 'prometheus.yml'), 'utf8')) as PrometheusConfig;
  config.rule_files = [path.join(dir, 'rules.yml')];
  config.alerting.alertmanagers[0]!.static_configs[0]!.targets = [`127.0.0.1:${alertmanagerPort}`];
  config.scrape_configs[0]!.static_configs[0]!.targets = [new URL(serviceUrl).host];
  return stringify(config);
}

/** `dir`/alertmanager.yml with the demo's receiver address and token file. */
export async function alertmanagerConfig(dir: string, webhookUrl: string, tokenFile: string): Promise<string> {
  const config = parse(await readFile(path.join(dir, 'alertmanager.yml'), 'utf8')) as AlertmanagerConfig;
  const webhook = config.receivers[0]!.webhook_configs[0]!;
  webhook.url = webhookUrl;
  webhook.http_config.authorization.credentials_file = tokenFile;
  return stringify(config);
}

/** The parts of prometheus.yml the demo rewrites. */
interface PrometheusConfig {
  rule_files: string[];
  alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
  scrape_configs: { static_configs: { targets: string[] }[] }[];
}

/** The parts of alertmanager.yml the demo rewrites. */
interface AlertmanagerConfig {
  receivers: { webhook_configs: { url: string; http_config: { authorization: { credentials_file: string } } }[] }[];
}
