// One indexer per EVM network as a SQLite Durable Object (named by the network, deployment-wide):
// the addresses of every org's wallets on that network, the events found for them, and the alarm
// that walks the chain every `pollIntervalMs`. A Worker restart loses nothing: the cursor, the
// events and the webhook outbox are in the object's storage, the alarm is persisted, and a read
// that finds the walk stale catches up before it answers.
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.js";
import { EvmRpc } from "../networks/evm-rpc.js";
import { networkFor } from "../networks/networks.js";
import { EvmIndexer, type BlockchainEvent, type Watch } from "./evm-indexer.js";

export class NetworkIndexer extends DurableObject<Env> {
  private indexer: EvmIndexer | null = null;
  private running: Promise<void> | null = null;

  /** Follows a wallet's address from now on (idempotent) and makes sure the walk is scheduled. */
  async watch(network: string, w: Watch): Promise<void> {
    const indexer = this.indexerFor(network);
    await indexer.watch(w);
    await this.ensureAlarm();
  }

  async history(
    network: string,
    walletId: string,
    q: { limit: number; before?: number; direction?: "In" | "Out"; kind?: string; contract?: string },
  ): Promise<{ items: BlockchainEvent[]; nextPageToken?: string }> {
    await this.catchUp(network);
    return this.indexerFor(network).history(walletId, q);
  }

  async erc20Contracts(network: string, walletId: string): Promise<string[]> {
    await this.catchUp(network);
    return this.indexerFor(network).erc20Contracts(walletId);
  }

  async nftCandidates(network: string, walletId: string): Promise<{ contract: string; tokenId: string; symbol?: string }[]> {
    await this.catchUp(network);
    return this.indexerFor(network).nftCandidates(walletId);
  }

  override async alarm(): Promise<void> {
    const network = await this.ctx.storage.get<string>("network");
    if (!network) return;
    // A wake-up in case this run is cut short; replaced below.
    await this.ctx.storage.setAlarm(Date.now() + 30_000);
    let interval = 5_000;
    try {
      const indexer = this.indexerFor(network);
      interval = networkFor(this.env, network).ok ? (networkFor(this.env, network) as { config: { pollIntervalMs: number } }).config.pollIntervalMs : 5_000;
      await this.walk(indexer);
    } catch (err) {
      console.error(`indexer ${network}:`, (err as Error).message);
    }
    await this.ctx.storage.setAlarm(Date.now() + interval);
  }

  /** A read after a pause (restart, alarm not yet fired) first reads the blocks it missed. */
  private async catchUp(network: string): Promise<void> {
    const indexer = this.indexerFor(network);
    if (indexer.watchedCount() === 0) return;
    const config = networkFor(this.env, network);
    const interval = config.ok ? config.config.pollIntervalMs : 5_000;
    const last = indexer.lastRunAt();
    if (last === null || Date.now() - last > 3 * interval) {
      try {
        await this.walk(indexer);
      } catch (err) {
        console.error(`indexer ${network}: catch-up failed:`, (err as Error).message);
      }
    }
    await this.ensureAlarm();
  }

  /** One walk at a time per object: the alarm and a catching-up read share it. */
  private async walk(indexer: EvmIndexer): Promise<void> {
    if (!this.running) {
      this.running = (async () => {
        try {
          await indexer.run();
        } finally {
          await indexer.drainOutbox(async (orgId, event) => {
            await this.env.WEBHOOKS.getByName(orgId).publish(event as never);
          });
        }
      })().finally(() => {
        this.running = null;
      });
    }
    await this.running;
  }

  private async ensureAlarm(): Promise<void> {
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + 50);
  }

  private indexerFor(network: string): EvmIndexer {
    if (this.indexer) return this.indexer;
    const config = networkFor(this.env, network);
    if (!config.ok) throw new Error(config.reason);
    void this.ctx.storage.put("network", network);
    this.indexer = new EvmIndexer({ sql: this.ctx.storage.sql, network: config.config, rpc: new EvmRpc({ urls: config.config.rpcUrls, timeoutMs: config.config.rpcTimeoutMs }) });
    return this.indexer;
  }
}

/** The indexer object of a network. */
export function indexerOf(env: Env, network: string) {
  return env.INDEXER.getByName(network);
}
