/**
 * The offline demo's data: a "Demo" instance answered by the built-in echo agent, with one web
 * chat channel that the sample page at /demo embeds. Created on the first start only; later
 * starts find it again (by the channel's identity) and only make sure the current PUBLIC_URL may
 * embed it.
 *
 * @example
 *   const demo = await seedDemo(services);
 *   log.info(`Dashboard: ${demo.dashboardUrl}  Sample page: ${demo.pageUrl}`);
 */
import type { Services } from '../core/services.js';
import type { Principal } from '../core/principal.js';
import { identityKey } from '../core/channels.js';
import { nowIso } from '../core/clock.js';
import { Conflict } from '../errors.js';
import { originOf } from '../core/webchat.js';
import { ECHO_AGENT_URL } from './echo-agent.js';

/** The demo channel's external_identifier (provider `web`): how later starts find it. */
export const DEMO_CHANNEL_IDENTIFIER = 'switchboard-demo';

export interface DemoInfo {
  instanceId: string;
  channelId: string;
  pageUrl: string;
  dashboardUrl: string;
}

const OPERATOR: Principal = { kind: 'operator', keyId: null };

export async function seedDemo(services: Services): Promise<DemoInfo> {
  const { repos, config } = services;
  const publicOrigin = originOf(config.publicUrl) ?? config.publicUrl;
  const info = (instanceId: string, channelId: string): DemoInfo => ({
    instanceId,
    channelId,
    pageUrl: `${config.publicUrl}/demo`,
    dashboardUrl: `${config.publicUrl}/`,
  });

  const existing = await repos.channels.byIdentity(identityKey('web', DEMO_CHANNEL_IDENTIFIER));
  if (existing) {
    const cfg = JSON.parse(existing.config) as Record<string, unknown>;
    const origins = Array.isArray(cfg.allowed_origins) ? (cfg.allowed_origins as unknown[]).filter((o): o is string => typeof o === 'string') : [];
    if (!origins.includes(publicOrigin)) {
      await repos.channels.update(existing.id, { config: JSON.stringify({ ...cfg, allowed_origins: [...origins, publicOrigin] }), updated_at: nowIso() });
    }
    return info(existing.instance_id, existing.id);
  }

  const instance = await services.instances.create(OPERATOR, { name: 'Demo', agent_url: null });
  // `builtin:echo` is set directly: the demo needs no API round trip.
  await repos.instances.update(instance.id, { agent_url: ECHO_AGENT_URL, updated_at: nowIso() });
  try {
    const channel = await services.channels.create(OPERATOR, instance.id, {
      channel_type: 'web_chat',
      provider: 'web',
      external_identifier: DEMO_CHANNEL_IDENTIFIER,
      config: {
        allowed_origins: [publicOrigin],
        title: 'Switchboard demo',
        greeting: 'Hi! This chat is answered by the built-in echo agent. Say something.',
      },
      enabled: true,
    });
    return info(instance.id, channel.id);
  } catch (err) {
    // Another node seeded at the same moment and won the channel's unique identity: use theirs.
    if (!(err instanceof Conflict)) throw err;
    await repos.instances.delete(instance.id);
    return seedDemo(services);
  }
}
